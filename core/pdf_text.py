"""PDF bytes -> clean text per page (pypdfium2), outline and title; typed errors for bad files.

Pages without a text layer (scanned) are rendered and read by OCR (core.readers.ocr); the
other pages of the same file keep their own text.

Cleaning removes what repeats on every page and is not content: running headers and
footers, bare page numbers, table-of-contents leader lines, and a licence/attribution block
at the top of the first page. Page numbers are 1-based PDF page indexes.
"""

from __future__ import annotations

import ctypes
import itertools
import math
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from core.readers.formats import PDF_HEADER_WINDOW
from core.readers.ocr import OcrLine, PageRecogniser
from core.readers.pdf_tables import PageTable, has_caption, read_tables
from core.upload_errors import (
    CorruptFile,
    EmptyFile,
    NoPages,
    PasswordProtected,
    ScannedNoText,
    TooLittleText,
    TooManyPages,
    UnsupportedFormat,
)

# PDFium is not thread-safe: every call into it, from any worker thread, holds this lock.
PDFIUM_LOCK = threading.Lock()

HEADER_WINDOW = PDF_HEADER_WINDOW
# Fewer words than this in the whole file is too little to study from.
MIN_WORDS = 40
# Pages with fewer characters than this count as having no text layer (and are read by OCR);
# a page OCR reads fewer from is unreadable.
MIN_PAGE_CHARS = 20
# Scanned pages are rendered at this resolution for OCR, their longest side capped in pixels
# (the detector works at up to 2000 px; a poster-sized page must not become a huge bitmap).
OCR_DPI = 200
MAX_OCR_SIDE_PX = 2400
# A rendered page with less ink than this share of its pixels is blank, not unreadable.
MIN_INK_SHARE = 0.0005
# Top and bottom lines of a page examined for running headers and footers.
TOP_ZONE = 2
BOTTOM_ZONE = 3
# Share of the pages between a line's first and last appearance that it must appear on.
RUNNING_DENSITY = 0.6
# The attribution block must start within the first lines of page 1; lines mentioning a
# licence more than ATTRIBUTION_GAP lines apart belong to different blocks (figure credits).
ATTRIBUTION_ZONE = 25
ATTRIBUTION_GAP = 3
# A baseline gap this many times the usual spacing for the font size starts a paragraph
# (body text here: 12.4 pt normally, 17.5 pt between paragraphs; glossary entries 14 pt
# apart where their wrapped lines sit 11 pt apart).
PARAGRAPH_GAP = 1.12
# Across a page break, a line shorter than this share of a full line ended its paragraph.
PARAGRAPH_SHORT_LINE = 0.75
# A line gap counts as common if it occurs at least this share as often as the top one.
USUAL_SPACING_SHARE = 0.1

