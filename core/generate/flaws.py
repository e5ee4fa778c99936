"""Item-writing flaw detectors: the rubric codes of the human-graded set, as rules.

Each detector is a pure function of one item and what the material says (a `KindLexicon`,
the words the material only writes after a genus, the book's own questions); it returns
what it found so a run can count it and a reader can see why. The codes are those of
../shared/data/quality/README.md (after the NBME item-writing guide):

F1 lead-in not a focused question · F3 implausible or off-kind distractor · F4 cue from
stem to key · F7 copy of the book's questions · F8 broken text · F9 answerable from the stem.

bench/eval.py scores every detector against the human grades and runs them on real board
items (MedQA), which must nearly all pass: a detector that rejects good items is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from wordfreq import zipf_frequency

from core.generate.kinds import (
    Kind,
    KindLexicon,
    exclusive_kinds,
    family_nouns,
    family_of_word,
    head_of,
    is_binomial,
    kind_named,
    name_head,
    named_group,
    same_kind,
    singular,
)
from core.generate.terms import looks_plural
from core.generate.text import (
    BLANK,
    STOPWORDS,
    clean,
    contains_phrase,
    content_words,
    normalise,
    word_list,
)

# Words of the lead-in formula itself: never a cue.
_LEAD_IN_WORDS = frozenset(
    word_list(
        """
    following best defines defined describes term terms likely cause diagnosis correct
    statement answer option options question called known refers
    """
    )
)
# Prefixes many unrelated words share: a shared "inter-" is no shared root.
_PREFIXES = word_list(
    """
    inter intra hyper hypo trans super supra infra peri endo epi para anti poly mono
    micro macro extra semi sub pre post multi pseudo retro contra counter over under non
    """
)
# Suffixes stripped before roots are compared: "regulation"/"circulation" share no root.
_SUFFIXES = sorted(
    word_list(
        """
    ations ation itions ition izations ization ional ular ulars ally ness ment ments
    ings ing ed es ity ities ous ive ic ics al ar um us ia ae a s y ies ium ial ior
    """
    ),
    key=len,
    reverse=True,
)
MIN_ROOT_CHARS = 4
# Shorter words are cues only when this rare and at least this long.
SHORT_CUE_ZIPF = 3.2
SHORT_CUE_CHARS = 3
# A stem longer than this (words) with several sentences is a case: only its question counts.
CASE_WORDS = 40
# Words this common in English (Zipf) cue nothing ("second", "hour", "action").
EVERYDAY_ZIPF = 5.0
# In a case's question sentence only a rare word is a cue ("glucose" there is a finding).
CASE_EVERYDAY_ZIPF = 3.0
# An everyday word echoed whole by a short key name and by no distractor still points at it
# ("... surface of the heart?" -> "heart bulge"), unless it is among the commonest words.
ECHO_ZIPF = 5.8
ECHO_KEY_WORDS = 4
MIN_SHARED_CHARS = 4
# A stem word this long written inside a longer key word ("effect" in "effector") cues it.
MIN_CONTAINED_CHARS = 5
# A key this much longer than every distractor (both margins) stands out as the key.
LONG_KEY_RATIO = 1.7
LONG_KEY_EXTRA_CHARS = 25
# Among definitions of one kind a key this much longer reads as the careful, right one: the
# grader marked keys a quarter longer than every other definition (and 20+ characters).
LONG_DEFINITION_RATIO = 1.2
LONG_DEFINITION_EXTRA_CHARS = 20
# Content words of one of the book's own questions this fully inside an item copy it.
COPY_CONTAINMENT = 0.8
MIN_COPY_WORDS = 5
# ... and those shared words are at least this share of the stem's own.
COPY_STEM_SHARE = 0.5
# An item whose answer is among a book question's options copies it when it says this share
# of the question's words: the same fact asked again, however reworded.
KEYED_COPY_SHARE = 0.5

# Greek and Latin word parts and the plain words that gloss them: a stem that says the
# gloss ("inflammation of the colon") spells a key built from the part ("colitis"), and a
# definition that says it ("pigment giving urine its color") is spelled by the term asked
# ("urochrome"). A part written "acro-" must open a word, "-ogen" must end one; a bare part
# may sit anywhere in it. These are the textbook word parts of medical terminology, not words
# of any one chapter.
_ROOT_GLOSSES: dict[str, tuple[str, ...]] = {
    "-itis": ("inflammation", "inflamed"),
    "emia": ("blood",),
    "gastr": ("stomach", "gastric"),
    "enter": ("intestine", "intestinal", "intestines", "bowel"),
    "col": ("colon",),
    "hepat": ("liver",),
    "nephr": ("kidney", "kidneys"),
    "card": ("heart",),
    "gingiv": ("gum", "gums"),
    "stomat": ("mouth", "oral"),
    "derm": ("skin",),
    "oste": ("bone", "bones"),
    "myo": ("muscle", "muscles", "muscular"),
    "neur": ("nerve", "nerves"),
    "pneum": ("lung", "lungs", "air"),
    "pulmon": ("lung", "lungs"),
    "cyt": ("cell", "cells"),
    "electro": ("electrical", "electric"),
    "gram": ("recording", "record", "tracing"),
    "graph": ("recording", "record", "tracing", "imaging"),
    "oxy": ("oxygen",),
    "brady": ("slow",),
    "tachy": ("fast", "rapid"),
    "algia": ("pain",),
    "dys": ("difficult", "painful", "abnormal"),
    "hyper": ("excess", "excessive", "elevated", "overproduction", "high"),
    "hypo": ("deficient", "deficiency", "low", "below"),
    "lysis": ("breakdown", "destruction", "dissolving"),
    "thromb": ("clot", "clotting"),
    "angi": ("vessel", "vessels"),
    "vas": ("vessel", "vessels"),
    "ven": ("vein", "veins"),
    "arteri": ("artery", "arteries"),
    "lip": ("fat", "fats"),
    "glyc": ("sugar", "glucose"),
    "gluc": ("sugar", "glucose"),
    "hem": ("blood", "bloody", "bleeding", "bleed"),
    "haem": ("blood", "bloody", "bleeding", "bleed"),
    "ren": ("kidney", "kidneys"),
    "cerebr": ("brain",),
    "encephal": ("brain",),
    "ot-": ("ear",),
    "ophthalm": ("eye", "eyes"),
    "rhin": ("nose", "nasal"),
    "dent": ("tooth", "teeth"),
    "odont": ("tooth", "teeth"),
    "hepa": ("liver",),
    "megaly": ("enlarged", "enlargement"),
    "penia": ("deficiency", "low"),
    "rrhea": ("discharge", "flow"),
    "tox": ("poison", "poisonous", "toxic"),
    "lact": ("milk",),
    "uria": ("urine",),
    "uro-": ("urine", "urinary"),
    "diure": ("urine", "water"),
    "erythr": ("red",),
    "leuk": ("white",),
    "melan": ("dark", "black"),
    "chol": ("bile",),
    "chrom": ("color", "colour"),
    "trigon": ("triangle",),
    "phren": ("diaphragm",),
    "thorac": ("chest",),
    "pector": ("chest",),
    "cost": ("rib", "ribs"),
    "crani": ("skull",),
    "cephal": ("head",),
    "acro-": ("extremities", "hands", "feet"),
    "-ogen": ("inactive", "precursor"),
    "mineral": ("electrolyte", "electrolytes", "salt", "salts"),
    "calc": ("calcium", "ca"),
    "natr": ("sodium",),
    "kalem": ("potassium",),
    "circulat": ("flow",),
    "continen": ("control",),
    "dwarf": ("retardation", "stunted", "short"),
    "gigant": ("giant", "tall"),
    "hydr": ("water",),
    "aqu": ("water",),
    "phag": ("eating", "engulf", "engulfing", "ingest", "ingesting"),
    "troph": ("nourishment", "growth"),
    "poie": ("production", "producing", "formation"),
    "genesis": ("formation", "production", "origin"),
    "stasis": ("stable", "steady", "balance", "stop", "stops", "ceases", "halt"),
    "-stat": ("stable", "steady"),
    "febr": ("fever",),
    "pyr": ("fever",),
    "noct": ("night",),
    "mamm": ("breast",),
}
# A sentence ends at . ? or ! (a closing quote or bracket may follow) before a space.
_SENTENCE_BREAK = re.compile(r"(?<=[.?!])\s+|(?<=[.?!][\"”’')])\s+")
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]{1,5}s?\b")
# "Insulin (beta cells)": the name without what the brackets add.
_PARENTHESIS = re.compile(r"\s*\([^)]*\)")
_PAREN_ABBREVIATION = re.compile(r"\(([A-Z][A-Za-z0-9-]{1,7})\)")
_ANTECEDENT = re.compile(
    r"\b(?:this|these|those|such)\s+(?!patient|woman|man|child|infant|boy|girl|person|"
    r"individual|study|question|item|following|morning|evening|time|visit|year|week|month|"
    r"day|point)[a-z]+",
    re.IGNORECASE,
)
# "... the capillary network that follows that arteriole?": a demonstrative "that" closing
# the sentence on a noun, cut from the sentence that named the arteriole.
_CLOSING_THAT = re.compile(r"\bthat\s+(?P<noun>[A-Za-z]+)\s*(?:[?.;]|$)")
# "the precursor to angiotensin, mentioned earlier": the book's own cross-reference back
# ("labs are shown below" points inside the stem itself).
_CROSS_REFERENCE = re.compile(
    r"\b(?:(?:mentioned|described|discussed|noted|shown|seen|defined|explained)\s+"
    r"(?:earlier|above|previously|before)|as (?:noted|mentioned|described)"
    r"(?: earlier| above| previously)?|see above)\b",
    re.IGNORECASE,
)
_OPEN_LEAD_IN = re.compile(
    r"\bwhich of the following (?:is|are) (?:an? )?(?:example|part|member|component|one) of\b",
    re.IGNORECASE,
)
_LEAD_IN = re.compile(
    r"\bwhich of the following (?:terms? )?(?:best )?(?:is|are|defines|describes)\s+"
    r"(?:(?:the|a|an)\s+)?(?P<asked>[^?]+)\?",
    re.IGNORECASE,
)
_BEST_DEFINES = re.compile(r"\bbest (?:defines|describes)\b", re.IGNORECASE)
# The term a "best defines" stem quotes: every word of it is the student's only clue.
_DEFINED_TERM = re.compile(
    r"\bbest (?:defines|describes)\s+[\"“'‘](?P<term>[^\"”'’]+)[\"”'’]", re.IGNORECASE
)
_ADJECTIVE_END = re.compile(r"(al|ar|ic|ous|ive|ary|borne|ed|ing|ant|ent|ile)$")
# A short lower-case option is a name (a board item's "Administer a beta-blocker" is not);
# an article inside it ("digital veins drain the digits") is the
# start of the definition the glossary printed beside it. "loop of the nephron" is a name.
MAX_NAME_WORDS = 5
_RUN_ON = re.compile(r"^[a-z]\S*(?: \S+)*? (?<!\bof )(?:the|a|an) \w")
# "sigmoid sinuses enlarged": a participle that ended the glossary line, not the name.
_PARTICIPLE_END = re.compile(r"(?<![-\w])[a-z]{3,}ed$")
_FILLER = re.compile(r"is another term from this material|does not fit here", re.IGNORECASE)
# Generic hypernyms: an option that is only one of these fits many keys at once.
_CATEGORY_HEADS = frozenset(
    word_list(
        """
    pathogen microbe microorganism organism illness disease disorder condition drug
    agent lesion infection bacterium virus parasite substance problem complication
    """
    )
)


# Heads that name a whole family or a part of anything: no sibling contradicts them.
_GENERIC_HEADS = frozenset(
    word_list(
        """
    structure vessel cell tissue molecule drug organism condition process period quantity
    recording method field fluid community part region area portion segment branch
    """
    )
)


@dataclass(frozen=True)
class BookQuestion:
    """One of the book's own questions: its meaningful words, and its printed options
    (normalised; none for a fill-in or critical-thinking question)."""

    words: frozenset[str]
    options: frozenset[str] = frozenset()


@dataclass(frozen=True)
class FlawContext:
    """What the detectors may consult beyond the item: the material's kinds and words."""

    lexicon: KindLexicon = field(default_factory=KindLexicon)
    # Lower-case words the material writes after a capitalised genus ("pylori", "lamblia").
    epithets: frozenset[str] = frozenset()
    # Words the material only ever writes before another word ("columnar", "foodborne").
    modifiers: frozenset[str] = frozenset()
    # Each of the book's own questions (review, fill-in, critical thinking).
    book_questions: Sequence[BookQuestion] = ()


