"""The term bank of one material: the things an offline item may ask about or offer.

Terms come from the chapter's key-terms glossary when it has one (with definitions and
"also" synonyms), from phrases the text names ("called X", "known as X"), and from rare
phrases it repeats (drug names, structures). Distractors are drawn from this bank only, so
every option is a real term of the student's own material.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from wordfreq import zipf_frequency

from core.generate.glossary import GlossaryEntry, PhraseCounts
from core.generate.text import (
    NOT_NOUN_ENDINGS,
    STOPWORDS,
    clean,
    content_words,
    normalise,
    prose_sentence,
    sentences,
)

# "called the cardiogenic cords", "known as the cardiogenic area", "termed afterload".
NAMING = re.compile(
    r"\b(?:called|known as|referred to as|termed|named)\s+(?:the\s+|a\s+|an\s+)?"
    r"(?P<term>[A-Za-zα-ωΑ-Ω][\w'’-]*(?:\s+[\w'’-]+){0,3})",
)
# Words a term phrase never contains or ends with (they break the phrase there).
_PHRASE_BREAK = STOPWORDS | {"figure", "table", "chapter", "section", "openstax", "adapted"}
# Rarer than this in general English (Zipf), a word marks a domain phrase.
DOMAIN_ZIPF = 3.3
# How many times a mined phrase must occur in the material to be trusted as a term.
MIN_PHRASE_COUNT = 2
# An everyday word (Zipf): never the first word of a mined term.
COMMON_ZIPF = 5.0
MAX_MINED_TERMS = 400
_TOKEN = re.compile(r"[A-Za-zα-ωΑ-Ωβ][\w'’-]*")


@dataclass(frozen=True)
class Term:
    """A term as shown in an option, plus what is known about it."""

    text: str
    definition: str = ""
    aliases: tuple[str, ...] = ()
    source: str = "glossary"  # "glossary", "named" or "mined"

    @property
    def plural(self) -> bool:
        return looks_plural(self.text)

    def names(self) -> set[str]:
        """Normalised spellings of this term (its aliases, bare of an "(AV)" abbreviation)."""
        found = {normalise(self.text), normalise(_bare(self.text))}
        found.update(normalise(a) for a in self.aliases)
        return {n for n in found if n}

    def embedding_texts(self) -> tuple[str, str]:
        """What is embedded: the name alone, and the name with its definition (if any)."""
        return self.text, f"{self.text}: {self.definition}" if self.definition else self.text


@dataclass
class TermBank:
    """All terms of the material(s) at hand, in a stable order (for reproducible picks)."""

    terms: list[Term] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.terms)


_ABBREVIATION_PAREN = re.compile(r"\s*\([A-Z][A-Za-z0-9]{0,6}\)")


def _bare(term: str) -> str:
    return clean(_ABBREVIATION_PAREN.sub("", term))


def key_name(text: str) -> str:
    """A term's normalised name without an "(AV)" abbreviation: how keys are compared."""
    return normalise(_bare(text))


def looks_plural(text: str) -> bool:
    """A number guess for agreement ("the ___ are"): -s/-ae, or a Latin plural whose
    singular English knows ("villi" of "villus", "atria" of "atrium")."""
    words = normalise(_bare(text)).split()
    if not words:
        return False
    last = words[-1]
    if last.endswith(("ss", "us", "is", "sis", "ics")):
        return False
    if last.endswith(("s", "ae")):
        return True
    if len(last) > 4 and last.endswith("i"):
        return zipf_frequency(last[:-1] + "us", "en") > 0
    if len(last) > 4 and last.endswith("a"):
        return any(zipf_frequency(last[:-1] + end, "en") > 0 for end in ("um", "on"))
    return False


def _named_terms(texts: Sequence[str], counts: PhraseCounts) -> Counter[str]:
    """Phrases the text names ("called the cardiogenic cords"), cut to the part it reuses."""
    found: Counter[str] = Counter()
    for text in texts:
        for sentence in sentences(text):
            for match in NAMING.finditer(sentence):
                words: list[str] = []
                for word in match.group("term").split():
                    bare = word.strip(",.;:()'’")
                    if (
                        not bare
                        or normalise(bare) in _PHRASE_BREAK
                        or any(ch.isdigit() for ch in bare)
                    ):
                        break
                    words.append(bare)
                    if bare != word:  # punctuation ends the phrase
                        break
                # "called mesoderm around 18 ...": a name that runs on into the sentence is
                # not trusted (its reused head is usually a glossary term anyway).
                if len(words) > 1 and counts.count(" ".join(words)) < MIN_PHRASE_COUNT:
                    continue
                if words and any(zipf_frequency(w.lower(), "en") < DOMAIN_ZIPF for w in words):
                    found[" ".join(words)] += 1
    return found


