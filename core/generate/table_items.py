"""Items from the tables of the material: "which drug has this mechanism and this use?".

A table's rows are its most quotable facts (a drug chapter keeps its drugs, mechanisms and
uses in tables, not in sentences), and a table hands over what a good item needs: the
options are the entries of one column, all of one kind and siblings a student could
confuse, and each row's other cells say what singles its entry out. The readers write a
row as one line, "Header: cell; Header: cell" (core.readers.tables); rows sharing their
headers form a table, wherever the page break fell.

An item describes one row by one or two of its descriptive cells and asks for the row's
entry; a distractor is an entry of another row that the description does not fit.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from core.generate.facts import SourceChunk, locate
from core.generate.kinds import exclusive_kinds, kind_named, name_head, singular
from core.generate.schema import RECALL, DraftItem
from core.generate.terms import looks_plural
from core.generate.text import TABLE_CELL, clean, clue_stems, normalise
from core.readers.formats import cited_pages

TABLE_KIND = "table"
TABLE_OPTIONS = 4
# A table needs this many rows to ask anything with three distractors from other rows.
MIN_ROWS = TABLE_OPTIONS
# An entry (an option) is a name: at most this many words. A description cell says
# something: at least this many words.
MAX_ENTRY_WORDS = 5
MIN_DESCRIPTION_WORDS = 3
MAX_DESCRIPTION_WORDS = 30
# Share of a column's cells that must have an entry's shape for the column to hold entries.
ENTRY_COLUMN_SHARE = 0.8
# Share of a column's entries the text must mention outside the tables.
DISCUSSED_SHARE = 0.5
# A cell that says something rather than names it, or that a reader broke ("T )").
_NOT_A_NAME = re.compile(r"[:;]|\(\s|\s\)|\s[,.]")
_PARENTHESES = re.compile(r"\s*\([^)]*\)")
# "Type of lymphocyte" asks for lymphocytes.
_TYPE_OF = re.compile(r"^(?:types?|kinds?|classes?|forms?)\s+of\s+", re.IGNORECASE)
# "Mechanism of Action: ..." at the start of the line or after "; ".
# Text a reader could not place: a subscript or footnote digit left at the end of a cell
# ("levels of O or CO 2 2"), a bracketed note.
_STRAY = re.compile(r"(?:\s\d){1,3}$|[\[\]*†‡]")


@dataclass(frozen=True)
class _Row:
    cells: tuple[str, ...]
    line: str
    chunk: SourceChunk


@dataclass(frozen=True)
class _Table:
    headers: tuple[str, ...]
    rows: tuple[_Row, ...]
    topic: str
    # The material's text outside its tables (normalised): where its entries are discussed.
    prose: str


def table_items(
    chunks: Sequence[SourceChunk],
    *,
    seed: int,
    difficulty: int,
    avoid_keys: frozenset[str] = frozenset(),
) -> Iterator[DraftItem]:
    """Items from the table rows in these chunks, one per entry, tables taken in turn."""
    rng = random.Random(f"{seed}:tables")
    per_table = [
        _items_of(table, chunks, rng, difficulty, avoid_keys) for table in _tables(chunks)
    ]
    asked: set[str] = set()
    while per_table:
        for items in list(per_table):
            item = next(items, None)
            if item is None:
                per_table.remove(items)
            elif normalise(item.key) not in asked:
                asked.add(normalise(item.key))
                yield item


def _tables(chunks: Sequence[SourceChunk]) -> list[_Table]:
    by_headers: dict[tuple[str, ...], list[_Row]] = {}
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
            by_headers.setdefault(headers, []).append(_Row(cells, line, chunk))
            topics.setdefault(headers, chunk.heading)
    text = f" {normalise(' '.join(prose))} "
    return [
        _Table(headers, tuple(rows), topics[headers], text)
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


def _entries(cell: str) -> list[str]:
    """The names a cell lists ("Imipenem, meropenem, doripenem"), or none if it is no list
    of names."""
    names = [name.strip() for name in cell.split(", ")]
    if any(
        not name
        or _NOT_A_NAME.search(name)
        or len(name.split()) > MAX_ENTRY_WORDS
        or _NUMERAL.match(name)
        for name in names
    ):
        return []
    return names


# "X", "IX", "12": a number says nothing as an option ("Which factor number ... ? IX").
_NUMERAL = re.compile(r"^(?:[IVXLCDM]+|[\d.]+|\w)$")


def _discussed(table: _Table, names: list[str]) -> bool:
    """Whether the text around the tables talks about these names (a column of drugs or
    hormones does; a column of values, "reabsorbed; symport", does not)."""
    return any(f" {normalise(_bare(name))} " in table.prose for name in names)


def _bare(name: str) -> str:
    return _PARENTHESES.sub("", name).strip()


def _entry_column(table: _Table) -> int | None:
    """The column whose cells name the rows: short names, the most of them."""
    best: tuple[int, int] | None = None
    for column in range(len(table.headers)):
        cells = [row.cells[column] for row in table.rows]
        named = [_entries(cell) for cell in cells]
        if sum(bool(names) for names in named) < ENTRY_COLUMN_SHARE * len(cells):
            continue
        if sum(_discussed(table, names) for names in named) < DISCUSSED_SHARE * len(cells):
            continue
        distinct = len({normalise(name) for names in named for name in names})
        if distinct >= TABLE_OPTIONS and (best is None or distinct > best[1]):
            best = (column, distinct)
    return None if best is None else best[0]


def _describes(cell: str) -> bool:
    words = cell.split()
    return MIN_DESCRIPTION_WORDS <= len(words) <= MAX_DESCRIPTION_WORDS and not _STRAY.search(cell)


def _items_of(
    table: _Table,
    chunks: Sequence[SourceChunk],
    rng: random.Random,
    difficulty: int,
    avoid_keys: frozenset[str],
) -> Iterator[DraftItem]:
    entry = _entry_column(table)
    if entry is None:
        return
    # Columns headed "PCT", "DCT", "Loop of Henle" are places side by side, not properties:
    # one abbreviated header marks the table as such, and none of it reads in "has the ...".
    if not all(_property_header(h) for i, h in enumerate(table.headers) if i != entry):
        return
    described = [
        c for c in range(len(table.headers)) if c != entry and _describes_column(table, c)
    ]
    if not described:
        return
    rows = list(table.rows)
    rng.shuffle(rows)
    for row in rows:
        keys = [name for name in _entries(row.cells[entry]) if normalise(name) not in avoid_keys]
        if not keys:
            continue
        item = _item(table, row, rng.choice(keys), entry, described, chunks, rng, difficulty)
        if item is not None:
            yield item


def _property_header(header: str) -> bool:
    """A header that names a property ("Effect", "Mechanism of Action") reads in "has the
    effect ..."; an abbreviated place ("PCT", "DCT") does not."""
    words = _PARENTHESES.sub("", header).replace("(s)", "").split()
    return bool(words) and not any(len(w) > 1 and w.isupper() for w in words)