def _root(word: str) -> str:
    w = word.lower()
    for suffix in _SUFFIXES:
        if w.endswith(suffix) and len(w) - len(suffix) >= MIN_ROOT_CHARS:
            return w[: -len(suffix)]
    return w


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _longest_common(a: str, b: str) -> int:
    best = 0
    for i in range(len(a)):
        for j in range(i + best + 1, len(a) + 1):
            if a[i:j] in b:
                best = j - i
            else:
                break
    return best


def shares_root(a: str, b: str) -> bool:
    """Whether two words share a meaningful root ("atria"/"atrium", "cysts"/"cysticercosis",
    "epithelial"/"mesothelium"), not just a prefix like "inter-" or a suffix like "-ation"."""
    a, b = a.lower(), b.lower()
    if len(a) < MIN_ROOT_CHARS or len(b) < MIN_ROOT_CHARS:
        return False
    if a == b:
        return True
    ra, rb = _root(a), _root(b)
    if ra == rb:
        return True
    prefix = _common_prefix(ra, rb)
    shorter = min(len(ra), len(rb))
    if (prefix >= MIN_SHARED_CHARS or prefix == shorter) and not _only_prefix(ra[:prefix]):
        return True
    if min(len(ra), len(rb)) >= MIN_SHARED_CHARS:
        shared = _longest_common(ra, rb)
        if shared >= MIN_SHARED_CHARS and shared >= 0.55 * min(len(ra), len(rb)):
            return True
    return False


