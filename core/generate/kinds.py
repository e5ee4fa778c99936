"""What kind of thing a term is (a vessel, a drug, a disease, a phase...), read from the text.

A term's kind is the head noun of what the material says it is: the head of its glossary
definition ("valves located at ..." -> valve), of "X is a Y" ("a genus of bacteria" ->
bacteria), or of the phrase that names it ("protein toxins known as X" -> toxin). Without
such a sentence the term's own shape tells: a binomial is an organism, "-itis" a condition,
"-cillin" a drug, "coronary veins" a vein. Heads fall into coarse families (structure,
vessel, cell, molecule, drug, organism, condition, process, period, quantity, ...): two
options are of one kind when their families agree. The family words are the generic
category nouns definitions open with, not a list of any subject's terms.

Pure functions; `KindLexicon` is built once per material and consulted by the generator
(distractors of the key's kind) and the validators (flaw F3).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from wordfreq import zipf_frequency

from core.generate.text import STOPWORDS, clean, normalise, word_list

# Family -> the category nouns that name it when they head a definition.
_FAMILY_WORDS: dict[str, str] = {
    "structure": (
        "structure organ part region area zone wall layer membrane chamber valve septum cavity "
        "opening orifice ridge band fold sulcus groove surface extension projection feature "
        "bulge muscle bone joint gland node lobe lobule duct canal tube sphincter nerve plexus "
        "ganglion sac pouch apex border margin junction disc disk fiber fibre cord cusp flap "
        "leaflet ring passage space pyramid papilla tract organelle tooth gum lumen villus "
        "portion segment strand capsule corpuscle apparatus window slit "
        "pore notch fossa process_anatomical ligament tendon cartilage tonsil nodule follicle"
    ),
    "vessel": (
        "vessel artery vein venule arteriole capillary sinus trunk aorta circulation circuit"
    ),
    "cell": (
        "cell neuron lymphocyte leukocyte macrophage phagocyte fibroblast myocyte platelet "
        "erythrocyte granulocyte monocyte neutrophil eosinophil basophil cardiomyocyte"
    ),
    "tissue": "tissue epithelium endothelium mesothelium mucosa myocardium",
    "molecule": (
        "molecule protein enzyme hormone antibody immunoglobulin antigen toxin exotoxin "
        "endotoxin receptor compound substance chemical pigment mediator ion peptide lipid "
        "glycoprotein cytokine neurotransmitter factor chemokine complex_molecular polymer "
        "acid base salt sugar polysaccharide carbohydrate steroid nucleotide lipoprotein"
    ),
    "drug": (
        "drug medication medicine antibiotic antibacterial antimicrobial antiviral antifungal "
        "antiparasitic antihelminthic anthelmintic agent therapy treatment vaccine inhibitor "
        "analog derivative antiseptic disinfectant"
    ),
    "organism": (
        "organism bacterium microbe microorganism virus parasite fungus yeast mold worm "
        "helminth protozoan protist genus species pathogen tapeworm roundworm nematode "
        "fluke cestode trematode amoeba bacillus coccus spirochete"
    ),
    "condition": (
        "disease disorder condition infection syndrome inflammation illness cancer tumor fever "
        "lesion ulcer injury deficiency symptom sign complication intoxication poisoning "
        "failure abnormality malformation defect dysfunction infestation "
        # A finding named by what is present or lacking: "presence of glucose in the urine".
        "absence presence excess lack softening hardening enlargement narrowing thickening"
    ),
    "process": (
        "process mechanism reaction response function event movement contraction relaxation "
        "flow transport regulation formation production secretion activity stimulation "
        "depolarization repolarization conduction transmission exchange absorption "
        "digestion filtration diffusion synthesis replication division increase decrease "
        "reduction decline rise loss"
    ),
    "period": "period phase stage time interval duration cycle",
    "quantity": (
        "amount volume rate pressure output fraction level concentration measure "
        "number ratio value count percentage quantity capacity resistance force"
    ),
    "recording": "recording tracing wave segment electrocardiogram graph",
    "method": (
        "test assay technique method procedure stain examination imaging scan biopsy screening"
    ),
    "field": "field study science discipline",
    "fluid": "fluid blood plasma serum lymph mucus saliva bile urine",
    "community": "community population microbiota microbiome flora biofilm colony",
}

# A reviewer judges kind at the level the stem asks: "layer", "valve", "groove", not
# "structure". Structure heads fall into these groups of interchangeable category nouns;
# a structure head in no group ("feature", "tuft") is its own group, so only options
# defined by the same noun count as its kind.
_STRUCTURE_GROUPS: dict[str, str] = {
    "layer": "layer membrane lining coat tunic capsule sheath",
    "partition": "septum wall partition",
    "space": "chamber cavity space sac pouch lumen ventricle atrium",
    "valve": "valve cusp flap leaflet",
    "groove": "sulcus groove fissure notch fossa depression furrow pit",
    "projection": "ridge fold extension projection bulge process papilla villus crest protrusion",
    "passage": "opening orifice pore passage canal duct tube tract foramen",
    "conductor": "node ganglion plexus nerve bundle fiber fibre",
    "attachment": "tendon ligament cord band cartilage",
    "organ": "organ gland lobe lobule tonsil follicle nodule tooth gum",
    "junction": "junction disc disk",
    # "outer part of the kidney", "inner region of the kidney", "area at the base of the
    # bladder": one kind, a region of an organ, whichever of these nouns a glossary uses.
    "region": "region part area portion zone",
}
_GROUP_OF: dict[str, str] = {
    word: group for group, text in _STRUCTURE_GROUPS.items() for word in text.split()
}


def named_group(head: str) -> str:
    """The structure group a head noun is listed in ("duct" -> passage), or ""."""
    return _GROUP_OF.get(singular(head), "")


def structure_group(head: str) -> str:
    """The group of a structure's head noun ("sulci" -> groove), else the noun itself."""
    word = singular(head)
    return _GROUP_OF.get(word, word)