def _describes_column(table: _Table, column: int) -> bool:
    return sum(_describes(row.cells[column]) for row in table.rows) >= len(table.rows) / 2


def _item(
    table: _Table,
    row: _Row,
    key: str,
    entry: int,
    described: list[int],
    chunks: Sequence[SourceChunk],
    rng: random.Random,
    difficulty: int,
) -> DraftItem | None:
    usable = [c for c in described if _describes(row.cells[c])]
    # The description must not name the key or a word of its root ("similar to
    # cephalosporin C" for "First-generation cephalosporins").
    key_clues = clue_stems(key)
    usable = [c for c in usable if not key_clues & clue_stems(row.cells[c])]
    if not usable:
        return None
    # A cell no other row shares describes the row best.
    usable.sort(
        key=lambda c: sum(normalise(r.cells[c]) == normalise(row.cells[c]) for r in table.rows)
    )
    own = {normalise(name) for name in _entries(row.cells[entry])}
    for size in (1, 2):
        columns = usable[:size]
        if len(columns) < size:
            return None
        told = [normalise(row.cells[c]) for c in columns]
        others = [
            other
            for other in table.rows
            if not _overlaps([normalise(other.cells[c]) for c in columns], told)
            and not own & {normalise(name) for name in _entries(other.cells[entry])}
        ]
        names = _distractor_names(table, others, entry, own)
        if len(names) >= TABLE_OPTIONS - 1:
            return _draft(table, row, key, entry, columns, names, chunks, rng, difficulty)
    return None


def _overlaps(cells: list[str], told: list[str]) -> bool:
    """Whether another row's cells say what the key's say, or a part of it: "low pH" fits a
    description "low pH, washing action" too."""
    for cell, said in zip(cells, told, strict=True):
        mine, theirs = set(said.split()), set(cell.split())
        if not (mine <= theirs or theirs <= mine):
            return False
    return True


def _sharing(table: _Table, row: _Row, column: int) -> int:
    told = normalise(row.cells[column])
    return sum(normalise(other.cells[column]) == told for other in table.rows)


def _distractor_names(table: _Table, others: list[_Row], entry: int, own: set[str]) -> list[str]:
    """Entries of the other rows that the text discusses: a cell such as "Not used" or a name
    the text never mentions is no option a student could weigh."""
    names: dict[str, str] = {}
    for other in others:
        for name in _entries(other.cells[entry]):
            if normalise(name) not in own and _discussed(table, [name]):
                names.setdefault(normalise(name), name)
    return list(names.values())