def _only_prefix(shared: str) -> bool:
    """Whether what two words share is just a common prefix ("inter", "hyper" + a letter)."""
    return any(shared.startswith(p) and len(shared) - len(p) < 3 for p in _PREFIXES)


def _option_words(option: str) -> list[str]:
    return [w for w in re.findall(r"[a-z][a-z'-]*", clean(option).lower()) if len(w) >= 3]


def is_case(stem: str) -> bool:
    """A clinical case (several sentences of findings, then the question)."""
    text = clean(stem)
    return len(_SENTENCE_BREAK.split(text)) > 1 and len(text.split()) > CASE_WORDS


def _words_and_parts(text: str) -> list[str]:
    """The words of a text, and the parts of each hyphenated one: "thyroid-stimulating"
    holds "thyroid", which a definition may repeat."""
    found = []
    for word in re.findall(r"[A-Za-z][A-Za-z'-]*", text):
        found.append(word)
        if "-" in word.strip("-"):
            found.extend(part for part in word.split("-") if part)
    return found


def _cue_words(stem: str) -> list[str]:
    """The stem words that could cue a key: of a case, only its question sentence (a case's
    findings are meant to point at the answer); everyday words never count."""
    text = BLANK.sub(" ", clean(stem))
    parts = _SENTENCE_BREAK.split(text)
    everyday = EVERYDAY_ZIPF
    if is_case(stem):
        text = next((p for p in reversed(parts) if "?" in p), parts[-1])
        everyday = CASE_EVERYDAY_ZIPF
    # A word of a quoted term counts however everyday it is: "cardiogenic area" echoed by
    # "area near the head of the embryo ..." singles out the key all the same.
    defined = _DEFINED_TERM.search(text)
    quoted = {w.lower() for w in re.findall(r"[A-Za-z]+", defined["term"])} if defined else set()
    found = []
    for word in _words_and_parts(text):
        lower = word.lower()
        short = len(lower) < MIN_ROOT_CHARS
        # A short rare word ("fas" of "fas ligand") is a name, not a root of many words.
        if short and (
            len(lower) < SHORT_CUE_CHARS or zipf_frequency(lower, "en") >= SHORT_CUE_ZIPF
        ):
            continue
        if lower in STOPWORDS or lower in _LEAD_IN_WORDS:
            continue
        if zipf_frequency(lower, "en") >= everyday and lower not in quoted:
            continue
        found.append(lower)
    return list(dict.fromkeys(found))


