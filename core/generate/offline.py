"""The offline generator: single-best-answer items built from the material's own facts.

No model and no network: a fact (glossary entry or defining sentence, see facts.py)
becomes a stem; the key is its term (or definition); distractors are other terms of the
same material, close in meaning (embedding similarity, banded by difficulty) but never
the key in another form, a synonym, or a phrase the stem already shows. Deterministic for
a given seed. Options come out key-first; the pipeline shuffles after validation.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from rapidfuzz import fuzz
from wordfreq import zipf_frequency

from core.chunking import HEADING_SEPARATOR
from core.generate.facts import ACTION, CLOZE, DEFINITION, TERM, WHICH, Fact, Material, Note
from core.generate.flaws import (
    asked_category,
    broken_options,
    cues,
    definition_names_many,
    longest_key_cue,
    named_as_other,
    off_group_distractors,
    ruled_out_by_name,
)
from core.generate.kinds import (
    Kind,
    exclusive_kinds,
    family_of_word,
    head_of,
    kind_from_definition,
    kind_named,
    name_head,
    same_kind,
    shape_family,
    singular,
)
from core.generate.schema import RECALL, DraftItem
from core.generate.terms import Term, key_name
from core.generate.text import (
    clean,
    contains_phrase,
    content_words,
    normalise,
    quoted,
    stem_hash,
    word_list,
)

OFFLINE_PROMPT_VERSION = "offline_v2"
OFFLINE_MODEL = "offline"
OFFLINE_OPTIONS = 4

# Where in the similarity ranking distractors are drawn from, per difficulty 1-5: hard
# items offer the closest terms, easy ones terms a little further away.
DIFFICULTY_WINDOWS = {1: (6, 24), 2: (3, 16), 3: (1, 10), 4: (0, 7), 5: (0, 4)}
# Closer than this (cosine of "term: definition") is a synonym, not a distractor.
SYNONYM_COSINE = 0.92
# Below this, a term has nothing to do with the key ("hospitalization" for a blood disease).
MIN_DISTRACTOR_SIMILARITY = 0.3
# Spellings this alike are one term ("valve"/"valves", "AV node"/"A-V node").
SAME_TERM_RATIO = 85
# Definitions this alike say the same thing (glossary synonyms without an "also" note).
SAME_DEFINITION_RATIO = 85
# A first clause shorter than this (words) is too generic to be the whole stem.
MIN_STEM_DEFINITION_WORDS = 6
# Definition options longer than this are cut at a clause boundary or not offered.
MAX_DEFINITION_OPTION_CHARS = 140
# A definition opening with these means "like the entry before", which the student never saw.
# A first clause that only places the term ("branch of the deep femoral artery") fits every
# sibling placed there alike; the clause after it ("supplies the thigh") tells them apart.
_RELATION_ONLY = re.compile(
    r"^(?:[\w-]+\s+){0,2}(?:branch|part|portion|segment|region|division|type|kind|member|"
    r"continuation|extension|one)(?:es|s)?\s+of\s+(?:the\s+|an?\s+)?"
    r"(?!.*\b(?:that|which|where|who|whose|with|between|to|from|into)\b)[\w\s-]+$",
    re.IGNORECASE,
)
_LEANING = frozenset({"another", "other", "same", "also", "similar", "likewise"})
# "lead out of a lymph node": a verb with its particle, not a noun phrase.
_PARTICLES = frozenset({"out", "into", "through", "across", "along", "away", "off", "back"})
_VERB_START = frozenset(
    {"develops", "forms", "becomes", "known", "used", "term", "feeds", "parallels", "lies"}
    | {"runs", "carries", "found", "binds", "drains", "drain", "receives", "supplies"}
    | {"produces", "arises", "connects", "returns", "located", "made", "composed", "seen"}
    | {"in", "on", "at", "of", "within", "between", "during", "from", "with", "by"}
)


@dataclass(frozen=True)
class TermVectors:
    """Unit vectors per bank term: of its name, and of "name: definition"."""

    names: NDArray[np.float32]
    full: NDArray[np.float32]

    def similarity(self, index: int) -> NDArray[np.float32]:
        """Cosine of every term with term `index`, names and definitions weighted alike."""
        return 0.5 * (self.names @ self.names[index] + self.full @ self.full[index])

    def pair(self, a: int, b: int) -> float:
        return float(0.5 * (self.names[a] @ self.names[b] + self.full[a] @ self.full[b]))


@dataclass(frozen=True)
class OfflineRequest:
    difficulty: int = 3
    seed: int = 0
    # Normalised keys already asked in this scope: asked again only when nothing else is left.
    avoid_keys: frozenset[str] = frozenset()
    # Stem hashes already stored in this scope: such a stem is never offered again.
    avoid_stems: frozenset[str] = frozenset()
    # Per fact index, how relevant it is to the requested topic (None: no topic).
    relevance: Sequence[float] | None = None


def _first_clause(definition: str) -> str:
    return clean(definition.split(";")[0]).rstrip(" ,.")


def _stem_definition(definition: str) -> str:
    """The definition as a stem asks it: its first clause, or two when the first is too
    generic to single out one term ("branch of the abdominal aorta"); "" when it leans on
    the entry before it ("another branch of the internal carotid artery")."""
    clauses = [clean(c).rstrip(" ,.") for c in definition.split(";") if clean(c)]
    if not clauses or clauses[0].split()[0].lower() in _LEANING:
        return ""
    if len(clauses) > 1 and (
        len(clauses[0].split()) < MIN_STEM_DEFINITION_WORDS or _RELATION_ONLY.match(clauses[0])
    ):
        return f"{clauses[0]}; {clauses[1]}"
    return clauses[0]


_COUNTS = frozenset(word_list("two three four five six seven eight nine ten twelve several"))


def _article_form_verb(word: str) -> bool:
    """Whether a word ending in -s reads as a verb ("consists", "carries") rather than a
    plural noun ("extensions"): its stem is more common as a verb form than the word as a
    noun, judged by word frequency of the -ing form."""
    stem = word[:-3] + "y" if word.endswith("ies") else word[:-1]
    gerunds = {stem + "ing", stem.removesuffix("e") + "ing", word.removesuffix("es") + "ing"}
    gerund = max(zipf_frequency(form, "en") for form in gerunds)
    return gerund >= zipf_frequency(word, "en") - 0.5


def _article_form(definition: str, plural: bool) -> str | None:
    """ "Which of the following is the <definition>?" when the definition reads as a noun
    phrase; None when it opens with a verb or preposition (then the quoted form is used)."""
    words = definition.split()
    if not words:
        return None
    first, second = words[0].lower(), (words[1].lower() if len(words) > 1 else "")
    key_plural = plural
    # The verb agrees with what the definition names: "is the stage in which ..." even for
    # "endocardial tubes", "are the walls or partitions ..." even for "septum".
    if first in {"the", "a", "an", "one", "any", "each"}:
        plural = plural and first == "the"
    elif first in _COUNTS or first.isdigit():
        plural = first != "1"  # "six to eight cone-shaped tissues ..."
    else:
        plural = bool(definition_names_many(definition))
    verb = "are" if plural else "is"
    # "consists of the glomerulus and ...": a definition that opens with its verb asks
    # itself after "Which of the following".
    if (
        not key_plural
        and first.endswith("s")
        and not first.endswith(("ss", "us", "is"))
        and second in {"of", "into", "to", "from", "with", "as", "the", "a", "an", "its", "their"}
        and _article_form_verb(first)
    ):
        return f"Which of the following {definition}?"
    if first in {"the", "a", "an", "one", "any", "each"}:
        return f"Which of the following {verb} {definition}?"
    # A definition opening with a verb or participle ("drains blood ...", "found on ...",
    # "originating from ...") cannot follow "is the": the quoted form is used instead.
    if (
        first in _VERB_START
        or (len(first) > 4 and first.endswith(("ing", "ed")))
        or second in {"the", "a", "an", "its", "their"}
        or (first.endswith("s") and second in {"into", "to", "from", "with", "as", "blood"})
        or second in _PARTICLES
        or not first.replace("-", "").isalpha()
        or words[0][:1].isupper()
    ):
        return None
    return f"Which of the following {verb} the {definition}?"


def _stem(fact: Fact, key: Term) -> str | None:
    if fact.kind == TERM:
        definition = _stem_definition(key.definition)
        if not definition:
            return None
        return _article_form(definition, key.plural) or (
            f'Which term is defined as "{definition}"?'
        )
    if fact.kind == DEFINITION:
        return f'Which of the following best defines "{key.text}"?'
    if fact.kind == WHICH:
        verb = "are" if key.plural else "is"
        return f"Which of the following {verb} {fact.frame}?"
    if fact.kind == ACTION:
        # The frame agrees with the key: a plural key keeps its plural verbs, as do the
        # options (all plural); a singular one is read after "Which of the following".
        frame = fact.frame if key.plural else _singular_verb(fact.frame)
        return f"Which of the following {frame}?"
    return fact.frame


def _singular_verb(frame: str) -> str:
    """ "Which of the following" takes the singular: "inhibit cell wall ..." -> "inhibits"."""
    verb, _, rest = frame.partition(" ")
    if verb.endswith("ly") and rest:  # "selectively inhibit ..."
        return f"{verb} {_singular_verb(rest)}"
    if verb in {"is", "are"} or verb.endswith("s"):
        return "is " + rest if verb == "are" else frame
    singular = verb[:-1] + "ies" if verb.endswith("y") else verb + "s"
    return f"{singular} {rest}"


def _same_thing(a: Term, b: Term, cosine: float) -> bool:
    """Whether b is a in another form: a synonym, a spelling variant, or contains it; or
    defined by the same words, so that a stem quoting a's definition would fit b too."""
    if a.names() & b.names():
        return True
    na, nb = normalise(a.text), normalise(b.text)
    if fuzz.ratio(na, nb) >= SAME_TERM_RATIO:
        return True
    wa, wb = set(content_words(a.text)), set(content_words(b.text))
    if wa and wb and (wa <= wb or wb <= wa):
        return True
    if (
        a.definition
        and b.definition
        and max(
            fuzz.ratio(normalise(a.definition), normalise(b.definition)),
            fuzz.ratio(
                normalise(_first_clause(a.definition)), normalise(_first_clause(b.definition))
            ),
        )
        >= SAME_DEFINITION_RATIO
    ):
        return True
    return cosine >= SYNONYM_COSINE


