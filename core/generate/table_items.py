"""Items from the tables of the material: "which drug has this mechanism and this use?".

A table's rows are its most quotable facts (a drug chapter keeps its drugs, mechanisms and
uses in tables, not in sentences), and a table hands over what a good item needs: the
options are the entries of one column, all of one kind and siblings a student could
confuse, and each row's other cells say what singles its entry out. The tables are read
back from the readers' rows by core.generate.tables.

An item describes one row by one or two of its descriptive cells and asks for the row's
entry; a distractor is an entry of another row that the description does not fit.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Sequence

from core.generate.facts import SourceChunk, locate
from core.generate.kinds import exclusive_kinds, kind_named, name_head, singular
from core.generate.schema import RECALL, DraftItem
from core.generate.tables import TYPE_OF, Row, Table, entries, read_tables
from core.generate.terms import looks_plural
from core.generate.text import clean, clue_stems, contains_phrase, content_words, normalise
from core.readers.formats import cited_pages

TABLE_KIND = "table"
TABLE_OPTIONS = 4
# A description cell says something: at least this many words.
MIN_DESCRIPTION_WORDS = 4
# ... of which this many say something: "role in appetite" or "raises blood pressure" fits
# many hormones besides the row's own, which a student cannot rule out.
MIN_DESCRIPTION_CONTENT_WORDS = 3
MAX_DESCRIPTION_WORDS = 30
_PARENTHESES = re.compile(r"\s*\([^)]*\)")
# Text a reader could not place: a subscript or footnote digit left at the end of a cell
# ("levels of O or CO 2 2"), a bracketed note.
_STRAY = re.compile(r"(?:\s\d){1,3}$|[\[\]*†‡]")


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
        _items_of(table, chunks, rng, difficulty, avoid_keys) for table in read_tables(chunks)
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


def _describes(cell: str) -> bool:
    words = cell.split()
    return (
        MIN_DESCRIPTION_WORDS <= len(words) <= MAX_DESCRIPTION_WORDS
        and len(content_words(cell)) >= MIN_DESCRIPTION_CONTENT_WORDS
        and not _STRAY.search(cell)
    )


def _items_of(
    table: Table,
    chunks: Sequence[SourceChunk],
    rng: random.Random,
    difficulty: int,
    avoid_keys: frozenset[str],
) -> Iterator[DraftItem]:
    entry = table.entry_column()
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
        keys = [name for name in entries(row.cells[entry]) if normalise(name) not in avoid_keys]
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


def _describes_column(table: Table, column: int) -> bool:
    return sum(_describes(row.cells[column]) for row in table.rows) >= len(table.rows) / 2


def _item(
    table: Table,
    row: Row,
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
    own = {normalise(name) for name in entries(row.cells[entry])}
    for size in (1, 2):
        columns = usable[:size]
        if len(columns) < size:
            return None
        told = [normalise(row.cells[c]) for c in columns]
        others = [
            other
            for other in table.rows
            if not _overlaps([normalise(other.cells[c]) for c in columns], told)
            and not own & {normalise(name) for name in entries(other.cells[entry])}
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


def _sharing(table: Table, row: Row, column: int) -> int:
    told = normalise(row.cells[column])
    return sum(normalise(other.cells[column]) == told for other in table.rows)


def _distractor_names(table: Table, others: list[Row], entry: int, own: set[str]) -> list[str]:
    """Entries of the other rows that the text discusses: a cell such as "Not used" or a name
    the text never mentions is no option a student could weigh."""
    names: dict[str, str] = {}
    for other in others:
        for name in entries(other.cells[entry]):
            if normalise(name) not in own and table.discussed([name]):
                names.setdefault(normalise(name), name)
    return list(names.values())


def _draft(
    table: Table,
    row: Row,
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
    # "Skin (sweat/secretions)" beside "Skin": two rows of one site, both defensible; and
    # two such rows as distractors are struck out together.
    distinct: list[str] = []
    for name in names:
        if not any(_one_name(name, other) for other in (key, *distinct)):
            distinct.append(name)
    names = distinct
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


def _one_name(a: str, b: str) -> bool:
    """Whether two entries name one thing: told apart only by a note in brackets ("Skin",
    "Skin (sweat/secretions)"), or one listing the other ("Estrogens and progesterone")."""
    bare_a, bare_b = (normalise(re.sub(r"\([^)]*\)", " ", n)) for n in (a, b))
    if bare_a == bare_b:
        return True
    shorter, longer = sorted((bare_a, bare_b), key=len)
    return contains_phrase(longer, shorter) and bool(re.search(r"\b(?:and|or)\b", longer))


def _pick_distractors(key: str, names: list[str], rng: random.Random) -> list[str]:
    """Three entries, of the key's number where the table has enough of them: a lone plural
    among singulars is a cue. Never the key alone in its number."""
    if len(names) < TABLE_OPTIONS - 1:
        return []
    # Arteries with an artery when the table has enough: a vena cava or a sinus beside
    # "branch of the aorta" is ruled out by its name.
    head = name_head(key)
    same_head = [name for name in names if name_head(name) == head]
    if len(same_head) >= TABLE_OPTIONS - 1:
        names = same_head
    same = [name for name in names if looks_plural(name) == looks_plural(key)]
    if len(same) >= TABLE_OPTIONS - 1:
        return rng.sample(same, TABLE_OPTIONS - 1)
    if not same:
        return []
    partner = rng.choice(same)
    return [partner, *rng.sample([n for n in names if n != partner], TABLE_OPTIONS - 2)]


def _explanation(
    table: Table,
    row: Row,
    key: str,
    entry: int,
    columns: list[int],
    picked: list[str],
    pages: tuple[int, ...],
) -> str:
    where = cited_pages(pages, row.chunk.unit)
    parts = [
        f'The answer is "{_capital(key)}". Your material\'s table ({where}) lists it with '
        f"{table.cells_said(row, columns)}. The other options are other rows of the table:"
    ]
    for name in picked:
        other = next(r for r in table.rows if name in entries(r.cells[entry]))
        parts.append(f"{_capital(name)} ({table.cells_said(other, columns)});")
    return " ".join(parts).rstrip(";") + "."


def _property(header: str) -> str:
    """A header as the stem says it, of one thing: "Pathway(s)" -> "pathway", "Effects" ->
    "effect" (a row's cell is what this entry has; "Signs and Symptoms" stays whole)."""
    words = _lower(header.replace("(s)", "")).split()
    if len(words) <= 2 and words[-1].islower() and not {"and", "or"} & set(words):
        words[-1] = singular(words[-1])
    return " ".join(words)


def _lower(header: str) -> str:
    return " ".join(w if w.isupper() else w.lower() for w in header.split())


def _quoted(cell: str) -> str:
    """A cell as the stem quotes it: its own words, lower-case unless it opens with a name."""
    text = clean(cell).rstrip(".")
    first = text.split(" ", 1)[0]
    return text if first.isupper() or not first[1:].islower() else text[:1].lower() + text[1:]


def _asked(table: Table, entry: int) -> str:
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
    words = [w if w.isupper() else w.lower() for w in TYPE_OF.sub("", header).split()]
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