def word_cue(stem: str, options: Sequence[str], key_index: int) -> str | None:
    """A stem word whose root reappears in the key and in no distractor (F4), or None."""
    key_words = _option_words(options[key_index])
    others = [_option_words(o) for i, o in enumerate(options) if i != key_index]
    for word in _cue_words(stem):
        alike = _same_word if len(word) < MIN_ROOT_CHARS else shares_root
        in_key = [k for k in key_words if alike(word, k)]
        if not in_key:
            continue
        if any(alike(word, w) for ow in others for w in ow):
            # A distractor of the same root ("lymphoid") still leaves the key alone in
            # repeating the very word ("lymphatics" -> "lymphatic trunks").
            if any(_same_word(word, k) for k in key_words) and not any(
                _same_word(word, w) for ow in others for w in ow
            ):
                return f"'{word}' in the stem and in the key only"
            continue
        return f"'{word}' in the stem, '{in_key[0]}' in the key only"
    return None


def echo_cue(stem: str, options: Sequence[str], key_index: int) -> str | None:
    """An everyday stem word that a short key name repeats whole and no distractor does
    (F4): "the prominent feature on the surface of the heart" -> "heart bulge"."""
    key_words = _option_words(options[key_index])
    if not key_words or len(key_words) > ECHO_KEY_WORDS:
        return None
    other_words = [w for i, o in enumerate(options) if i != key_index for w in _option_words(o)]
    text = BLANK.sub(" ", clean(stem))
    for word in dict.fromkeys(w.lower() for w in re.findall(r"[A-Za-z][A-Za-z'-]*", text)):
        if word in STOPWORDS or word in _LEAD_IN_WORDS or len(word) < MIN_ROOT_CHARS:
            continue
        if zipf_frequency(word, "en") >= ECHO_ZIPF:
            continue
        if any(_same_word(word, k) for k in key_words) and not any(
            _same_word(word, w) for w in other_words
        ):
            return f"'{word}' in the stem and in the key's name only"
    return None


def contained_cue(stem: str, options: Sequence[str], key_index: int) -> str | None:
    """A stem word written whole inside a longer word of the key and of no distractor (F4):
    "hemoglobin" in "deoxyhemoglobin", "pepsin" in "pepsinogen". An everyday word counts only
    after a prefix ("placement" is no "place", but "misplace" is)."""
    key_words = _option_words(options[key_index])
    other_words = [w for i, o in enumerate(options) if i != key_index for w in _option_words(o)]
    text = BLANK.sub(" ", clean(stem))
    for word in dict.fromkeys(w.lower() for w in re.findall(r"[A-Za-z]+", text)):
        if len(word) < MIN_CONTAINED_CHARS or word in STOPWORDS or word in _LEAD_IN_WORDS:
            continue
        everyday = zipf_frequency(word, "en") >= EVERYDAY_ZIPF
        inside = [
            k
            for k in key_words
            if word in k and len(k) > len(word) and not (everyday and k.startswith(word))
        ]
        if inside and not any(word in w for w in other_words):
            return f"'{word}' in the stem is written inside the key's '{inside[0]}'"
    return None


def names_an_option(heading: str, options: Sequence[str]) -> bool:
    """Whether a section heading shown above the question names some of its options, or a
    word of the same root ("Giardiasis" above a case whose options hold Giardiasis;
    "Trichinosis" above Trichinella spiralis): shown before the answer, it points at them.
    A heading every option shares ("The Heart" above heart structures) points at none."""
    named = [texts_share_root(heading, option) for option in options]
    return any(named) and not all(named)


def texts_share_root(a: str, b: str) -> bool:
    """Whether any word of one text shares a root with any word of the other."""
    words_a = [w for w in re.findall(r"[A-Za-z]{4,}", a) if w.lower() not in STOPWORDS]
    words_b = re.findall(r"[A-Za-z]{4,}", b)
    return any(shares_root(x, y) for x in words_a for y in words_b)


def _same_word(a: str, b: str) -> bool:
    """The same word but for its number ("lymphatics", "lymphatic")."""
    return singular(a) == singular(b) or a.rstrip("s") == b.rstrip("s")


def _has_part(word: str, part: str) -> bool:
    if part.startswith("-"):
        return word.endswith(part[1:])
    if part.endswith("-"):
        return word.startswith(part[:-1])
    return part in word


def _letter_words(text: str) -> set[str]:
    # Letters only: "Ca2+" is the word "ca".
    return set(re.findall(r"[a-z]+", clean(text).lower()))