_THINGS = frozenset({"structure", "vessel", "cell", "tissue", "organism", "molecule", "drug"})


def _name_contradicts_definition(term: Term) -> bool:
    """A name that says one kind and a definition that says another ("endocardial tubes":
    "stage in which lumens form ...") is no sure option of either kind."""
    if not term.definition:
        return False
    named, strong = shape_family(term.text)
    defined = kind_from_definition(term.definition).family
    # Families overlap at their edges (a myocardium is tissue and a layer); a thing and a
    # stretch of time never do.
    kinds = {named, defined} if strong else set()
    return "period" in kinds and bool(kinds & _THINGS)


def _class_and_member(a: Term, b: Term) -> bool:
    """One names a class ("coronary arteries") of which the other may be a member ("circumflex
    artery"): plural against singular with the same head word. Siblings told apart by a
    modifier each ("anterior cardiac veins", "middle cardiac vein") are two members. The bare
    class word ("sphincter") holds every named member ("internal urinary sphincter"): what
    defines a sphincter is true of that one too."""
    if _last_word(a.text) != _last_word(b.text) or _last_word(a.text) == "":
        return False
    mods_a, mods_b = _modifiers(a.text), _modifiers(b.text)
    if not mods_a or not mods_b:
        return mods_a != mods_b
    if a.plural == b.plural:
        return False
    return not (mods_a & mods_b and mods_a - mods_b and mods_b - mods_a)