# Heads that only point at the noun after "of": "group of cells", "branch of the artery".
_OF_HEADS = frozenset(
    word_list(
        """
    group class family type kind form portion part piece branch cluster network
    collection bulk majority mass set pair series mass bundle one any some member
    category sort variety subset component combination division section region area
    layer tuft
    """
    )
)
# A definition saying one of these is about development, not the adult body.
_DEVELOPMENTAL = re.compile(
    r"\b(embryo|embryonic|fetal|fetus|primitive|primordial|develops? into|"
    r"will (?:eventually )?(?:become|divide|form|develop)|eventually becomes|"
    r"forms? during development|early (?:\w+ )?development)",
    re.IGNORECASE,
)
# Word shapes that say a kind with no sentence needed.
# An embedding this close to a family's centroid, and this much closer than to the next,
# guesses the family of a term the material does not define.
GUESS_MIN_COSINE = 0.3
GUESS_MARGIN = 0.05
_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("condition", re.compile(r"(itis|iasis|emia|aemia|pathy|plasia|algia|rrhea|rrhoea|penia)$")),
    ("condition", re.compile(r"(omas?|cytosis|osis|oses)$")),
    (
        "drug",
        re.compile(
            r"(cillin|mycin|micin|cycline|floxacin|azole|ovir|avir|uvir|mab|statin|pril|"
            r"sartan|olol|quine|azepam|fungin|penem|bactam|sulfonamide|amide|idine|ectin)$"
        ),
    ),
    ("cell", re.compile(r"(cytes?|blasts?|clasts?|phages?)$")),
    ("molecule", re.compile(r"(ases?|globins?|toxins?|ogens?|kinins?|tropins?)$")),
    ("organism", re.compile(r"(bacter|bacteria|coccus|cocci|bacillus|bacilli|viruses|virus)$")),
    ("recording", re.compile(r"(grams?)$")),
    ("method", re.compile(r"(graphy|scopy)$")),
    ("field", re.compile(r"(ology)$")),
)
# "-osis" also ends processes: only a family word or a definition overrules a shape.
_WEAK_SHAPES = frozenset({"osis", "oses"})
# A capitalised genus (or its initial) and a lower-case epithet: "Vibrio cholerae", "H. pylori".
BINOMIAL = re.compile(r"^(?:[A-Z][a-z]+|[A-Z]\.)\s+(?P<epithet>[a-z]{3,})$")
_LATIN_EPITHET = re.compile(r"(i|ae|us|um|is|a|es|ens|ans|ii|ica|ensis|ile|ale|oides)$")
# An epithet is a Latin word, rare in English: "Alport syndrome" is no binomial.
EPITHET_ZIPF = 2.5
GENUS_ZIPF = 4.0
LATIN_GENUS_ZIPF = 2.8