def gloss_cue(stem: str, options: Sequence[str], key_index: int) -> str | None:
    """A plain word that glosses a word part, said on one side and built into the other
    (F4): "inflammation" in the stem, "-itis" in the key only; or "urochrome" asked and
    "color" in the key's definition only."""
    stem_words = _letter_words(stem)
    key_words = _letter_words(options[key_index])
    other_words = [_letter_words(o) for i, o in enumerate(options) if i != key_index]

    def built(part: str, in_words: set[str]) -> bool:
        return any(_has_part(w, part) for w in in_words)

    for part, glosses in _ROOT_GLOSSES.items():
        if built(part, key_words) and not any(built(part, o) for o in other_words):
            said = stem_words.intersection(glosses)
            if said and not built(part, stem_words):
                return f"'{sorted(said)[0]}' glosses '{part}' of the key only"
        if built(part, stem_words) and not built(part, key_words):
            said = key_words.intersection(glosses)
            if said and not any(o.intersection(said) for o in other_words):
                return f"the key's '{sorted(said)[0]}' glosses '{part}' of the stem"
    return None


def _initials(text: str) -> str:
    return "".join(w[0] for w in re.findall(r"[A-Za-z]+", text) if w.lower() not in STOPWORDS)


def abbreviation_cue(stem: str, options: Sequence[str], key_index: int) -> str | None:
    """An abbreviation that ties stem and key, or marks the key alone (F4)."""
    key = options[key_index]
    others = [o for i, o in enumerate(options) if i != key_index]
    marked = _PAREN_ABBREVIATION.findall(key)
    if marked and not any(_PAREN_ABBREVIATION.search(o) for o in others):
        return f"only the key carries an abbreviation ({marked[0]})"
    key_initials = _initials(re.sub(r"\([^)]*\)", " ", key)).upper()
    for acronym in {a.rstrip("s") for a in _ACRONYM.findall(stem)}:
        if (
            len(acronym) >= 2
            and acronym in key_initials
            and not any(acronym in _initials(o).upper() for o in others)
        ):
            return f"'{acronym}' in the stem spells the key"
    stem_initials = _initials(stem).upper()
    for acronym in {a.rstrip("s") for a in _ACRONYM.findall(key)}:
        if len(acronym) >= 3 and acronym in stem_initials:
            return f"the stem's words spell the key '{acronym}'"
    return None


def _asked_phrase(stem: str) -> str:
    match = _LEAD_IN.search(clean(stem))
    return match.group("asked") if match else ""


def grammar_cue(stem: str, options: Sequence[str], key_index: int) -> str | None:
    """ "a/an" or singular/plural agreement that fits the key alone (F4)."""
    text = clean(stem)
    key = clean(options[key_index])
    others = [clean(o) for i, o in enumerate(options) if i != key_index]
    article = re.search(r"\b(an|a)\s+_{3,}", text, re.IGNORECASE)
    if article:
        vowel = article.group(1).lower() == "an"
        key_fits = (key[:1].lower() in "aeiou") == vowel
        if key_fits and all((o[:1].lower() in "aeiou") != vowel for o in others):
            return f"'{article.group(1)}' before the blank fits the key only"
    defined = _DEFINED_TERM.search(text)
    if defined:
        return _definition_number_cue(defined["term"], options, key_index)
    if _BEST_DEFINES.search(text) or max(len(o.split()) for o in options) > 6:
        return None
    asked = _asked_phrase(text)
    plural_asked: bool | None = None
    if re.search(r"\bwhich of the following are\b", text, re.IGNORECASE):
        plural_asked = True
    elif asked:
        first = re.findall(r"[A-Za-z]+", re.split(r"\b(?:that|which|of|in|to|with)\b", asked)[0])
        if first:
            plural_asked = looks_plural(first[-1])
    blank = re.search(r"_{3,}\s+(is|are|was|were)\b", text)
    if blank:
        plural_asked = blank.group(1) in ("are", "were")
    if plural_asked is None:
        return None
    key_plural = looks_plural(key)
    if key_plural == plural_asked and all(looks_plural(o) != plural_asked for o in others):
        return "only the key agrees in number with the stem"
    return None


def _definition_number_cue(term: str, options: Sequence[str], key_index: int) -> str | None:
    """ "best defines 'tonsils'" with one definition of plural things: the key (F4)."""
    plural = looks_plural(term)
    numbers = [definition_names_many(o) for o in options]
    others = [n for i, n in enumerate(numbers) if i != key_index]
    if numbers[key_index] is plural and all(n is (not plural) for n in others):
        return "only the key's definition agrees in number with the term"
    return None


def definition_names_many(definition: str) -> bool | None:
    """Whether the noun heading a definition is plural ("left and right branches of ..."),
    or None when the definition has no head noun of its own ("contained within ...")."""
    head = head_of(definition, follow_of=False)
    for word in re.findall(r"[A-Za-z]+", definition)[:8]:
        if head and singular(word) == head:
            return word.lower() != head
    return None


def longest_key_cue(stem: str, options: Sequence[str], key_index: int) -> str | None:
    """A key that stands out by its length (F4); among definitions a smaller margin shows."""
    key = len(clean(options[key_index]))
    longest_other = max(len(clean(o)) for i, o in enumerate(options) if i != key_index)
    ratio, extra = LONG_KEY_RATIO, LONG_KEY_EXTRA_CHARS
    if _BEST_DEFINES.search(stem):
        ratio, extra = LONG_DEFINITION_RATIO, LONG_DEFINITION_EXTRA_CHARS
    if key >= ratio * longest_other and key - longest_other >= extra:
        return f"the key is {key / max(longest_other, 1):.1f}x the longest distractor"
    return None


def option_kinds(
    stem: str, options: Sequence[str], key_index: int, lexicon: KindLexicon | None
) -> list[Kind]:
    """The kind of every option: a definition's head for definition options, else the
    material's kind of the term (else its shape)."""
    lexicon = lexicon or KindLexicon()
    from core.generate.kinds import kind_from_definition

    if _BEST_DEFINES.search(stem):
        return [kind_from_definition(o) for o in options]
    return [lexicon.of(o) for o in options]