# "substance such as heparin that opposes coagulation": a class defined by its examples.
_CLASS_BY_EXAMPLE = re.compile(r"^(?:[\w-]+\s+){1,3}such as\b", re.IGNORECASE)


def _names_a_class(term: Term) -> bool:
    return bool(_CLASS_BY_EXAMPLE.match(clean(term.definition or "")))


def _defined_as_member(member: Term, group: Term) -> bool:
    """Whether the member's definition opens with the group's name ("B cells: lymphocytes
    that ..."): offered beside each other, the group is right wherever the member is."""
    group_words = re.findall(r"[a-z0-9]+", re.sub(r"\([^)]*\)", " ", group.text.lower()))
    if not group_words or not member.definition:
        return False
    opening = re.findall(r"[a-z0-9]+", member.definition.lower())
    opening = opening[1:] if opening[:1] in (["a"], ["an"], ["the"]) else opening
    if len(opening) < len(group_words):
        return False
    said = opening[: len(group_words)]
    return said[:-1] == group_words[:-1] and singular(said[-1]) == singular(group_words[-1])


def _modifiers(text: str) -> set[str]:
    words = re.findall(r"[A-Za-z]+", re.sub(r"\([^)]*\)", " ", text.lower()))
    return set(words[:-1])


def _last_word(text: str) -> str:
    words = re.findall(r"[A-Za-z]+", re.sub(r"\([^)]*\)", " ", text))
    return singular(words[-1]) if words else ""