_DIGITS = re.compile(r"\d+")
_SPACES = re.compile(r"[ \t\u00a0]+")
_PAGE_NUMBER = re.compile(r"^(?:page\s*)?\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?$", re.IGNORECASE)
_TOC_LEADER = re.compile(r"(?:\.\s?){4,}\s*\d{1,4}$")
_ATTRIBUTION = re.compile(
    r"creative commons|\bCC[ -]BY\b|licensed under|\blicen[cs]e\b|not endorsed|^source:"
    r"|openstax\.org|all rights reserved|©",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class OutlineEntry:
    level: int
    title: str
    page: int


@dataclass(frozen=True)
class TextLine:
    """One printed line: text, 1-based page, font size, baseline height (PDF points from the
    bottom), and whether a paragraph starts here (judged from the gap to the line above)."""

    text: str
    page: int
    size: float = 0.0
    y: float = 0.0
    new_paragraph: bool = False


@dataclass(frozen=True)
class PdfText:
    """A PDF's cleaned text: `pages[i]` is page i + 1 (lines joined by newlines), and the
    same lines with their layout facts, in reading order."""

    pages: tuple[str, ...]
    outline: tuple[OutlineEntry, ...] = ()
    title: str = ""
    lines: tuple[TextLine, ...] = ()
    # 1-based pages whose text came from OCR, and pages OCR could not read (left out).
    ocr_pages: tuple[int, ...] = ()
    unreadable_pages: tuple[int, ...] = ()

    @property
    def page_count(self) -> int:
        return len(self.pages)

    @property
    def word_count(self) -> int:
        # Bullets and dashes are no words: a slide of "• a point" has two.
        return sum(
            1 for page in self.pages for word in page.split() if any(c.isalnum() for c in word)
        )


def check_pdf_bytes(data: bytes) -> None:
    """Rejects empty files and non-PDFs by their first bytes (never by their name)."""
    if not data:
        raise EmptyFile()
    if b"%PDF-" not in data[:HEADER_WINDOW]:
        raise UnsupportedFormat()


class PageProgress(Protocol):
    """Called after each page: `ocr` is set while scanned pages are being recognised, and
    then `done`/`total` count those pages only. It may raise to stop the reading."""

    def __call__(self, done: int, total: int, /, *, ocr: bool = False) -> None: ...


def extract(
    data: bytes,
    *,
    on_page: Callable[[int, int], None] | PageProgress | None = None,
    max_pages: int | None = None,
    max_ocr_pages: int | None = None,
) -> PdfText:
    """Opens the PDF and returns its cleaned text per page; blocking (run it in a thread).

    Pages without a text layer are read by OCR. Raises an UploadRejected for empty, non-PDF,
    encrypted, corrupt, page-less or nearly empty files, for files where not even OCR finds
    text, for more than `max_pages` pages and more than `max_ocr_pages` scanned pages (both
    before reading any).
    """
    check_pdf_bytes(data)
    with PDFIUM_LOCK:
        document = _open(data)
    try:
        with PDFIUM_LOCK:
            total = len(document)
        if total == 0:
            raise NoPages()
        if max_pages is not None and total > max_pages:
            raise TooManyPages(pages=total, max_pages=max_pages)
        raw_pages: list[list[TextLine]] = []
        for number in range(total):
            with PDFIUM_LOCK:
                raw_pages.append(_page_lines(document, number))
            if on_page is not None:
                on_page(number + 1, total)
        with PDFIUM_LOCK:
            outline = _outline(document)
            title = _metadata_title(document)
        ocr_pages, unreadable = _read_scanned_pages(
            document, raw_pages, on_page=on_page, max_ocr_pages=max_ocr_pages
        )
    finally:
        with PDFIUM_LOCK:
            document.close()
    _read_tables_by_cell(data, raw_pages, skip=set(ocr_pages))
    kept = clean_lines(raw_pages)
    pages = tuple("\n".join(line.text for line in page) for page in kept)
    title = title or _attribution_title([line.text for line in raw_pages[0]])
    text = PdfText(
        pages=pages,
        outline=outline,
        title=title,
        lines=mark_paragraphs(kept),
        ocr_pages=ocr_pages,
        unreadable_pages=unreadable,
    )
    _check_text(raw_pages, text)
    return text


def _read_scanned_pages(
    document: pdfium.PdfDocument,
    raw_pages: list[list[TextLine]],
    *,
    on_page: Callable[..., None] | None,
    max_ocr_pages: int | None,
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Replaces the lines of each page without a text layer by what OCR reads on it.

    Returns (pages read by OCR, pages OCR found no text on); blank pages are neither.
    """
    scanned = [i for i, lines in enumerate(raw_pages) if _chars(lines) < MIN_PAGE_CHARS]
    if not scanned:
        return (), ()
    if max_ocr_pages is not None and len(scanned) > max_ocr_pages:
        raise TooManyPages(
            pages=len(scanned), max_pages=max_ocr_pages, what="PDF", unit="scanned page"
        )
    if on_page is not None:
        on_page(0, len(scanned), ocr=True)  # OCR is slow: say so before the first page
    recogniser = PageRecogniser()
    read: list[int] = []
    unreadable: list[int] = []
    for done, index in enumerate(scanned, start=1):
        # Rendering needs PDFium (and its lock); recognising, the slow part, does not.
        with PDFIUM_LOCK:
            image = _render_for_ocr(document, index)
        if _ink_share(image) >= MIN_INK_SHARE:
            lines = ocr_text_lines(recogniser.read(image), index + 1)
            if _chars(lines) >= MIN_PAGE_CHARS:
                raw_pages[index] = lines
                read.append(index + 1)
            else:
                unreadable.append(index + 1)
        if on_page is not None:
            on_page(done, len(scanned), ocr=True)
    return tuple(read), tuple(unreadable)


def _read_tables_by_cell(data: bytes, raw_pages: list[list[TextLine]], skip: set[int]) -> None:
    """Replaces each captioned table's flattened lines by one line per row (see
    core.readers.pdf_tables); OCR'd pages have no ruling to read and are left alone."""
    captioned = [
        index
        for index, lines in enumerate(raw_pages)
        if index + 1 not in skip and has_caption(line.text for line in lines)
    ]
    for index, tables in read_tables(data, captioned).items():
        raw_pages[index] = _spliced(raw_pages[index], tables)


def _spliced(lines: list[TextLine], tables: list[PageTable]) -> list[TextLine]:
    out: list[TextLine] = []
    placed: set[int] = set()
    for line in lines:
        owner = next((i for i, t in enumerate(tables) if t.holds(line.y, line.text)), None)
        if owner is None:
            out.append(line)
        elif owner not in placed:
            placed.add(owner)
            # Each row is a paragraph of its own, at the table's place in the reading order.
            out.extend(
                TextLine(row, line.page, line.size, line.y, new_paragraph=True)
                for row in tables[owner].lines
            )
    return out


def _render_for_ocr(document: pdfium.PdfDocument, index: int) -> np.ndarray:
    """The page as a grey bitmap at OCR_DPI (smaller for a huge page)."""
    page = document[index]
    try:
        width, height = page.get_size()
        scale = min(OCR_DPI / 72, MAX_OCR_SIDE_PX / max(width, height, 1.0))
        bitmap = page.render(scale=scale, grayscale=True)
        try:
            image = np.array(bitmap.to_numpy(), copy=True)
        finally:
            bitmap.close()
    finally:
        page.close()
    return image[..., 0] if image.ndim == 3 else image


def _ink_share(image: np.ndarray) -> float:
    return float((image < 128).mean()) if image.size else 0.0


def ocr_text_lines(lines: list[OcrLine], page: int) -> list[TextLine]:
    """OCR lines as text lines of `page`. They carry no font size: OCR box heights vary with
    ascenders and descenders, so paragraphs and headings are judged from line lengths and
    numbering instead (see mark_paragraphs)."""
    return [TextLine(line.text, page) for line in lines]


def _chars(lines: list[TextLine]) -> int:
    return sum(len(line.text) for line in lines)


def _open(data: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        code = getattr(error, "err_code", None)
        if code == pdfium_c.FPDF_ERR_PASSWORD:
            raise PasswordProtected() from error
        if _declares_zero_pages(data):
            # PDFium refuses an empty page tree as a format error; say what it really is.
            raise NoPages() from error
        raise CorruptFile() from error


def _declares_zero_pages(data: bytes) -> bool:
    return re.search(rb"/Type\s*/Pages\b", data) is not None and not re.search(
        rb"/Count\s+[1-9]", data
    )


def _page_lines(document: pdfium.PdfDocument, index: int) -> list[TextLine]:
    page = document[index]
    try:
        textpage = page.get_textpage()
        try:
            return _read_lines(textpage, index + 1)
        finally:
            textpage.close()
    finally:
        page.close()


def _read_lines(textpage: pdfium.PdfTextPage, number: int) -> list[TextLine]:
    raw = textpage.get_text_range()
    count = textpage.count_chars()
    x, y = ctypes.c_double(), ctypes.c_double()
    lines: list[TextLine] = []
    offset = 0
    for part in raw.split("\n"):
        text = _normalise_line(part)
        if text:
            first = offset + len(part) - len(part.lstrip())
            size = baseline = 0.0
            if first < count:
                size = float(pdfium_c.FPDFText_GetFontSize(textpage.raw, first))
                pdfium_c.FPDFText_GetCharOrigin(
                    textpage.raw, first, ctypes.byref(x), ctypes.byref(y)
                )
                baseline = y.value
            lines.append(TextLine(text, number, round(size, 2), round(baseline, 2)))
        offset += len(part) + 1
    return lines


def _normalise_line(line: str) -> str:
    line = unicodedata.normalize("NFC", line).replace("\x02", "\u00ad").replace("\ufffe", "")
    return _SPACES.sub(" ", line).strip()


def _outline(document: pdfium.PdfDocument) -> tuple[OutlineEntry, ...]:
    entries: list[OutlineEntry] = []
    try:
        for item in document.get_toc(max_depth=8):
            dest = item.get_dest()
            index = dest.get_index() if dest is not None else None
            title = _normalise_line(item.get_title() or "")
            if title and index is not None:
                entries.append(OutlineEntry(level=item.level, title=title, page=index + 1))
    except pdfium.PdfiumError:
        return ()  # a broken outline is no reason to refuse the text
    return tuple(entries)


def _metadata_title(document: pdfium.PdfDocument) -> str:
    try:
        return _normalise_line(document.get_metadata_value("Title") or "")
    except (pdfium.PdfiumError, KeyError):
        return ""


def _check_text(raw_pages: list[list[TextLine]], text: PdfText) -> None:
    pages_with_text = sum(1 for lines in raw_pages if _chars(lines) >= MIN_PAGE_CHARS)
    if pages_with_text == 0:
        raise ScannedNoText()
    words = text.word_count
    if words < MIN_WORDS:
        raise TooLittleText(words=words)


def clean_lines(raw_pages: list[list[TextLine]]) -> list[list[TextLine]]:
    """Per page, the lines left after removing running headers and footers, bare page
    numbers, table-of-contents leader lines and (page 1) the attribution block."""
    running = _running_lines([[line.text for line in page] for page in raw_pages])
    cleaned: list[list[TextLine]] = []
    for number, lines in enumerate(raw_pages, start=1):
        kept = list(lines)
        if number == 1:
            span = _attribution_span([line.text for line in kept])
            if span is not None:
                kept = kept[span[1] + 1 :]
        kept = _drop_zone_lines(kept, running)
        kept = [line for line in kept if not _TOC_LEADER.search(line.text)]
        cleaned.append(kept)
    return cleaned


def mark_paragraphs(pages: list[list[TextLine]]) -> tuple[TextLine, ...]:
    """Flattens pages into lines, flagging each line that starts a new paragraph.

    A paragraph starts where the gap to the line above is clearly wider than that font
    size's usual line spacing in this document, or where the font size changes.
    """
    spacing = _usual_spacing(pages)
    widths = sorted(len(line.text) for page in pages for line in page)
    full = widths[int(len(widths) * 0.9)] if widths else 80
    out: list[TextLine] = []
    previous: TextLine | None = None
    for page in pages:
        for position, line in enumerate(page):
            if previous is None:
                new = True
            elif position == 0 or not line.size or not previous.size:
                # Across a page break the geometry says nothing; a short last line does.
                new = len(previous.text) < PARAGRAPH_SHORT_LINE * full
            else:
                gap = previous.y - line.y
                usual = spacing.get(round(line.size, 1), line.size * 1.3)
                new = (
                    abs(line.size - previous.size) > 0.6
                    or gap > usual * PARAGRAPH_GAP
                    or gap < -3 * line.size
                )
            out.append(
                TextLine(line.text, line.page, line.size, line.y, new or line.new_paragraph)
            )
            previous = line
    return tuple(out)


def _usual_spacing(pages: list[list[TextLine]]) -> dict[float, float]:
    """The usual baseline gap between consecutive lines of one paragraph, per font size."""
    counts: dict[float, Counter[float]] = {}
    for page in pages:
        for above, below in itertools.pairwise(page):
            if above.size and abs(above.size - below.size) < 0.1:
                gap = round(above.y - below.y, 1)
                if 0 < gap < 4 * below.size:
                    counts.setdefault(round(below.size, 1), Counter())[gap] += 1
    # The tightest spacing that is common is the one inside a paragraph: where most lines
    # start a new entry (a glossary), the most common gap is the between-entries one.
    usual: dict[float, float] = {}
    for size, counter in counts.items():
        floor = max(2, USUAL_SPACING_SHARE * counter.most_common(1)[0][1])
        common = [gap for gap, count in counter.items() if count >= floor]
        usual[size] = min(common) if common else counter.most_common(1)[0][0]
    return usual


def _shape(line: str) -> str:
    return _DIGITS.sub("#", line.casefold())


def _running_lines(raw_pages: list[list[str]]) -> set[str]:
    """Line shapes (digits wildcarded) that repeat in the top/bottom zone page after page."""
    if len(raw_pages) < 2:
        return set()
    seen: dict[str, list[int]] = {}
    for number, lines in enumerate(raw_pages):
        for shape in {_shape(line) for line in lines[:TOP_ZONE] + lines[-BOTTOM_ZONE:]}:
            seen.setdefault(shape, []).append(number)
    # Half the pages of a short file, or 4 pages of a long one (multi-chapter files change
    # their running header per chapter, so no single header covers half of them) ...
    needed = max(2, min(math.ceil(len(raw_pages) / 2), 4))
    running = set()
    for shape, pages in seen.items():
        span = pages[-1] - pages[0] + 1
        # ... and on most pages of the stretch where it occurs: a heading such as "Key
        # Terms" that happens to open a few pages is scattered, a running header is not.
        if len(pages) >= needed and len(pages) >= RUNNING_DENSITY * span:
            running.add(shape)
    return running


def _drop_zone_lines(lines: list[TextLine], running: set[str]) -> list[TextLine]:
    def noise(line: TextLine) -> bool:
        return _shape(line.text) in running or bool(_PAGE_NUMBER.match(line.text))

    start, end = 0, len(lines)
    while start < min(end, TOP_ZONE) and noise(lines[start]):
        start += 1
    floor = max(start, len(lines) - BOTTOM_ZONE)
    while end > floor and noise(lines[end - 1]):
        end -= 1
    return lines[start:end]


def _attribution_span(lines: list[str]) -> tuple[int, int] | None:
    """(first, last) line of a licence/source block near the top of page 1, if any."""
    hits = [i for i, line in enumerate(lines[:ATTRIBUTION_ZONE]) if _ATTRIBUTION.search(line)]
    if len(hits) < 2:
        return None
    last = hits[0]
    for hit in hits[1:]:
        if hit - last > ATTRIBUTION_GAP:
            break
        last = hit
    if last == hits[0]:
        return None
    # The block ends where its last sentence ends.
    while last + 1 < len(lines) and not lines[last].rstrip().endswith((".", ")")):
        last += 1
    return hits[0], last


def _attribution_title(lines: list[str]) -> str:
    """The title lines above an attribution block, e.g. the book and section names."""
    span = _attribution_span(lines)
    return " ".join(lines[: span[0]]) if span else ""