def asked_kind(stem: str, lexicon: KindLexicon | None) -> Kind:
    """The kind the lead-in asks for ("Which of the following is the enzyme ...")."""
    from core.generate.kinds import kind_from_definition

    asked = _asked_phrase(stem)
    if asked and not _BEST_DEFINES.search(stem):
        kind = kind_from_definition(asked)
        return Kind(kind.head, family_of_word(kind.head), kind.developmental, from_text=True)
    named = re.search(
        r"(?P<np>(?:[A-Za-z-]+\s+){0,2}[A-Za-z-]+),?\s+(?:also\s+)?(?:called|known as|termed)"
        r"\s+(?:an?\s+|a\(n\)\s+|the\s+)?_{3,}",
        clean(stem),
    )
    if named:
        head = head_of(named.group("np"))
        return Kind(head, family_of_word(head), from_text=True)
    return Kind()


def off_kind_distractors(
    stem: str,
    options: Sequence[str],
    key_index: int,
    lexicon: KindLexicon | None,
    fragments: frozenset[str] = frozenset(),
) -> list[int]:
    """Indexes of distractors of another kind than the key (or than the stem asks), and of
    distractors that are half a term ("lamblia" of "Giardia lamblia"): no kind at all (F3)."""
    kinds = option_kinds(stem, options, key_index, lexicon)
    target = kinds[key_index]
    if not target.known:
        target = asked_kind(stem, lexicon)
    bad = []
    for i, kind in enumerate(kinds):
        if i == key_index:
            continue
        if same_kind(target, kind) is False or normalise(options[i]) in fragments:
            bad.append(i)
    return sorted({*bad, *ruled_out_by_name(stem, options, key_index)})


def off_group_distractors(
    stem: str, options: Sequence[str], key_index: int, lexicon: KindLexicon | None
) -> list[int]:
    """Distractors of another group than the one the stem names: "Which ... is a fragile
    organ" beside a duct, "the enzyme ..." beside a pigment. The generator holds itself to
    this; the validator does not, as the human grader accepted a chamber beside a layer."""
    if _BEST_DEFINES.search(stem):
        # Knowing that the term names an enzyme is knowledge: its options may be of the
        # family, as the human grader accepted.
        return []
    kinds = option_kinds(stem, options, key_index, lexicon)
    asked = asked_kind(stem, lexicon)
    if not asked.known and kinds[key_index].family == "molecule":
        # A stem that names no kind ("Which of the following converts angiotensinogen ...?")
        # asks for what converts: the key's own kind, which a pigment beside it is not.
        asked = kinds[key_index]
    if asked.family == "molecule":
        # "the enzyme that converts ...": a pigment or a polysaccharide beside it is out.
        return [
            i
            for i, kind in enumerate(kinds)
            if i != key_index and same_kind(asked, kind, by_group=True) is False
        ]
    asked_group = named_group(asked.head) if asked.family == "structure" else ""
    if not asked_group:
        return []
    return [
        i
        for i, kind in enumerate(kinds)
        if i != key_index and kind.from_text and named_group(kind.head) not in ("", asked_group)
    ]


def ruled_out_by_name(stem: str, options: Sequence[str], key_index: int) -> list[int]:
    """Distractors the stem rules out by name: one the stem itself names ("inhibits insulin
    and glucagon release" beside "Insulin (beta cells)"), and one whose own name says it is
    another thing of the kind the stem asks."""
    return sorted(
        {*_named_in_stem(stem, options, key_index), *_named_other_kind(stem, options, key_index)}
    )


def _named_in_stem(stem: str, options: Sequence[str], key_index: int) -> list[int]:
    if _BEST_DEFINES.search(stem) or is_case(stem):
        # Definitions are no names; a case's history may well name an option ("was given
        # epinephrine") that is still a fair answer to its question.
        return []
    names = [_PARENTHESIS.sub("", option) for option in options]
    return [
        i
        for i, name in enumerate(names)
        if i != key_index
        and len(normalise(name)) >= MIN_ROOT_CHARS
        and content_words(name)
        and contains_phrase(stem, name)
    ]


def _named_other_kind(stem: str, options: Sequence[str], key_index: int) -> list[int]:
    """ "pulmonary arteries" for "the veins that ...", when the key is named a vein too; and
    for "best defines 'middle cardiac vein'", definitions of another kind of vessel
    ("branch of the left coronary artery ...")."""
    defined = _DEFINED_TERM.search(stem)
    if defined:
        named = kind_named(defined.group("term"))
        return [
            i
            for i, option in enumerate(options)
            if i != key_index and named and exclusive_kinds(named, asked_category(option))
        ]
    asked = head_of(_asked_phrase(stem)) if not _BEST_DEFINES.search(stem) else ""
    if asked in _GENERIC_HEADS or name_head(options[key_index]) != asked:
        return []
    return [
        i for i, option in enumerate(options) if i != key_index and named_as_other(asked, option)
    ]


def named_as_other(asked: str, option: str) -> bool:
    """Whether the option's name says it is another thing of the asked category's family
    ("circumflex artery" when a vein is asked): ruled out by its name alone."""
    family = family_of_word(asked)
    head = name_head(option)
    return (
        bool(family)
        and head != asked
        and head not in _GENERIC_HEADS
        and (family_of_word(head) == family)
    )