def _shown_in(term: Term, text: str) -> bool:
    """The option would repeat the stem's words (all of its meaningful words appear)."""
    if any(contains_phrase(text, name) for name in term.names()):
        return True
    words = set(content_words(term.text))
    return bool(words) and words <= set(content_words(text))


def _option_text(fact: Fact, term: Term) -> str | None:
    if fact.kind != DEFINITION:
        return term.text
    # "arises from the subclavian artery" fits several arteries: a short first clause
    # takes the next one along, as in stems.
    clause = _stem_definition(term.definition)
    if len(clause) > MAX_DEFINITION_OPTION_CHARS:
        clause = _first_part(clause)
    if not clause or len(clause) > MAX_DEFINITION_OPTION_CHARS:
        return None
    return clause


def _first_part(clause: str) -> str:
    """A long definition cut where a statement ends ("vessel that follows the
    interventricular sulcus ... | and flows along the coronary sulcus ..."): still true of
    its term and long enough to single it out; "" when no such cut exists."""
    best = ""
    # "... sulcus | and flows ...": "and" before a verb starts a new statement; "tension |
    # and pressure" would be cut mid-phrase.
    for cut in re.finditer(r",? and (?=[a-z]+[^s\W]s\b)|, (?:which|where|while) |; ", clause):
        head = clause[: cut.start()].rstrip(" ,")
        if len(head) > MAX_DEFINITION_OPTION_CHARS:
            break
        if len(head.split()) >= MIN_STEM_DEFINITION_WORDS + 2:
            best = head
    return best