def _noun_like(phrase: str) -> bool:
    """A term's head word is a noun: not "enzymatic", "inhibited", "athlete's", "Ehrlich";
    and a phrase does not open with an everyday word ("once chloramphenicol", "new ...")."""
    words = phrase.split()
    head = words[-1]
    if head.endswith(NOT_NOUN_ENDINGS) or "'" in head or "’" in head:
        return False
    if len(words) > 1 and zipf_frequency(words[0].lower(), "en") >= COMMON_ZIPF:
        return False
    # A capitalised single word never written in lower case is a name or a heading word.
    return not (" " not in phrase and head[:1].isupper())


def _mined_phrases(texts: Iterable[str]) -> Counter[str]:
    """Runs of 1-3 words without function words, containing a rare word, seen repeatedly
    in running prose; a single word said once in prose also counts its mentions in tables
    and lists (a drug a chapter names once in a sentence and again in its table)."""
    counts: Counter[str] = Counter()
    elsewhere: Counter[str] = Counter()
    for text in texts:
        for sentence in sentences(text):
            tokens = _TOKEN.findall(sentence)
            if not prose_sentence(sentence):
                elsewhere.update(t.lower() for t in tokens)
                continue
            for n in (1, 2, 3):
                for i in range(len(tokens) - n + 1):
                    gram = tokens[i : i + n]
                    lowered = [g.lower() for g in gram]
                    if any(w in _PHRASE_BREAK for w in lowered):
                        continue
                    # Title-case runs are headings and names; terms are written lower-case
                    # (proper parts like "Purkinje" aside).
                    if n > 1 and all(g[:1].isupper() for g in gram):
                        continue
                    if not any(zipf_frequency(w, "en") < DOMAIN_ZIPF for w in lowered):
                        continue
                    if any(len(w) < 3 for w in lowered):
                        continue
                    # A sentence-initial capital is not part of the term ("PCP" stays).
                    if i == 0 and gram[0][1:].islower():
                        gram = [gram[0][:1].lower() + gram[0][1:], *gram[1:]]
                    counts[" ".join(gram)] += 1

    def seen(phrase: str, count: int) -> int:
        single = " " not in phrase and phrase.islower()
        return count + elsewhere[phrase] if single else count

    return Counter(
        {p: c for p, c in counts.items() if seen(p, c) >= MIN_PHRASE_COUNT and _noun_like(p)}
    )


def build_term_bank(
    glossary: Sequence[GlossaryEntry],
    body_texts: Sequence[str],
    *,
    counts: PhraseCounts | None = None,
    mine: bool | None = None,
) -> TermBank:
    """Glossary terms first, then named and mined terms not already known by another name.

    Mining runs when the material has no glossary (or `mine` says so): a lecture deck has
    no key-terms list, so its repeated rare phrases stand in for one.
    """
    terms: list[Term] = []
    seen: set[str] = set()

    def add(term: Term) -> None:
        names = term.names()
        if names & seen:
            return
        seen.update(names)
        terms.append(term)

    for entry in glossary:
        add(Term(entry.term, entry.definition, entry.aliases, "glossary"))
    named = _named_terms(body_texts, counts or PhraseCounts(body_texts))
    for phrase, _ in sorted(named.items(), key=lambda kv: (-kv[1], kv[0])):
        add(Term(phrase, source="named"))
    if mine if mine is not None else not glossary:
        mined = _mined_phrases(body_texts)
        # Case variants ("Penicillin"/"penicillin") collapse onto the most frequent spelling.
        ranked = sorted(mined.items(), key=lambda kv: (-kv[1], kv[0]))
        for phrase, _ in ranked[:MAX_MINED_TERMS]:
            if content_words(phrase):
                add(Term(phrase, source="mined"))
    return TermBank(terms)