def asked_category(phrase: str) -> str:
    """The category noun a phrase asks for: its head ("a large, thin-walled vein" -> vein),
    or, when the head is generic, the category a modifier is made from ("the large arterial
    vessel" -> artery)."""
    head = head_of(phrase)
    if head not in _GENERIC_HEADS:
        return head
    before = normalise(phrase).split(head)[0].split()
    nouns = family_nouns(family_of_word(head))
    for word in reversed(before):
        # "arterial" is made from "artery" (stem "arter"); "arteriole" (stem "arteriol")
        # does not fit it.
        made_from = [
            noun
            for noun in nouns
            if word != noun and len(stem := noun.rstrip("aeiouy")) >= 4 and word.startswith(stem)
        ]
        if made_from:
            return max(made_from, key=lambda noun: len(noun.rstrip("aeiouy")))
    return head


def category_distractors(options: Sequence[str], key_index: int) -> list[int]:
    """Distractors that only name a category ("foodborne pathogens", "lesion"): they fit many
    keys, often this one too (F3, and F2 when the key is one of them)."""
    key_words = normalise(options[key_index]).split()
    key_head = key_words[-1] if key_words else ""
    found = []
    for i, option in enumerate(options):
        if i == key_index:
            continue
        option_words = normalise(option).split()
        if not option_words or len(option_words) > 2:
            continue
        head = singular(option_words[-1])
        # "lesion", "microbes", "foodborne pathogens": a bare or plural category; "celiac
        # disease" names one thing.
        generic = len(option_words) == 1 or option_words[-1] != head
        if generic and head in _CATEGORY_HEADS and head != singular(key_head):
            found.append(i)
    return found


def broken_options(
    options: Sequence[str], epithets: frozenset[str], modifiers: frozenset[str] = frozenset()
) -> list[str]:
    """Options that are fragments: a cut parenthesis, a species name without its genus, an
    adjective without its noun (F8)."""
    problems = []
    for option in options:
        text = clean(option)
        cut = text.startswith((")", ",", ";")) or text.endswith((",", ";", ":"))
        if text.count("(") != text.count(")") or cut:
            problems.append(f"'{text}' is cut text")
            continue
        single = text.split()
        name = len(single) <= MAX_NAME_WORDS
        if name and _RUN_ON.search(text):
            problems.append(f"'{text}' runs a name into its definition")
            continue
        if name and len(single) > 1 and text[0].islower() and _PARTICIPLE_END.search(text):
            problems.append(f"'{text}' ends in a word cut from a sentence")
            continue
        if len(single) == 1 and single[0].islower():
            word = single[0]
            if word in epithets:
                problems.append(f"'{word}' is a species name without its genus")
            elif word in adjectives(modifiers):
                problems.append(f"'{word}' is an adjective without its noun")
    return problems


def adjectives(modifiers: frozenset[str]) -> frozenset[str]:
    """The modifiers shaped like adjectives: alone, each is half a term ("columnar")."""
    return frozenset(m for m in modifiers if _ADJECTIVE_END.search(m))


def broken_text(stem: str, explanation: str) -> str | None:
    """A stem cut mid-entry or an explanation that says nothing of its own (F8)."""
    text = clean(stem)
    if text.count("(") != text.count(")") or text[:1] in ")]," or text[:1].islower():
        return "the stem is cut text"
    if re.search(r"\b(called|known as)\s+(called|known as)\b", text, re.IGNORECASE):
        return "the stem repeats its naming phrase"
    if explanation and _FILLER.search(explanation):
        return "the explanation says nothing about a distractor"
    return None


def unfocused_lead_in(stem: str) -> str | None:
    """A lead-in that cannot be answered with the options covered (F1): a pointer to text the
    student cannot see ("in this way", "these samples"), or an open "an example of"."""
    # A quotation is the material's own words: its "this" points inside the quote.
    text = re.sub(r"[\"“][^\"”]{12,}[\"”]", " ", clean(stem))
    first_sentence = _SENTENCE_BREAK.split(text)[0]
    if _OPEN_LEAD_IN.search(text):
        return "the lead-in asks for 'an example', which many answers fit"
    reference = _CROSS_REFERENCE.search(text)
    if reference:
        return f"'{reference.group(0)}' points at text the student cannot see"
    pointer = _ANTECEDENT.search(first_sentence)
    # "this statement: '...'" points at text the stem itself then quotes.
    quoted = (
        re.search(r"[\"“'‘].{12,}[\"”'’]", stem[stem.find(pointer.group(0)) :])
        if pointer
        else None
    )
    if pointer and not quoted and "?" not in first_sentence[: pointer.start()]:
        return f"'{pointer.group(0)}' points at text the student cannot see"
    closing = None if is_case(stem) else _CLOSING_THAT.search(text)
    if closing and family_of_word(singular(closing["noun"].lower())):
        return f"'that {closing['noun']}' points at text the student cannot see"
    return None


def cues(stem: str, options: Sequence[str], key_index: int) -> list[str]:
    """Every cue from stem to key (F4). In a case only a rare word of its question counts:
    a case's findings are meant to point at the answer."""
    detectors = (
        (word_cue,)
        if is_case(stem)
        else (word_cue, echo_cue, contained_cue, gloss_cue, abbreviation_cue, grammar_cue)
    )
    return [found for detect in detectors if (found := detect(stem, options, key_index))]


