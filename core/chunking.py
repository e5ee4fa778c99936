"""Clean lines of a PDF -> overlapping chunks, each with its page range, heading and kind.

Headings come from the PDF outline when there is one, from numbered section lines
("19.1 Heart Anatomy"), from lines set clearly larger than the body text, and from the
usual end-of-chapter section names. The kind follows the part of the document a chunk is
in, so the generator can skip the book's own review questions and use the glossary.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from langchain_text_splitters import RecursiveCharacterTextSplitter

from core.pdf_text import OutlineEntry, PdfText, TextLine
from storage.enums import ChunkKind

# all-MiniLM-L6-v2 reads at most 256 word pieces and ignores the rest. This prose runs about
# 4.3 characters per word piece (medical terms split into more), so 900 characters plus a
# heading line stays inside the window for nearly every chunk, and a chunk is still a whole
# paragraph or two: enough context for a question. 150 characters of overlap (about one
# sentence) keeps a fact cut at a boundary whole in one of the two neighbours.
CHUNK_SIZE = 900
CHUNK_OVERLAP = 150
# A section shorter than this is folded into the next one of the same kind rather than
# becoming a stub chunk that embeds as little more than its heading.
MIN_SECTION_CHARS = 300
# A short section with a heading and at least this many list items (a slide: a title and
# its bullets) stays one chunk of its own: merged, its points would lose their title.
MIN_LIST_ITEMS = 2
# A split-off tail shorter than this joins the chunk before it.
MIN_CHUNK_CHARS = 200
HEADING_MAX_CHARS = 255
HEADING_SEPARATOR = " › "
SEPARATORS = ("\n", ". ", "? ", "! ", "; ", ": ", ", ", " ", "")
# A line set this much larger than the body text, on its own, is a heading.
HEADING_FONT_RATIO = 1.15

_NUMBERED = re.compile(r"^(\d{1,3}(?:\.\d{1,3}){1,2})\s+([A-Z][^\n]{2,100})$")
_CHAPTER = re.compile(r"^(?:chapter|unit|part)\s+\d{1,3}\b[:.]?\s*\S", re.IGNORECASE)
_ITEM_START = re.compile(r"^(?:[•▪◦·*]\s|\d{1,3}[.)]\s|[A-Ea-e][.)]\s|(?:Figure|Table)\s+\d)")
# A bullet or numbered point (not a caption): what a slide's body is made of.
_LIST_ITEM = re.compile(r"^(?:[•▪◦·*\-–]\s|\d{1,3}[.)]\s)")
_SENTENCE_END = re.compile(r"[.!?:;,\"”’]$")
_SOFT_HYPHEN = "\u00ad"

_KEY_TERMS = re.compile(r"^(key terms|glossary|key words|vocabulary)$", re.I)
_SUMMARY = re.compile(
    r"^(chapter review|chapter summary|summary|key concepts( and summary)?)$", re.I
)
_QUESTIONS = re.compile(
    r"^((review|interactive link|critical thinking|visual connection|self[- ]check|practice|"
    r"end[- ]of[- ]chapter)\s+questions?(:.*)?|review questions?:.*|critical thinking|"
    r"multiple choice|true/false|true or false|fill in the blanks?|short answer|matching|"
    r"exercises|check your understanding)$",
    re.I,
)
# Not study text: citations and the table of contents are read past, never chunked.
_SKIPPED = re.compile(
    r"^(footnotes|references|bibliography|works cited|(table of )?contents)$", re.I
)
# A box of questions inside the body; it ends with its last question.
_INLINE_QUESTIONS = re.compile(r"^check your understanding$", re.I)


@dataclass(frozen=True)
class ChunkDraft:
    """A chunk before it has a row: text, 1-based page range, nearest heading, kind."""

    ordinal: int
    text: str
    page_start: int
    page_end: int
    heading: str
    kind: ChunkKind

    @property
    def embed_text(self) -> str:
        """What gets embedded: the heading gives a short passage its subject."""
        return f"{self.heading}\n{self.text}" if self.heading else self.text


@dataclass(frozen=True)
class Heading:
    """A heading as found in the text: level 0 chapter, 1 section, 2 subsection."""

    text: str
    level: int
    page: int


@dataclass(frozen=True)
class _Line:
    text: str
    page: int
    new_paragraph: bool
    heading_level: int | None


@dataclass
class _Section:
    kind: ChunkKind
    heading: str
    lines: list[_Line] = field(default_factory=list)
    skipped: bool = False


def chunk_document(
    text: PdfText, *, chunk_size: int = CHUNK_SIZE, chunk_overlap: int = CHUNK_OVERLAP
) -> list[ChunkDraft]:
    """The chunks of an extracted PDF, in reading order."""
    return chunk_lines(
        text.lines, outline=text.outline, chunk_size=chunk_size, chunk_overlap=chunk_overlap
    )


def chunk_lines(
    lines: Sequence[TextLine],
    *,
    outline: Sequence[OutlineEntry] = (),
    chunk_size: int = CHUNK_SIZE,
    chunk_overlap: int = CHUNK_OVERLAP,
) -> list[ChunkDraft]:
    """Splits lines (with their pages and paragraph flags) into ordered chunk drafts."""
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        separators=list(SEPARATORS),
        keep_separator="end",
        strip_whitespace=True,
    )
    drafts: list[ChunkDraft] = []
    for section in _merge_small(_sections(_classify(lines, outline))):
        text, starts, pages = _join(section.lines)
        spans = _locate(text, splitter.split_text(text), chunk_overlap)
        for begin, end in _absorb_tails(spans):
            drafts.append(
                ChunkDraft(
                    ordinal=len(drafts),
                    text=text[begin:end],
                    page_start=_page_at(starts, pages, begin),
                    page_end=_page_at(starts, pages, end - 1),
                    heading=section.heading[:HEADING_MAX_CHARS],
                    kind=section.kind,
                )
            )
    return drafts


def find_headings(text: PdfText) -> list[Heading]:
    """Every heading line of an extracted PDF in reading order (for topic lists)."""
    return [
        Heading(line.text, line.heading_level, line.page)
        for line in _classify(text.lines, text.outline)
        if line.heading_level is not None
    ]


def _key(text: str) -> str:
    return " ".join(text.casefold().split())


def _classify(lines: Sequence[TextLine], outline: Sequence[OutlineEntry]) -> list[_Line]:
    """Re-joins headings wrapped over two lines and marks every heading with its level."""
    by_title: dict[str, list[OutlineEntry]] = {}
    for entry in outline:
        by_title.setdefault(_key(entry.title), []).append(entry)
    body_size = _body_font_size(lines)
    out: list[_Line] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        text, used = line.text, 1
        if i + 1 < len(lines) and _key(text) not in by_title:
            both = f"{text} {lines[i + 1].text}"
            if _key(both) in by_title:
                text, used = both, 2
        after = lines[i + used] if i + used < len(lines) else None
        stands_alone = line.new_paragraph and (after is None or after.new_paragraph)
        large = bool(body_size and line.size >= HEADING_FONT_RATIO * body_size)
        level = _heading_level(text, line.page, by_title, large=large and stands_alone)
        out.append(_Line(text, line.page, line.new_paragraph or level is not None, level))
        i += used
    return out


def _body_font_size(lines: Sequence[TextLine]) -> float:
    sizes: Counter[float] = Counter()
    for line in lines:
        if line.size:
            sizes[round(line.size, 1)] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 0.0


def _heading_level(
    text: str, page: int, by_title: dict[str, list[OutlineEntry]], *, large: bool
) -> int | None:
    entries = by_title.get(_key(text))
    if entries and any(abs(entry.page - page) <= 1 for entry in entries):
        return min(min(entry.level for entry in entries), 2)
    if len(text) > 110 or _SENTENCE_END.search(text):
        return None
    if _section_rule(text) is not None:
        return 1
    numbered = _NUMBERED.match(text)
    if numbered and len(text.split()) <= 14:
        return 1 if numbered.group(1).count(".") == 1 else 2
    if _CHAPTER.match(text) and len(text.split()) <= 12 and not by_title:
        return 0
    if large and len(text.split()) <= 14 and not _ITEM_START.match(text):
        return 2
    return None


def _section_rule(text: str) -> tuple[ChunkKind, bool] | None:
    """(kind, skipped) an end-of-chapter heading starts, or None for any other line."""
    line = text.strip()
    if _KEY_TERMS.match(line):
        return ChunkKind.KEY_TERMS, False
    if _SUMMARY.match(line):
        return ChunkKind.SUMMARY, False
    if _QUESTIONS.match(line):
        return ChunkKind.REVIEW_QUESTIONS, False
    if _SKIPPED.match(line):
        return ChunkKind.BODY, True
    return None


def _sections(lines: list[_Line]) -> list[_Section]:
    """Cuts the line stream at headings and gives each part its kind and heading path."""
    sections: list[_Section] = []
    kind, skipping = ChunkKind.BODY, False
    seen_in_body: set[str] = set()
    parent = ""  # the current chapter or section heading
    current = _Section(kind, "")
    box: _Section | None = None  # a "Check Your Understanding" box being read

    for line in lines:
        if box is not None:
            # The box is its list of questions: it ends at the first paragraph that is not
            # a list item (wrapped lines of an item are not new paragraphs).
            finished = line.new_paragraph and not _ITEM_START.match(line.text)
            if not finished and line.heading_level is None:
                box.lines.append(line)
                continue
            sections.append(box)
            box = None
        if line.heading_level is None:
            current.lines.append(line)
            continue
        if _INLINE_QUESTIONS.match(line.text) and kind is ChunkKind.BODY and not skipping:
            sections.append(current)
            box = _Section(ChunkKind.REVIEW_QUESTIONS, line.text)
            current = _Section(kind, current.heading)
            continue
        sections.append(current)
        rule = _section_rule(line.text)
        end_matter = kind is not ChunkKind.BODY or skipping
        if rule is not None:
            (kind, skipping), parent, heading = rule, line.text, line.text
        elif line.heading_level == 0 or (end_matter and _key(line.text) not in seen_in_body):
            # A new chapter, or a section not seen before: the end matter is over.
            kind, skipping, parent, heading = ChunkKind.BODY, False, line.text, line.text
        elif line.heading_level <= 1 and not end_matter:
            parent = heading = line.text
        else:
            # A subsection, or a section's name repeated inside the end matter.
            heading = f"{parent}{HEADING_SEPARATOR}{line.text}" if parent else line.text
        if kind is ChunkKind.BODY and not skipping:
            seen_in_body.add(_key(line.text))
        current = _Section(kind, heading, skipped=skipping)
    if box is not None:
        sections.append(box)
    sections.append(current)
    return [section for section in sections if section.lines and not section.skipped]


def _merge_small(sections: list[_Section]) -> list[_Section]:
    """Folds a short section into the next one of the same kind (its heading kept as a line)."""
    merged: list[_Section] = []
    carry: _Section | None = None
    for section in sections:
        if carry is not None and carry.kind is section.kind:
            lines = list(carry.lines)
            if section.heading and section.heading != carry.heading:
                title = section.heading.split(HEADING_SEPARATOR)[-1]
                lines.append(_Line(title, section.lines[0].page, True, 2))
            section = _Section(
                section.kind, carry.heading or section.heading, lines + section.lines
            )
        elif carry is not None:
            merged.append(carry)
        carry = None
        if sum(
            len(line.text) for line in section.lines
        ) < MIN_SECTION_CHARS and not _is_titled_list(section):
            carry = section
        else:
            merged.append(section)
    if carry is not None:
        merged.append(carry)
    return merged


def _is_titled_list(section: _Section) -> bool:
    items = sum(1 for line in section.lines if _LIST_ITEM.match(line.text))
    return bool(section.heading) and items >= MIN_LIST_ITEMS


def _join(lines: list[_Line]) -> tuple[str, list[int], list[int]]:
    """The section's text with wrapped lines re-joined by spaces and a newline before each
    paragraph, list item or caption; plus each source line's start offset and page."""
    parts: list[str] = []
    starts: list[int] = []
    pages: list[int] = []
    length = 0
    after_heading = False
    for line in lines:
        if parts:
            if parts[-1].endswith(_SOFT_HYPHEN):
                parts[-1] = parts[-1][:-1]
                length -= 1
                glue = ""
            elif line.new_paragraph or after_heading or _ITEM_START.match(line.text):
                glue = "\n"
            else:
                glue = " "
            parts.append(glue)
            length += len(glue)
        starts.append(length)
        pages.append(line.page)
        parts.append(line.text)
        length += len(line.text)
        after_heading = line.heading_level is not None
    return "".join(parts), starts, pages


def _locate(text: str, pieces: list[str], overlap: int) -> list[tuple[int, int]]:
    """Where each split piece sits in `text` (pieces come in order and may overlap)."""
    spans: list[tuple[int, int]] = []
    cursor = 0
    for piece in pieces:
        found = text.find(piece, max(0, cursor - overlap - len(piece)))
        begin = found if found >= 0 else cursor
        spans.append((begin, begin + len(piece)))
        cursor = begin + len(piece)
    return spans


def _absorb_tails(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A tiny piece left over after a split joins its predecessor instead of standing alone."""
    out: list[tuple[int, int]] = []
    for begin, end in spans:
        if out and end - begin < MIN_CHUNK_CHARS and end > out[-1][1]:
            out[-1] = (out[-1][0], end)
        else:
            out.append((begin, end))
    return out


def _page_at(starts: list[int], pages: list[int], offset: int) -> int:
    return pages[max(0, bisect.bisect_right(starts, offset) - 1)]