def is_binomial(text: str) -> bool:
    """ "Vibrio cholerae", "H. pylori": a capitalised genus (or its initial) and a Latin
    epithet; a written-out genus needs an epithet rare in English ("Alport syndrome")."""
    match = BINOMIAL.match(clean(text))
    if not match:
        return False
    epithet = match.group("epithet")
    initial = match.group(0)[1] == "."
    genus = match.group(0).split()[0]
    # A genus no English text uses ("Escherichia") vouches for a commoner epithet ("coli").
    latin_genus = zipf_frequency(genus.lower(), "en") < LATIN_GENUS_ZIPF
    return (
        not family_of_word(epithet)
        and (initial or zipf_frequency(epithet, "en") < EPITHET_ZIPF or latin_genus)
        # "The tunica", "Superior vena": a genus is no everyday word.
        and (initial or zipf_frequency(genus.lower(), "en") < GENUS_ZIPF)
        and bool(_LATIN_EPITHET.search(epithet))
        and not any(p.search(epithet) for _, p in _SHAPES[:2])
    )


_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_LEADING = frozenset(
    word_list(
        """
    the a an one any each either certain specific two three four five several many
    various paired single
    """
    )
)
# Words that end a noun phrase although they are no function words ("area near the head").
_PHRASE_END = frozenset(
    word_list(
        """
    near beside alongside amid around along across behind beyond inside outside toward
    towards against among whereby wherein where whereas while
    below above beneath underneath throughout via seen found made known given taken held
    built borne called termed
    """
    )
)
# Heads too generic to name a kind when a modifier names one ("antiviral compound").
_GENERIC_SUBSTANCES = frozenset(word_list("compound substance agent molecule chemical"))
# Molecule heads that other molecule kinds belong to (an enzyme is a protein).
_BROAD_MOLECULES = frozenset(word_list("protein peptide polymer complex factor mediator"))
# Molecules that are never proteins: a pigment or an ion offered for "the plasma protein
# that ..." is ruled out by kind, though "protein" is broad.
_NOT_PROTEINS = frozenset(word_list("ion salt acid base sugar lipid pigment"))
_PROTEINS = frozenset(word_list("protein peptide"))
# "develops into the right ventricle": the definition names what the term becomes.
_BECOMES = re.compile(
    r"^(?:develops?|forms?|becomes?|gives? rise to|divides?)\s+(?:into\s+)?(?P<rest>.+)$",
    re.IGNORECASE,
)
# A first modifier, a comma, and a second modifier before the noun ("broad-spectrum,
# bacteriostatic drugs"); the comma is dropped before the phrase is cut at commas.
_COORDINATE_MODIFIERS = re.compile(
    r"^(?P<first>(?:(?:the|a|an)\s+)?[a-z][a-z-]+),"
    r"(?=\s+(?!(?:the|a|an|and|or|which|that)\b)[a-z][a-z-]+\s+(?!(?:and|or)\b)[a-z])",
    re.IGNORECASE,
)
# A phrase that opens with a list of two or more nouns joined by "and"/"or".
_LIST = re.compile(
    r"^(?:(?:the|a|an)\s+)?[\w-]+(?:\s+[\w-]+){0,2}(?:,\s+[\w-]+(?:\s+[\w-]+){0,2})+,?"
    r"\s+(?:and|or)\s",
    re.IGNORECASE,
)
_OF_LIST = re.compile(r"\bof\s+" + _LIST.pattern.removeprefix("^"), re.IGNORECASE)
# Definition openers that are not the thing itself ("in the cardiovascular system, a ...").
_FRAME = re.compile(r"^(?:in|within|during|for) [^,]{1,60}, ", re.IGNORECASE)