def copies_book_question(
    stem: str, options: Sequence[str], key_index: int, book_questions: Sequence[BookQuestion]
) -> bool:
    """Whether the item restates one of the book's own questions (F7). Either nearly all of
    that question's meaningful words are in the stem, whatever their order, and make up a
    good part of it; or the item's answer is one of the book question's printed options and
    its stem and key say at least half of what the question asks, in its words or words of
    the same root ("Which of these is a vasoconstrictor?" asked again with angiotensin II as
    the key; "the taking in and digesting of antigen" as "internalization and digestion")."""
    item = set(content_words(BLANK.sub(" ", stem)))
    answers = _answers(stem, options, key_index)
    # What the item says is asked and answered: its stem and its key. A distractor's words
    # are no part of it (the book's own distractor may be defined in an item of its own).
    said = item | set(content_words(options[key_index])) if 0 <= key_index < len(options) else item
    for question in book_questions:
        shared = len(question.words & item)
        if (
            len(question.words) >= MIN_COPY_WORDS
            and shared >= COPY_CONTAINMENT * len(question.words)
            and shared >= COPY_STEM_SHARE * len(item)
        ):
            return True
        asked = question.words - _NAMING_WORDS
        if asked and _offers_answer(question.options, answers):
            # Said in other words of the same root: "digesting" for "digestion".
            restated = sum(1 for q in asked if any(q == w or shares_root(q, w) for w in said))
            if restated >= KEYED_COPY_SHARE * len(asked):
                return True
    return False


# "... is called ________": words that name, not what the question asks about.
_NAMING_WORDS = frozenset({"called", "termed", "known", "referred", "named"})


def _offers_answer(options: frozenset[str], answers: set[str]) -> bool:
    """Whether a book question prints the item's answer among its options, whole or with a
    word more or less ("Th2" for "Th2 cells")."""
    return any(
        option == answer
        or (len(option) >= MIN_ROOT_CHARS - 1 and contains_phrase(answer, option))
        or (len(answer) >= MIN_ROOT_CHARS - 1 and contains_phrase(option, answer))
        for option in options
        for answer in answers
    )


def _answers(stem: str, options: Sequence[str], key_index: int) -> set[str]:
    """What the item's answer is called: the key, or for "best defines 'X'" the term X."""
    found = set()
    if 0 <= key_index < len(options):
        found.add(normalise(options[key_index]))
    defined = _DEFINED_TERM.search(stem)
    if defined:
        found.add(normalise(defined["term"]))
    return found


# A numbered question, and the lettered options printed under it.
_QUESTION_START = re.compile(r"^\s*\d+\.\s+", re.MULTILINE)
_OPTION_LINE = re.compile(r"^\s*[a-eA-E][.)]\s+(?P<option>\S.*)$", re.MULTILINE)


def book_questions_of(texts: Sequence[str]) -> list[BookQuestion]:
    """The book's questions in its question sections, each with its printed options."""
    found: list[BookQuestion] = []
    for text in texts:
        for block in _QUESTION_START.split(text):
            first_option = _OPTION_LINE.search(block)
            asked = block[: first_option.start()] if first_option else block
            options = frozenset(normalise(m["option"]) for m in _OPTION_LINE.finditer(block))
            # A block without numbered structure (a re-flowed page) still yields its parts.
            for part in re.split(r"\?\s+|\n(?=[A-Z])", asked):
                words = frozenset(content_words(BLANK.sub(" ", part)))
                if words and (options or len(words) >= MIN_COPY_WORDS):
                    found.append(BookQuestion(words, options))
    return found


def epithets_of(texts: Sequence[str]) -> frozenset[str]:
    """Lower-case words the material writes after a capitalised genus or its initial, and
    never on their own: a species epithet is only half a name."""
    after_genus: dict[str, int] = {}
    total: dict[str, int] = {}
    for text in texts:
        flat = clean(text)
        for match in re.finditer(r"\b([A-Z][a-z]+|[A-Z]\.)\s+([a-z]{4,})\b", flat):
            if is_binomial(match.group(0)):
                after_genus[match.group(2)] = after_genus.get(match.group(2), 0) + 1
        for word in re.findall(r"\b[a-z]{4,}\b", flat):
            total[word] = total.get(word, 0) + 1
    # Mostly written after a genus: an epithet, even if a sentence uses it alone once.
    return frozenset(w for w, n in after_genus.items() if total.get(w, 0) - n <= n // 2)


def modifiers_of(texts: Sequence[str]) -> frozenset[str]:
    """Lower-case words the material always writes before another word: alone, an option
    made of one is half a term ("columnar" of "columnar epithelial cells")."""
    before_word: dict[str, int] = {}
    total: dict[str, int] = {}
    for text in texts:
        for match in re.finditer(r"\b([a-z]{5,})\b(\s+[a-z])?", clean(text)):
            word = match.group(1)
            total[word] = total.get(word, 0) + 1
            if match.group(2):
                before_word[word] = before_word.get(word, 0) + 1
    return frozenset(w for w, n in before_word.items() if n >= 2 and n == total[w])


def flaw_context(
    lexicon: KindLexicon, body_texts: Sequence[str], book_question_texts: Sequence[str]
) -> FlawContext:
    """Everything the detectors consult, read from one scope's materials."""
    return FlawContext(
        lexicon=lexicon,
        epithets=epithets_of(body_texts),
        modifiers=modifiers_of(body_texts),
        book_questions=book_questions_of(book_question_texts),
    )