def _draft(
    table: _Table,
    row: _Row,
    key: str,
    entry: int,
    columns: list[int],
    names: list[str],
    chunks: Sequence[SourceChunk],
    rng: random.Random,
    difficulty: int,
) -> DraftItem | None:
    cited = locate(row.line, [row.chunk], chunks)
    if cited is None:
        return None
    chunk_ids, pages = cited
    # "Digital arteries" among veins is told by its name alone.
    named = kind_named(key)
    names = [n for n in names if not (named and exclusive_kinds(named, name_head(n)))]
    picked = _pick_distractors(key, names, rng)
    if not picked:
        return None
    description = " and ".join(
        f'the {_property(table.headers[c])} "{_quoted(row.cells[c])}"' for c in columns
    )
    asked = _asked(table, entry)
    stem = f"Which of the following {asked + ' ' if asked else ''}has {description}?"
    options = tuple(_capital(name) for name in (key, *picked))
    return DraftItem(
        stem=stem,
        options=options,
        correct_index=0,
        explanation=_explanation(table, row, key, entry, columns, picked, pages),
        source_chunk_ids=chunk_ids,
        source_pages=pages,
        support=row.line,
        topic=table.topic,
        difficulty=difficulty,
        kind=TABLE_KIND,
        flags=(RECALL,),
    )


def _pick_distractors(key: str, names: list[str], rng: random.Random) -> list[str]:
    """Three entries, of the key's number where the table has enough of them: a lone plural
    among singulars is a cue. Never the key alone in its number."""
    if len(names) < TABLE_OPTIONS - 1:
        return []
    same = [name for name in names if looks_plural(name) == looks_plural(key)]
    if len(same) >= TABLE_OPTIONS - 1:
        return rng.sample(same, TABLE_OPTIONS - 1)
    if not same:
        return []
    partner = rng.choice(same)
    return [partner, *rng.sample([n for n in names if n != partner], TABLE_OPTIONS - 2)]


def _explanation(
    table: _Table,
    row: _Row,
    key: str,
    entry: int,
    columns: list[int],
    picked: list[str],
    pages: tuple[int, ...],
) -> str:
    where = cited_pages(pages, row.chunk.unit)
    parts = [
        f'The answer is "{_capital(key)}". Your material\'s table ({where}) lists it with '
        f"{_cells_said(table, row, columns)}. The other options are other rows of the table:"
    ]
    for name in picked:
        other = next(r for r in table.rows if name in _entries(r.cells[entry]))
        parts.append(f"{_capital(name)} ({_cells_said(table, other, columns)});")
    return " ".join(parts).rstrip(";") + "."


def _cells_said(table: _Table, row: _Row, columns: list[int]) -> str:
    return "; ".join(
        f'{table.headers[c].lower()} "{clean(row.cells[c]).rstrip(".")}"' for c in columns
    )


def _property(header: str) -> str:
    """A header as the stem says it: "Pathway(s)" -> "pathway"."""
    return _lower(header.replace("(s)", ""))


def _lower(header: str) -> str:
    return " ".join(w if w.isupper() else w.lower() for w in header.split())


def _quoted(cell: str) -> str:
    """A cell as the stem quotes it: its own words, lower-case unless it opens with a name."""
    text = clean(cell).rstrip(".")
    first = text.split(" ", 1)[0]
    return text if first.isupper() or not first[1:].islower() else text[:1].lower() + text[1:]


def _asked(table: _Table, entry: int) -> str:
    """What the stem asks for: the entry column's noun, with the section's own words when its
    heading names that noun ("Other Factors Influencing Heart Rate" -> "factors influencing
    heart rate"), so the item says what the table is about."""
    asked = _plural(table.headers[entry])
    if singular(asked.split()[-1]) in _NAMELESS:
        return ""
    heading = table.topic.split("›")[-1]
    noun = asked.split()[-1]
    found = re.search(rf"\b{re.escape(noun)}\b(?P<rest>(?:\s+[\w-]+){{1,5}})\s*$", heading, re.I)
    if found is None or found["rest"].split()[0].lower() in _NO_PHRASE_START:
        return asked
    return f"{asked} {_lower(found['rest'])}"


# Entry headers that say nothing of what the entries are ("Name", "Example").
_NAMELESS = frozenset({"name", "term", "example", "item", "entry"})
# Words after the noun that start no phrase describing it ("Drugs and ..." is a list).
_NO_PHRASE_START = frozenset({"and", "or", "of", "vs", "versus"})


def _plural(header: str) -> str:
    words = [w if w.isupper() else w.lower() for w in _TYPE_OF.sub("", header).split()]
    last = words[-1]
    if singular(last) == last:
        if last.endswith(("s", "x", "ch", "sh")):
            last += "es"
        elif last.endswith("y") and last[-2:-1] not in "aeiou":
            last = last[:-1] + "ies"
        else:
            last += "s"
    return " ".join([*words[:-1], last])


def _capital(name: str) -> str:
    return name[:1].upper() + name[1:]