def singular(word: str) -> str:
    w = word.lower()
    irregular = {
        "bacteria": "bacterium",
        "fungi": "fungus",
        "cocci": "coccus",
        "bacilli": "bacillus",
        "villi": "villus",
        "septa": "septum",
        "atria": "atrium",
        "protozoa": "protozoan",
        "species": "species",
        "genera": "genus",
        "media": "medium",
        "criteria": "criterion",
        "phenomena": "phenomenon",
        "alveoli": "alveolus",
        "nuclei": "nucleus",
        "series": "series",
    }
    if w in irregular:
        return irregular[w]
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 4 and w.endswith(("ches", "shes", "sses", "xes")):
        return w[:-2]
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is", "ics")):
        return w[:-1]
    if len(w) > 4 and w.endswith("ae"):
        return w[:-1]
    return w


_FAMILY_OF: dict[str, str] = {
    singular(word): family
    for family, text in _FAMILY_WORDS.items()
    for word in text.split()
    if "_" not in word
}


def family_nouns(family: str) -> tuple[str, ...]:
    """The category nouns that name a family ("vessel" -> artery, vein, ...)."""
    return tuple(word for word, named in _FAMILY_OF.items() if named == family)


def family_of_word(word: str) -> str:
    """The family a category noun names ("valves" -> structure), or "" when it names none."""
    return _FAMILY_OF.get(singular(word), "")


# Category nouns of one family that never name the same thing: an artery is never a vein, a
# nerve never a muscle. Shape words ("ridge", "band", "trunk", "sinus") are left out: a
# ridge may be muscle, a trunk an artery.
_EXCLUSIVE_GROUPS = (
    frozenset(word_list("artery arteriole capillary venule vein")),
    frozenset(word_list("muscle bone nerve ligament tendon cartilage gland")),
)


def exclusive_kinds(a: str, b: str) -> bool:
    """Whether category nouns `a` and `b` name things that cannot be one ("vein", "artery")."""
    a, b = singular(a), singular(b)
    return a != b and any(a in group and b in group for group in _EXCLUSIVE_GROUPS)


def name_head(name: str) -> str:
    """The last word of a name, singular, brackets left out ("coronary arteries" -> artery)."""
    found = re.findall(r"[A-Za-z]+", re.sub(r"\([^)]*\)", " ", name))
    return singular(found[-1]) if found else ""


def kind_named(name: str) -> str:
    """The exclusive category noun a name ends in ("middle cardiac vein" -> vein), or ""."""
    last = name_head(name)
    return last if any(last in group for group in _EXCLUSIVE_GROUPS) else ""


def shape_family(term: str) -> tuple[str, bool]:
    """(family, strong) from a term's own shape: binomial, suffix, or its last word."""
    text = clean(re.sub(r"\s*\([^)]*\)", "", term))
    if is_binomial(text):
        return "organism", True
    words = _WORD.findall(text)
    if not words:
        return "", False
    last = words[-1].lower()
    if len(words) > 2:
        last = head_of(text) or last
    named = family_of_word(last)
    if named:
        return named, True
    for family, pattern in _SHAPES:
        # A class in the plural has its members' shape ("tetracyclines").
        match = pattern.search(last) or pattern.search(singular(last))
        if match and len(match.string) > len(match.group(1)) + 2:
            return family, match.group(1) not in _WEAK_SHAPES
    return "", False


@dataclass(frozen=True)
class Kind:
    """What a term is: the head noun it is defined by, its family, and whether it is about
    development (an embryonic structure is another kind than an adult one)."""

    head: str = ""
    family: str = ""
    developmental: bool = False
    # Read from a sentence of the material (True) or guessed from the term's shape (False).
    from_text: bool = False

    @property
    def known(self) -> bool:
        return bool(self.family)