def _distractors(
    fact: Fact,
    material: Material,
    vectors: TermVectors,
    stem: str,
    key_option: str,
    rng: random.Random,
    difficulty: int,
    by_group: bool = True,
) -> list[tuple[int, str]] | None:
    """Three options of the key's kind, or None. `by_group` asks structures and molecules
    to share the key's group (a layer with layers); without it, the key's family is enough
    (a layer beside a chamber), the standard the validator and the human grader hold."""
    bank = material.bank
    key = bank.terms[fact.term]
    # Judged as the validator will: a definition option by its own head noun, a term option
    # by what the material says the term is.
    key_kind = (
        kind_from_definition(key_option)
        if fact.kind == DEFINITION
        else _kind_asked(fact, material)
    )
    if not key_kind.known:
        return None  # options of one kind cannot be promised for a term of unknown kind
    if broken_options([key_option], frozenset()) or _name_contradicts_definition(key):
        return None  # a glossary line read wrongly ("sigmoid sinuses enlarged")
    asked = _category_asked(fact, key)
    # What the stem says of the key, which no distractor may fit as well.
    statement = fact.frame if fact.kind in (WHICH, ACTION) else ""
    if fact.kind == TERM:
        statement = _stem_definition(key.definition)
    # A name that says its kind ("middle cardiac vein") is read by the student: an artery
    # among the options is ruled out by the name, whatever the stem asks.
    named = name_head(key.text)
    named_family = bool(family_of_word(named))
    named_kind = kind_named(key.text)
    similarity = vectors.similarity(fact.term)
    order = sorted(range(len(bank)), key=lambda i: (-float(similarity[i]), i))
    eligible: list[tuple[int, str]] = []
    looser: list[tuple[int, str]] = []
    same_group: set[int] = set()
    for index in order:
        if index == fact.term:
            continue
        term = bank.terms[index]
        if fact.kind == DEFINITION and not term.definition:
            continue
        text = _option_text(fact, term)
        if text is None or broken_options([text], frozenset()):
            continue
        if _name_contradicts_definition(term):
            continue
        # A distractor, like the key, is of a kind the text states: an embedding guess put
        # "sinus rhythm" among veins.
        kind = (
            kind_from_definition(text)
            if fact.kind == DEFINITION
            else material.lexicon.stated(text)
        )
        named_alike = named_family and name_head(term.text) == named
        # A structure of another group (a chamber beside layers) is of the key's family, as
        # the human grader judged; the generator takes one only when siblings run short.
        loose = False
        if not named_alike and not same_kind(key_kind, kind, by_group=True):
            if not same_kind(key_kind, kind):
                continue  # a disorder offered for a process is ruled out without knowledge
            loose = True
        if named_kind and (
            exclusive_kinds(named_kind, name_head(term.text))
            or (fact.kind == DEFINITION and exclusive_kinds(named_kind, asked_category(text)))
        ):
            continue  # "branch of the left coronary artery" to define a vein
        if _named_out(asked, key, term):
            continue  # "circumflex artery" for "a thin-walled vein that ..." rules itself out
        if not term.definition and index not in material.notes:
            continue  # its explanation could not say what it is
        if _same_thing(key, term, float(similarity[index])) or _shown_in(term, stem):
            continue
        if fact.kind != DEFINITION and term.plural != key.plural:
            continue  # "Which ... are" must not rule options out by grammar
        if _names_a_class(term) and not _names_a_class(key):
            continue  # "anticoagulant: substance such as heparin ..." is a class, no sibling
        if _class_and_member(key, term):
            continue  # "coronary veins" holds "great cardiac vein": both would be right
        if _defined_as_member(key, term) or _defined_as_member(term, key):
            continue  # "lymphocytes" beside "B cells", which the glossary calls lymphocytes
        if statement and material.also_said_of(index, statement, fact.term, asked):
            continue  # "tapeworm" sits next to praziquantel too: it may be right as well
        if fact.kind == DEFINITION and any(contains_phrase(text, name) for name in key.names()):
            continue  # a definition naming the key is a giveaway
        if not 0.4 <= len(text) / max(len(key_option), 1) <= 2.2:
            continue
        if float(similarity[index]) < MIN_DISTRACTOR_SIMILARITY and not (
            kind.from_text
            and (not by_group or _in_section(fact.heading, material.notes.get(index)))
        ):
            # Far from the key, unless the text files it beside the key: a drug's name says
            # nothing to an embedding, its place among the section's drugs does. Once the
            # close siblings are spent, the text's word on its kind is enough.
            continue
        if loose and by_group:
            if len(looser) < 1:
                looser.append((index, text))
            continue
        if not loose:
            same_group.add(index)
        eligible.append((index, text))
        if len(eligible) >= 40:
            break
    if len(eligible) == OFFLINE_OPTIONS - 2:
        eligible += looser
    eligible.sort(key=lambda e: -_sections_shared(fact.heading, material.notes.get(e[0])))
    # Siblings first: terms defined by the same head noun as the key ("vein" with "vein",
    # "phase" with "phase") are what a student could confuse; the family is the fallback.
    key_head = _head(fact, key, key_option)
    siblings = [
        e
        for e in eligible
        if _head(fact, bank.terms[e[0]], e[1]) == key_head
        or (named_family and name_head(bank.terms[e[0]].text) == named)
    ]
    if fact.kind == DEFINITION and named_family:
        # "best defines 'circumflex artery'": the options are other arteries' definitions,
        # with at most one of a vessel not named by its kind ("pulmonary trunk").
        same_name = [e for e in eligible if name_head(bank.terms[e[0]].text) == named]
        if len(same_name) >= OFFLINE_OPTIONS - 2:
            others = [e for e in eligible if e not in same_name]
            siblings = same_name + others[: max(0, OFFLINE_OPTIONS - 1 - len(same_name))]
    if len(siblings) >= OFFLINE_OPTIONS - 1:
        eligible = siblings
    else:
        eligible = _nearest_section(eligible, fact.heading, material)
    low, high = DIFFICULTY_WINDOWS.get(difficulty, DIFFICULTY_WINDOWS[3])
    window = eligible[low:high]
    if len(window) < OFFLINE_OPTIONS - 1:
        window = eligible[: max(high, OFFLINE_OPTIONS - 1)]
    picked: list[tuple[int, str]] = []
    # The window in random order, then the rest nearest first: two of the window may be
    # one thing ("superior"/"inferior vena cava" read alike) and leave a slot open.
    rest = [e for e in eligible if e not in window]
    candidates = rng.sample(window, len(window)) + rest
    # Of the family, the key's own group first: an enzyme asked for is offered the other
    # enzyme before a pigment.
    candidates.sort(key=lambda e: e[0] not in same_group)
    for index, text in candidates:
        term = bank.terms[index]
        if any(_same_thing(term, bank.terms[p], vectors.pair(index, p)) for p, _ in picked):
            continue
        picked.append((index, text))
        if len(picked) == OFFLINE_OPTIONS - 1:
            return _without_cue(picked, eligible, stem, key_option, material, vectors)
    return None


