"""A material's topics, so a student can pick one: its section headings, or key phrases.

Headings come from the stored chunks (numbered sections such as "19.1 Heart Anatomy" and
their subsections, or outline entries), so the PDF is never re-read. A material without
headings (a slide deck, typed notes) gets its key phrases from YAKE instead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from core.chunking import HEADING_SEPARATOR
from storage.enums import ChunkKind
from storage.models import Chunk
from storage.repos.chunks import chunks_for_material

# Headings that name a part of the book rather than a subject to study.
_NOT_A_TOPIC = re.compile(
    r"^(chapter \d+\b.*|introduction|learning objectives|chapter objectives|contents|"
    r"summary|key terms|chapter review|references|footnotes)$",
    re.IGNORECASE,
)
_SECTION_NUMBER = re.compile(r"^\d{1,3}(?:\.\d{1,3}){1,2}\s+")
MAX_KEY_PHRASES = 15
# YAKE reads this much text at most: phrases come from the start of long materials.
KEY_PHRASE_TEXT_CHARS = 60_000


@dataclass(frozen=True)
class Topic:
    """A topic as shown in /topics: its title, outline level (1 section, 2 subsection), the
    first page it is on, and how many passages it spans."""

    title: str
    level: int
    page: int
    chunks: int = 0

    @property
    def query(self) -> str:
        """The words to quiz on: the title without its section number."""
        return _SECTION_NUMBER.sub("", self.title).strip() or self.title


async def topics_for_material(session: AsyncSession, material_id: int) -> list[Topic]:
    """The material's topics in reading order (headings, else key phrases)."""
    chunks = await chunks_for_material(session, material_id, kinds=[ChunkKind.BODY])
    return topics_from_chunks(chunks)


def topics_from_chunks(chunks: Sequence[Chunk]) -> list[Topic]:
    """Sections and subsections from the chunks' heading paths; key phrases if none."""
    topics = _heading_topics(chunks)
    if topics:
        return topics
    return key_phrase_topics(chunks)


def _heading_topics(chunks: Sequence[Chunk]) -> list[Topic]:
    found: dict[tuple[str, int], Topic] = {}
    for chunk in chunks:
        if not chunk.heading:
            continue
        parts = [part.strip() for part in chunk.heading.split(HEADING_SEPARATOR)]
        for level, title in enumerate(parts[:2], start=1):
            if not title or _NOT_A_TOPIC.match(title):
                continue
            key = (title.casefold(), level)
            seen = found.get(key)
            if seen is None:
                found[key] = Topic(title=title, level=level, page=chunk.page_start, chunks=1)
            else:
                found[key] = Topic(seen.title, seen.level, seen.page, seen.chunks + 1)
    return list(found.values())


def key_phrase_topics(chunks: Sequence[Chunk], *, top: int = MAX_KEY_PHRASES) -> list[Topic]:
    """The most characteristic 1-3 word phrases of the text (YAKE), with their first page."""
    if not chunks:
        return []
    import yake

    text = "\n".join(chunk.text for chunk in chunks)[:KEY_PHRASE_TEXT_CHARS]
    extractor = yake.KeywordExtractor(lan="en", n=3, dedup_lim=0.7, top=top)
    phrases = [phrase for phrase, _score in extractor.extract_keywords(text)]
    topics: list[Topic] = []
    for phrase in phrases:
        needle = phrase.casefold()
        pages = [chunk.page_start for chunk in chunks if needle in chunk.text.casefold()]
        if pages:
            topics.append(Topic(title=phrase, level=1, page=min(pages), chunks=len(pages)))
    return topics