def head_of(phrase: str, follow_of: bool = True) -> str:
    """The head noun of a noun phrase that opens a definition or a stem's ask.

    "valves located between the atria" -> "valve"; "group of specialized conducting cells
    that ..." -> "cell"; "the amount of blood in ..." -> "amount".
    """
    text = _FRAME.sub("", clean(phrase))
    # "a large, thin-walled vein": a comma between two modifiers stays inside the phrase.
    text = _COORDINATE_MODIFIERS.sub(r"\g<first>", text)
    if _LIST.match(text):
        return ""  # "cells, tissues, and organs that ...": several kinds, no one head
    # "network of lymphatic vessels, lymph nodes, and ducts" is a network.
    of_list = bool(_OF_LIST.search(text))
    text = re.split(r"[;:,]", re.sub(r"\([^)]*\)", " ", text))[0]
    tokens = _WORD.findall(text)
    i = 0
    while i < len(tokens) and tokens[i].lower() in _LEADING:
        i += 1
    run: list[str] = []
    for position, token in enumerate(tokens[i:], start=i):
        lower = token.lower()
        if lower in {"or", "and"} and run and not family_of_word(run[-1]):
            continue  # "upper or receiving chamber": still one noun phrase
        if (lower in STOPWORDS and lower != "of") or lower in _PHRASE_END:
            break
        following = tokens[position + 1].lower() if position + 1 < len(tokens) else ""
        # A participle opening a clause ends the phrase ("valves located at"); inside the
        # phrase it is a modifier ("pumping chambers", "conducting cells").
        participle = lower.endswith(("ed", "ing")) and not family_of_word(lower)
        if run and participle and (not following or following in STOPWORDS):
            break
        # After a noun of a known kind a participle opens its clause ("vessels containing
        # unique endothelial cells" are vessels, not cells).
        if run and participle and family_of_word(singular(run[-1])):
            break
        if lower == "of":
            head = singular(run[-1]) if run else ""
            if follow_of and not of_list and (head in _OF_HEADS or not head):
                inner = head_of(" ".join(tokens[position + 1 :]))
                # "group of cells" is a cell; "portion of the heart" stays a portion.
                if inner and (family_of_word(inner) or not head):
                    return inner
            break
        run.append(token)
        if len(run) >= 6:
            break
    return singular(run[-1]) if run else ""


_ABNORMAL = re.compile(
    r"\b(?:excessive|excess|abnormal(?:ly)?|below-normal|above-normal|insufficient|"
    r"inadequate|deficient|impaired|uncontrolled|defective)\b",
    re.IGNORECASE,
)


def kind_from_definition(definition: str, term: str = "") -> Kind:
    """The kind a definition gives its term (its head noun's family, else the term's shape)."""
    becomes = _BECOMES.match(clean(definition))
    if becomes:
        # What a structure develops into is its kind, as an embryonic precursor.
        kind = kind_from_definition(becomes.group("rest"))
        return Kind(kind.head, kind.family, True, from_text=True)
    head = head_of(definition)
    family = family_of_word(head) if head else ""
    if head in _GENERIC_SUBSTANCES:
        # "synthetic antimicrobial compound": the modifier says which kind of compound.
        lead = _WORD.findall(clean(definition).split(head)[0])
        modifiers = [family_of_word(w) for w in lead if family_of_word(w)]
        family = modifiers[-1] if modifiers else family
    if family == "process" and _ABNORMAL.search(clean(definition).split(head)[0]):
        # "below-normal production of leukocytes", "excessive clot formation": a process
        # gone wrong is a condition, offered beside disorders, not beside processes.
        family = "condition"
    if not family:
        family, _ = shape_family(head) if head else ("", False)
    if not family and term:
        family, strong = shape_family(term)
        if not strong:
            family = ""
    developmental = bool(_DEVELOPMENTAL.search(definition) or _DEVELOPMENTAL.search(term))
    return Kind(head, family, developmental, from_text=True)


def kind_from_shape(term: str) -> Kind:
    family, strong = shape_family(term)
    developmental = bool(_DEVELOPMENTAL.search(term))
    return Kind(
        singular((_WORD.findall(term) or [""])[-1]), family if strong else "", developmental
    )