def _named_out(asked: str, key: Term, term: Term) -> bool:
    """Whether the term's name says it is not the asked category: an artery when a vein is
    asked, or another vessel when the key is named by the asked noun itself (the detector's
    rule, flaws.ruled_out_by_name). A sphincter stays a fair option for "smooth muscle ...":
    the two nouns are no exclusive pair."""
    if not asked or head_of(term.definition) == asked:
        return False
    head = name_head(term.text)
    if exclusive_kinds(asked, head):
        return True
    return name_head(key.text) == asked and named_as_other(asked, term.text)


def _sections_shared(heading: str, note: Note | None) -> int:
    """How many levels of the key's heading path the term's own sentence sits under."""
    if note is None or not heading or not note.heading:
        return 0
    shared = 0
    for ours, theirs in zip(
        heading.split(HEADING_SEPARATOR), note.heading.split(HEADING_SEPARATOR), strict=False
    ):
        if ours.strip() != theirs.strip():
            break
        shared += 1
    return shared


def _nearest_section(
    eligible: list[tuple[int, str]], heading: str, material: Material
) -> list[tuple[int, str]]:
    """The eligible terms of the deepest part of the key's heading path that still holds
    enough of them: the other antivirals of "Antiviral Drugs" are what a student mixes up
    with pleconaril, not an antibiotic that merely reads alike."""
    shared = [_sections_shared(heading, material.notes.get(i)) for i, _ in eligible]
    for level in sorted({s for s in shared if s > 0}, reverse=True):
        near = [e for e, s in zip(eligible, shared, strict=True) if s >= level]
        if len(near) >= OFFLINE_OPTIONS - 1:
            return near
    return eligible


def _in_section(heading: str, note: Note | None) -> bool:
    """Whether the term's own sentence sits under the key's whole heading path."""
    depth = len(heading.split(HEADING_SEPARATOR)) if heading else 0
    return depth > 0 and _sections_shared(heading, note) == depth


def _without_cue(
    picked: list[tuple[int, str]],
    eligible: list[tuple[int, str]],
    stem: str,
    key_option: str,
    material: Material,
    vectors: TermVectors,
) -> list[tuple[int, str]]:
    """The picked distractors, with one swapped for a sibling that shares the stem's word
    when only the key did ("primitive heart tube" in the stem: "primitive ventricle" joins
    "primitive atrium"), so the word no longer points at the key."""
    if not _cued(stem, (key_option, *(t for _, t in picked))):
        return picked
    bank = material.bank
    chosen = {i for i, _ in picked}
    for index, text in eligible:
        if index in chosen or any(
            _same_thing(bank.terms[index], bank.terms[p], vectors.pair(index, p)) for p in chosen
        ):
            continue
        for slot in range(len(picked) - 1, -1, -1):
            trial = [*picked[:slot], (index, text), *picked[slot + 1 :]]
            if not _cued(stem, (key_option, *(t for _, t in trial))):
                return trial
    return picked


def _cued(stem: str, options: Sequence[str]) -> bool:
    """Whether anything but knowledge points at the key (first): a word, or its length."""
    return bool(cues(stem, options, 0) or longest_key_cue(stem, options, 0))


def _category_asked(fact: Fact, key: Term) -> str:
    """The category noun the stem asks for, when the stem quotes a noun phrase (a "which"
    statement or a definition); "" otherwise."""
    if fact.kind == WHICH:
        return asked_category(fact.frame)
    if fact.kind == TERM and key.definition:
        return asked_category(key.definition)
    return ""


def _head(fact: Fact, term: Term, option: str) -> str:
    """The head noun that says what an option is: of the definition a definition option
    quotes, or of a term option's own definition (else its name)."""
    if fact.kind == DEFINITION:
        return head_of(option)
    return head_of(term.definition) if term.definition else head_of(term.text)


def _kind_asked(fact: Fact, material: Material) -> Kind:
    """The kind the item asks for: the key's kind in the material, else the head of the
    definition the stem quotes."""
    key = material.bank.terms[fact.term]
    kind = material.lexicon.stated(key.text)
    if not kind.known and key.definition:
        kind = kind_from_definition(key.definition, key.text)
    if not kind.known and fact.kind == WHICH:
        kind = kind_from_definition(fact.frame, key.text)
    return kind


