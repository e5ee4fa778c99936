"""The tables of a material, read back from the rows its readers wrote.

The readers write a table row as one line, "Header: cell; Header: cell"
(core.readers.tables); rows sharing their headers form one table, wherever the page break
fell. A table's entry column names its rows (drugs, hormones, pathogens), and its header
says what kind of thing every entry is: the table items ask from it, and the term bank
learns each entry's kind and a line that says what it is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.generate.kinds import Kind, family_of_word, singular
from core.generate.text import TABLE_CELL, clean, normalise

if TYPE_CHECKING:
    from core.generate.facts import SourceChunk

# A table needs this many rows, and its entry column this many distinct names, to offer a
# key and three distractors from other rows.
MIN_ROWS = 4
MIN_DISTINCT_ENTRIES = 4
# An entry (an option) is a name: at most this many words.
MAX_ENTRY_WORDS = 5
# Share of a column's cells that must have an entry's shape for the column to hold entries.
ENTRY_COLUMN_SHARE = 0.8
# Share of a column's entries the text must mention outside the tables.
DISCUSSED_SHARE = 0.5
# A cell that says something rather than names it, or that a reader broke ("T )").
_NOT_A_NAME = re.compile(r"[:;]|\(\s|\s\)|\s[,.]")
_PARENTHESES = re.compile(r"\s*\([^)]*\)")
# "X", "IX", "12": a number says nothing as an option ("Which factor number ... ? IX").
_NUMERAL = re.compile(r"^(?:[IVXLCDM]+|[\d.]+|\w)$")
# "Type of lymphocyte" asks for lymphocytes.
TYPE_OF = re.compile(r"^(?:types?|kinds?|classes?|forms?)\s+of\s+", re.IGNORECASE)


@dataclass(frozen=True)
class Row:
    cells: tuple[str, ...]
    line: str
    chunk: SourceChunk


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[Row, ...]
    topic: str
    # The material's text outside its tables (normalised): where its entries are discussed.
    prose: str

    def entry_column(self) -> int | None:
        """The column whose cells name the rows: short names, the most of them."""
        best: tuple[int, int] | None = None
        for column in range(len(self.headers)):
            cells = [row.cells[column] for row in self.rows]
            named = [entries(cell) for cell in cells]
            if sum(bool(names) for names in named) < ENTRY_COLUMN_SHARE * len(cells):
                continue
            if sum(self.discussed(names) for names in named) < DISCUSSED_SHARE * len(cells):
                continue
            distinct = len({normalise(name) for names in named for name in names})
            if distinct >= MIN_DISTINCT_ENTRIES and (best is None or distinct > best[1]):
                best = (column, distinct)
        return None if best is None else best[0]

    def entry_kind(self, column: int) -> Kind:
        """What every entry of a column is, as its header says: "Drug Class" and "Specific
        Drugs" hold drugs, "Type of lymphocyte" cells (unknown when no word says it)."""
        words = _PARENTHESES.sub("", TYPE_OF.sub("", self.headers[column])).split()
        for word in reversed(words):
            head = singular(word.lower())
            if family := family_of_word(head):
                return Kind(head, family, from_text=True)
        return Kind("", "")

    def discussed(self, names: list[str]) -> bool:
        """Whether the text around the tables talks about these names (a column of drugs or
        hormones does; a column of values, "reabsorbed; symport", does not)."""
        return any(f" {normalise(bare(name))} " in self.prose for name in names)

    def cells_said(self, row: Row, columns: Sequence[int]) -> str:
        """Cells of a row as an explanation quotes them: 'target "RNA"; mode of action ...'."""
        return "; ".join(
            f'{self.headers[c].lower()} "{clean(row.cells[c]).rstrip(".")}"' for c in columns
        )


def read_tables(chunks: Sequence[SourceChunk]) -> list[Table]:
    """The tables whose rows are in these chunks (with enough rows to ask from)."""
    by_headers: dict[tuple[str, ...], list[Row]] = {}
    topics: dict[tuple[str, ...], str] = {}
    seen: set[str] = set()
    prose: list[str] = []
    for chunk in chunks:
        for line in chunk.text.split("\n"):
            parsed = _parse_row(line)
            if parsed is None:
                prose.append(line)
            # Overlapping chunks repeat a line; it is one row.
            if parsed is None or line in seen:
                continue
            seen.add(line)
            headers, cells = parsed
            by_headers.setdefault(headers, []).append(Row(cells, line, chunk))
            topics.setdefault(headers, chunk.heading)
    text = f" {normalise(' '.join(prose))} "
    return [
        Table(headers, tuple(rows), topics[headers], text)
        for headers, rows in by_headers.items()
        if len(rows) >= MIN_ROWS
    ]


def _parse_row(line: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    starts = list(TABLE_CELL.finditer(line))
    if len(starts) < 2 or starts[0].start() != 0:
        return None
    headers = tuple(m.group("header") for m in starts)
    ends = [m.start() for m in starts[1:]] + [len(line)]
    cells = tuple(line[m.end() : end].strip() for m, end in zip(starts, ends, strict=True))
    if len(set(headers)) != len(headers) or not all(cells):
        return None
    return headers, cells


def entries(cell: str) -> list[str]:
    """The names a cell lists ("Imipenem, meropenem, doripenem"), or none if it is no list
    of names."""
    # "Gastrin, secretin, and cholecystokinin": the last name without its "and".
    names = [re.sub(r"^(?:and|or)\s+", "", name.strip()) for name in cell.split(", ")]
    if any(
        not name
        or _NOT_A_NAME.search(name)
        or len(name.split()) > MAX_ENTRY_WORDS
        or _NUMERAL.match(name)
        for name in names
    ):
        return []
    return names


def bare(name: str) -> str:
    """A name without its parenthesised note ("Amoxicillin (with clavulanate)")."""
    return _PARENTHESES.sub("", name).strip()
