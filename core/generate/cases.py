"""Case-style items: a short case assembled from a pathogen's own section, names masked.

A clinical chapter gives each disease a section (signs and symptoms, transmission,
diagnosis, treatment) whose subject is the organism it names most. The case is made of that
section's sentences that describe the illness without naming the organism (or anything
sharing its root); the question asks for the most likely cause, and the options are the
subjects of sibling sections, so every option is an organism of the same chapter. The
student must apply what the section says to a description: an application-level item.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from wordfreq import zipf_frequency

from core.generate.facts import SourceChunk, locate
from core.generate.flaws import shares_root
from core.generate.kinds import is_binomial
from core.generate.schema import DraftItem
from core.generate.text import clean, prose_sentence, sentences

CASE_KIND = "case"
CASE_OPTIONS = 4
MIN_CASE_SENTENCES = 2
MAX_CASE_SENTENCES = 3
# Sentences that describe an illness: what it does, how it spreads, how it is found.
_CLINICAL = re.compile(
    r"\b(symptoms?|signs?|fever|pain|diarrh\w*|vomit\w*|nausea|cramps?|rash|lesions?|"
    r"transmi\w*|contaminat\w*|ingest\w*|acquired|consum\w*|outbreaks?|incubation|"
    r"diagnos\w*|cultur\w*|stool|blood|biopsy|characteri[sz]ed|presents?|onset|causes?)\b",
    re.IGNORECASE,
)
_BINOMIAL_IN_TEXT = re.compile(r"\b([A-Z][a-z]+|[A-Z]\.)\s+([a-z]{3,})\b")


@dataclass(frozen=True)
class _Section:
    heading: str
    chunks: tuple[SourceChunk, ...]
    subject: str  # the organism the section names most ("Vibrio cholerae")
    names: tuple[str, ...]  # every way the section writes it ("V. cholerae", "Vibrio")


def _organisms(text: str) -> Counter[str]:
    """Binomials of a text, initials expanded where the genus is written out."""
    found: Counter[str] = Counter()
    genera: dict[str, str] = {}
    for match in _BINOMIAL_IN_TEXT.finditer(clean(text)):
        if not is_binomial(match.group(0)):
            continue
        genus, epithet = match.groups()
        if not genus.endswith("."):
            genera[genus[0]] = genus
        found[f"{genus} {epithet}"] += 1
    merged: Counter[str] = Counter()
    for name, count in found.items():
        genus, epithet = name.split(" ", 1)
        if genus.endswith("."):
            genus = genera.get(genus[0], genus)
        merged[f"{genus} {epithet}"] += count
    return merged


def _sections(chunks: Sequence[SourceChunk]) -> list[_Section]:
    by_heading: dict[str, list[SourceChunk]] = {}
    for chunk in sorted(chunks, key=lambda c: (c.material_id, c.ordinal)):
        if chunk.heading:
            by_heading.setdefault(chunk.heading, []).append(chunk)
    sections = []
    for heading, members in by_heading.items():
        counts = _organisms(" ".join(c.text for c in members))
        if not counts:
            continue
        subject, count = counts.most_common(1)[0]
        if count < 2 or "." in subject.split(" ")[0]:
            continue
        genus, epithet = subject.split(" ", 1)
        names = (subject, f"{genus[0]}. {epithet}", genus, epithet)
        sections.append(_Section(heading, tuple(members), subject, names))
    # One section per organism: the one that names it most is its own.
    best: dict[str, _Section] = {}
    for section in sections:
        best.setdefault(section.subject, section)
    return list(best.values())


def _own_title(section: _Section) -> str:
    return section.heading.split("›")[-1]


def _mentions(sentence: str, section: _Section, *, title: bool = True) -> bool:
    """Whether the sentence names the section's organism or disease (or a word of the same
    root: "cholera" gives "Vibrio cholerae" away)."""
    lowered = sentence.lower()
    if any(name.lower() in lowered for name in section.names):
        return True
    title_words = [
        w for w in re.findall(r"[A-Za-z]{4,}", _own_title(section)) if zipf_frequency(w, "en") < 4
    ]
    roots = [section.names[2], section.names[3], *(title_words if title else [])]
    return any(
        shares_root(word, root)
        for word in re.findall(r"[A-Za-z]{4,}", sentence)
        for root in roots
        if len(root) >= 4
    )


def _case_sentences(section: _Section, others: Sequence[_Section]) -> list[str]:
    picked: list[str] = []
    for chunk in section.chunks:
        for sentence in sentences(chunk.text):
            if len(picked) >= MAX_CASE_SENTENCES:
                return picked
            if not prose_sentence(sentence) or not _CLINICAL.search(sentence):
                continue
            if _mentions(sentence, section) or _BINOMIAL_IN_TEXT.search(sentence):
                continue
            if any(_mentions(sentence, other, title=False) for other in others):
                continue
            if sentence not in picked:
                picked.append(sentence)
    return picked


def _support(section: _Section) -> tuple[str, SourceChunk] | None:
    """A sentence of the section that names its organism (what makes the key right)."""
    for chunk in section.chunks:
        for sentence in sentences(chunk.text):
            if section.subject in clean(sentence) or section.names[1] in clean(sentence):
                return sentence, chunk
    return None


def case_items(chunks: Sequence[SourceChunk], *, seed: int, difficulty: int) -> Iterator[DraftItem]:
    """Case items for every pathogen section with enough clinical sentences; key first."""
    sections = _sections(chunks)
    if len(sections) < CASE_OPTIONS:
        return
    rng = random.Random(f"cases:{seed}")
    order = list(range(len(sections)))
    rng.shuffle(order)
    for index in order:
        section = sections[index]
        others = [s for i, s in enumerate(sections) if i != index]
        case = _case_sentences(section, others)
        support = _support(section)
        if len(case) < MIN_CASE_SENTENCES or support is None:
            continue
        # Siblings first: the sections nearest in reading order are the likeliest confusions.
        position = {s.subject: i for i, s in enumerate(sections)}
        nearest = sorted(others, key=lambda s: abs(position[s.subject] - index))
        distractors = rng.sample(nearest[:6], CASE_OPTIONS - 1)
        cited = [c for c in section.chunks if any(s in clean(c.text) for s in case)]
        cited_chunks = cited or [support[1]]
        where = locate(support[0], [support[1]], section.chunks)
        pages = sorted(
            {p for c in cited_chunks for p in range(c.page_start, c.page_end + 1)}
            | set(where[1] if where else ())
        )
        description = " ".join(case)
        stem = (
            f"A patient's illness is described as follows. {description} "
            "Which of the following organisms is the most likely cause?"
        )
        others_text = "; ".join(
            f"{d.subject} is the subject of \"{d.heading}\"" for d in distractors
        )
        explanation = (
            f"The answer is {section.subject}. Your material says: \"{support[0]}\" "
            f"The description comes from the section \"{section.heading}\". "
            f"The other options belong to other sections: {others_text}."
        )
        chunk_ids = tuple(dict.fromkeys([support[1].id, *(c.id for c in cited_chunks)]))
        yield DraftItem(
            stem=stem,
            options=(section.subject, *(d.subject for d in distractors)),
            correct_index=0,
            explanation=explanation,
            source_chunk_ids=chunk_ids,
            source_pages=tuple(pages),
            support=support[0],
            topic=section.heading,
            difficulty=difficulty,
            kind=CASE_KIND,
        )