def _describe(term: Term, material: Material, index: int) -> str:
    if term.definition:
        entry = material.defined_on.get(index)
        label = f" ({entry.cited})" if entry is not None and entry.pages else ""
        return f"{term.text}{label}: {_first_clause(term.definition)}"
    note = material.notes.get(index)
    if note is None:
        return term.text
    return f"{term.text} ({note.cited}): {note.sentence.rstrip('.')}"


def _explanation(fact: Fact, material: Material, distractors: list[tuple[int, str]]) -> str:
    key = material.bank.terms[fact.term]
    where = material.cited(fact)
    # The supporting text is quoted as printed, so the student can find it on the page.
    quote = quoted(fact.support)
    if fact.kind in (TERM, DEFINITION):
        lead = f'The answer is "{key.text}". Your key terms list ({where}) says: {quote}'
    else:
        lead = f'The answer is "{key.text}". Your material says ({where}): {quote}'
    others = "; ".join(_describe(material.bank.terms[i], material, i) for i, _ in distractors)
    return f"{lead} The other options are different things: {others}."


def _order(facts: Sequence[Fact], request: OfflineRequest) -> list[int]:
    """Fact indexes in asking order: by topic relevance (if any), kinds interleaved."""
    rng = random.Random(f"order:{request.seed}")
    indexes = list(range(len(facts)))
    rng.shuffle(indexes)
    if request.relevance is not None:
        relevance = request.relevance
        indexes.sort(key=lambda i: -round(float(relevance[i]), 1))
    else:
        indexes.sort(key=lambda i: -facts[i].priority)
    # Interleave kinds so a run is not ten glossary look-ups in a row.
    queues: dict[str, list[int]] = {}
    for i in indexes:
        queues.setdefault(facts[i].kind, []).append(i)
    ordered: list[int] = []
    kinds = sorted(queues, key=lambda k: [CLOZE, TERM, WHICH, ACTION, DEFINITION].index(k))
    while any(queues.values()):
        for kind in kinds:
            if queues[kind]:
                ordered.append(queues[kind].pop(0))
    return ordered


def offline_items(
    material: Material, vectors: TermVectors, request: OfflineRequest
) -> Iterator[DraftItem]:
    """Candidate items in asking order; at most one per key term, fresh keys first."""
    facts = material.facts
    used: set[int] = set()
    order = _order(facts, request)
    terms = material.bank.terms
    fresh = [i for i in order if key_of(terms[facts[i].term].text) not in request.avoid_keys]
    stale = [i for i in order if i not in set(fresh)]
    # A small glossary splits into many one-term groups (one enzyme, one pigment): once the
    # items with same-group options run out, the rest are asked with options of the key's
    # family, which a reviewer still reads as one kind.
    passes = [(i, True) for i in fresh + stale] + [(i, False) for i in fresh + stale]
    for i, by_group in passes:
        fact = facts[i]
        if fact.term in used:
            continue
        key = material.bank.terms[fact.term]
        stem = _stem(fact, key)
        key_option = _option_text(fact, key)
        if stem is None or key_option is None or stem_hash(stem) in request.avoid_stems:
            continue
        rng = random.Random(f"{request.seed}:{fact.kind}:{fact.term}:{fact.support}")
        distractors = _distractors(
            fact, material, vectors, stem, key_option, rng, request.difficulty, by_group
        )
        if distractors is None:
            continue
        options = (key_option, *(text for _, text in distractors))
        if (
            _cued(stem, options)
            or ruled_out_by_name(stem, options, 0)
            or off_group_distractors(stem, options, 0, material.lexicon)
        ):
            continue  # the term's other form (definition <-> term) may ask it cleanly
        used.add(fact.term)
        yield DraftItem(
            stem=stem,
            options=options,
            correct_index=0,
            explanation=_explanation(fact, material, distractors),
            source_chunk_ids=fact.chunk_ids,
            source_pages=fact.pages,
            support=fact.support,
            topic=fact.heading,
            difficulty=request.difficulty,
            kind=fact.kind,
            flags=(RECALL,),
        )


def key_of(text: str) -> str:
    """The normalised form `OfflineRequest.avoid_keys` holds."""
    return key_name(text)