# "protein toxins known as bacteriocins", "a condition called colitis".
_NAMED_AS = re.compile(
    r"(?P<np>(?:[A-Za-z][\w-]*\s+){0,3}[A-Za-z][\w-]*),?\s+(?:also\s+)?"
    r"(?:called|known as|referred to as|termed)\s+(?:the\s+|an?\s+|a\(n\)\s+)?(?P<term>"
    r"[A-Za-z][\w'’-]*(?:\s+[\w'’-]+){0,3})"
)
# "X is a genus of ...", "X are protozoan parasites that ...".
_IS_A = re.compile(
    r"^(?:the\s+)?(?P<term>[A-Za-z][\w'’ -]{1,60}?)\s+(?:is|are)\s+(?:a|an|the|one of the)\s+"
    r"(?P<rest>.+)$",
    re.IGNORECASE,
)


# Words that open a predicate which is no category ("are also", "are often thought").
_NOT_CATEGORY_START = frozenset(word_list("the a an one also not often thought used"))


def bare_category(predicate: str) -> str:
    """ "broad-spectrum, bacteriostatic drugs that block ..." -> "broad-spectrum bacteriostatic
    drugs that block ...": a predicate naming a plural category noun without an article, with
    the commas between its modifiers dropped; "" when the predicate opens otherwise (a verb,
    an adverb, an adjective alone: "are particularly active against ...")."""
    words = predicate.split()
    if not words or words[0].lower() in _NOT_CATEGORY_START:
        return ""
    for position, word in enumerate(words[:5]):
        bare = word.strip(",").lower()
        if bare.endswith("ly") or bare in STOPWORDS or (position == 0 and bare.endswith("ed")):
            return ""
        if bare.endswith("s") and family_of_word(bare):
            modifiers = [w.strip(",") for w in words[:position]]
            return " ".join([*modifiers, *words[position:]])
    return ""


# "Macrolides are broad-spectrum, bacteriostatic drugs that ..." (read with bare_category).
_ARE = re.compile(r"^(?:the\s+)?(?P<term>[A-Za-z][\w'’ -]{1,60}?)\s+are\s+(?P<rest>.+)$", re.I)


@dataclass
class KindLexicon:
    """Kinds of the terms of one material, read from its glossary and sentences."""

    kinds: dict[str, Kind] = field(default_factory=dict)
    # Families guessed from embeddings for terms no sentence defines.
    guessed: dict[str, Kind] = field(default_factory=dict)
    _centroids: tuple[list[str], Any] | None = field(default=None, repr=False)

    def add(self, term: str, kind: Kind) -> None:
        name = normalise(term)
        if not name or not kind.known:
            return
        # A glossary definition (added first) outranks a sentence read later.
        self.kinds.setdefault(name, kind)

    def of(self, term: str) -> Kind:
        """The material's kind of a term, else its shape's, else a guess, else unknown."""
        stated = self.stated(term)
        return stated if stated.known else self.guessed.get(normalise(term), stated)

    def stated(self, term: str) -> Kind:
        """The kind the material or the term's own shape states (never an embedding guess):
        what a key's kind must be before distractors are promised to match it."""
        name = normalise(term)
        found = self.kinds.get(name) or self.kinds.get(normalise(_strip_abbreviation(term)))
        return found if found is not None else kind_from_shape(term)

    async def guess_unknown(self, terms: Iterable[str], embedder: Any) -> None:
        """Gives terms the material does not define the family their embedding is nearest
        to (a guess, used only against a kind the text gave: two guesses never disagree)."""
        unknown = list(dict.fromkeys(t for t in terms if not self.stated(t).known))
        if not unknown:
            return
        if self._centroids is None:
            families = list(_FAMILY_WORDS)
            vectors = []
            for family in families:
                words = [w for w in _FAMILY_WORDS[family].split() if "_" not in w]
                embedded = await embedder.embed(words)
                centroid = embedded.mean(axis=0)
                vectors.append(centroid / max(float(np.linalg.norm(centroid)), 1e-9))
            self._centroids = (families, np.vstack(vectors))
        families, centroids = self._centroids
        embedded = await embedder.embed(unknown)
        scores = embedded @ centroids.T
        for term, row in zip(unknown, scores, strict=True):
            order = np.argsort(-row)
            best, second = float(row[order[0]]), float(row[order[1]])
            if best >= GUESS_MIN_COSINE and best - second >= GUESS_MARGIN:
                self.guessed[normalise(term)] = Kind(
                    singular((_WORD.findall(term) or [""])[-1]), families[int(order[0])]
                )

    def read_sentences(self, sentences: Iterable[str], terms: Iterable[str] = ()) -> None:
        """Learns kinds from "NP called X" and "X is a NP" sentences."""
        known = {normalise(t) for t in terms}
        for sentence in sentences:
            for match in _NAMED_AS.finditer(sentence):
                head = head_of(match.group("np"))
                family = family_of_word(head)
                if not family:
                    continue
                name = _name_prefix(match.group("term"), known)
                if name:
                    developmental = bool(_DEVELOPMENTAL.search(sentence))
                    self.add(name, Kind(head, family, developmental, from_text=True))
            is_a = _IS_A.match(clean(sentence)) or _ARE.match(clean(sentence))
            if is_a:
                rest = is_a.group("rest")
                if is_a.re is _ARE and not (rest := bare_category(rest)):
                    continue
                kind = kind_from_definition(rest)
                name = _name_prefix(is_a.group("term"), known)
                if name and kind.known and kind.head:
                    self.add(name, kind)


