"""Tables printed in a PDF, read cell by cell (pdfplumber) instead of line by line.

A PDF's text layer gives a table as its lines in reading order, so a row's cells end up
scattered over many lines ("Interact directly with" ... "Penicillins Penicillin G,
penicillin" ... "V"): nobody, and no question writer, can tell which drug had which
mechanism. pdfplumber finds the table's ruling and returns its grid, which
core.readers.tables turns into one self-contained line per row.

Only pages that announce a table ("Table 14.2", "TABLE 3") are examined: finding the grid
costs about 0.1 s a page, and a textbook's tables are captioned.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pdfplumber

from core.readers.tables import table_lines

# "Table 14.2", "TABLE 3-1", "Table A.4": a caption line that starts with the word.
_CAPTION = re.compile(r"^table\s+[A-Z]?\d+(?:[.\-–]\d+)*\b", re.IGNORECASE)
# A grid needs a header and at least this many rows, and this many columns, to be a table
# rather than a boxed note or a figure's frame.
MIN_BODY_ROWS = 2
MIN_COLUMNS = 2
# Points of slack when deciding whether a text line lies inside a table's box.
BOX_SLACK = 2.0
# Share of a text line's words that must be table words for the line to be the table's.
SHARED_WORDS = 0.6


@dataclass(frozen=True)
class PageTable:
    """One table of a page: its box (PDF points from the bottom, like TextLine.y) and its
    rows as lines of text."""

    top: float
    bottom: float
    lines: tuple[str, ...]
    words: frozenset[str]

    def holds(self, y: float, text: str) -> bool:
        """Whether a text-layer line at baseline `y` is part of this table's flattened text."""
        if not self.bottom - BOX_SLACK <= y <= self.top + BOX_SLACK:
            return False
        # The two readers may differ on a ligature or a quote mark, never on most words.
        words = _words(text)
        return sum(word in self.words for word in words) >= SHARED_WORDS * len(words)


def has_caption(lines: Iterable[str]) -> bool:
    return any(_CAPTION.match(line) for line in lines)


def read_tables(data: bytes, pages: Sequence[int]) -> dict[int, list[PageTable]]:
    """The tables on each of `pages` (0-based), by page; pages without one are left out.

    Blocking and slowish: run it in the thread that reads the rest of the PDF.
    """
    found: dict[int, list[PageTable]] = {}
    if not pages:
        return found
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for index in pages:
            page = pdf.pages[index]
            tables = [
                table
                for table in (_page_table(t, page.height) for t in page.find_tables())
                if table is not None
            ]
            if tables:
                found[index] = tables
            page.close()
    return found


def _page_table(table: pdfplumber.table.Table, height: float) -> PageTable | None:
    grid = table.extract()
    if not grid:
        return None
    # A first row with a single cell across the width is the table's title, not its header.
    titled = len(grid[0]) > 1 and sum(1 for cell in grid[0] if cell) == 1
    rows = [row for row in _filled(grid[1:] if titled else grid) if any(row)]
    if len(rows) < 1 + MIN_BODY_ROWS or max(len(row) for row in rows) < MIN_COLUMNS:
        return None
    _, top, _, bottom = table.bbox
    words = frozenset(word for row in grid for cell in row if cell for word in _words(cell))
    return PageTable(
        top=height - top, bottom=height - bottom, lines=tuple(table_lines(rows)), words=words
    )


def _filled(grid: Sequence[Sequence[str | None]]) -> list[list[str]]:
    """Cells as text (the header row first), a merged cell's text repeated in every body row
    it spans.

    pdfplumber gives None for the part of a merged cell below (or right of) its first row,
    and "" for a truly empty cell, so only None inherits from the body row above.
    """
    rows: list[list[str]] = []
    for r, row in enumerate(grid):
        cells: list[str] = []
        for c, cell in enumerate(row):
            if cell is None and r >= 2 and c < len(rows[-1]):
                cells.append(rows[-1][c])
            else:
                cells.append(_cell_text(cell))
        rows.append(cells)
    return rows


def _cell_text(cell: str | None) -> str:
    if not cell:
        return ""
    # A word broken at the cell's edge with a hyphen ("gram-\nnegative") keeps its hyphen:
    # in tables these are compounds far more often than split words.
    return " ".join(cell.split())


def _words(text: str) -> list[str]:
    return [word.casefold() for word in text.split()]