def _strip_abbreviation(term: str) -> str:
    return clean(re.sub(r"\s*\([^)]*\)", "", term))


def _name_prefix(text: str, known: set[str]) -> str:
    """The known term a phrase starts with ("villi that line ..." -> "villi"), else its
    first word when it is the whole name."""
    words = normalise(text).split()
    for size in range(min(len(words), 4), 0, -1):
        candidate = " ".join(words[:size])
        # "interstitial fluid hydrostatic pressure is ..." is about a pressure: the words
        # after a known name must open a clause, not go on naming something longer.
        if candidate in known and (size == len(words) or words[size] in STOPWORDS):
            return candidate
    if words and len(words) <= 2 and not known:
        return " ".join(words)
    return ""


def build_lexicon(
    definitions: Mapping[str, str], sentences: Iterable[str] = (), terms: Iterable[str] = ()
) -> KindLexicon:
    """A lexicon from glossary definitions (term -> definition) and body sentences."""
    lexicon = KindLexicon()
    for term, definition in definitions.items():
        lexicon.add(term, kind_from_definition(definition, term))
    lexicon.read_sentences(sentences, [*definitions, *terms])
    return lexicon


def same_kind(a: Kind, b: Kind, *, by_group: bool = False) -> bool | None:
    """True/False when both kinds are known; None when either is not (no judgement). `a` is
    the key's kind, `b` an option's.

    `by_group` also splits structures by group (a layer is not a groove). The generator asks
    that much of its own distractors; the validator does not, because the human grader
    accepted a chamber and a cavity beside a layer in one item of the graded set."""
    if not a.known or not b.known:
        return None
    if a.family != b.family:
        # Two guesses from word shape alone are too weak to call a mismatch.
        return None if not (a.from_text or b.from_text) else False
    by_text = a.from_text or b.from_text
    # Embryonic structures are one kind (precursors): "portion of the heart tube", "strand".
    embryonic = a.developmental and b.developmental
    grouped = by_group and a.family == "structure" and a.head and b.head and by_text
    grouped = grouped and not embryonic
    if grouped and structure_group(a.head) != structure_group(b.head):
        return False
    # An enzyme beside hormones is the odd one out; a "substance" may be either.
    specific = [h for h in (a.head, b.head) if family_of_word(h) == "molecule"]
    specific = [h for h in specific if h not in _GENERIC_SUBSTANCES | _BROAD_MOLECULES]
    if by_group and a.family == "molecule" and by_text and len(set(specific)) == 2:
        return False
    heads = {a.head, b.head}
    if by_group and a.family == "molecule" and heads & _PROTEINS and heads & _NOT_PROTEINS:
        return False
    # Asked for an antibody, a plain "protein" is ruled out by the question (the first kind
    # is the key's: a protein asked for may well be offered an enzyme).
    if by_group and a.family == "molecule" and specific == [a.head] and b.head in _PROTEINS:
        return False
    # Development is judged only where the material said it (a shape cannot tell).
    return not (a.from_text and b.from_text and a.developmental != b.developmental)
