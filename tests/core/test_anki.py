"""/export writes an Anki package a student can import: one note per question with the stem,
options, key, explanation and source page, tagged by topic, with ids that make a second
export update the first one in Anki instead of duplicating it."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path

from core import anki
from core.settings import Settings
from handlers.types import Reply, Tone
from storage.db import Database
from storage.enums import Platform
from storage.models import Question
from storage.repos.users import get_or_create_user
from tests.study_seed import FILENAME, HEADING, Clock, Student, add_questions, router_for


def notes_in(apkg: Path, tmp_path: Path) -> list[tuple[str, list[str], str, int]]:
    """(guid, fields, tags, model id) of each note in the package's SQLite collection."""
    with zipfile.ZipFile(apkg) as package:
        assert "collection.anki2" in package.namelist()
        package.extract("collection.anki2", tmp_path)
    with sqlite3.connect(tmp_path / "collection.anki2") as collection:
        rows = collection.execute("SELECT guid, flds, tags, mid FROM notes ORDER BY id").fetchall()
    return [(guid, fields.split("\x1f"), tags.strip(), mid) for guid, fields, tags, mid in rows]


def deck_names(apkg: Path, tmp_path: Path) -> dict[str, str]:
    with zipfile.ZipFile(apkg) as package:
        package.extract("collection.anki2", tmp_path)
    with sqlite3.connect(tmp_path / "collection.anki2") as collection:
        (decks,) = collection.execute("SELECT decks FROM col").fetchone()
    return {key: deck["name"] for key, deck in json.loads(decks).items()}


async def seed(db: Database) -> list[int]:
    async with db.session() as session:
        user = await get_or_create_user(session, Platform.CONSOLE, "ada", "Ada")
        ids = await add_questions(session, user, 2, topic="Heart development")
        ids += await add_questions(session, user, 1, topic="Cardiac cycle", start=10)
        # A question with markup in it reaches Anki as text, not as HTML.
        question = await session.get(Question, ids[-1])
        assert question is not None
        question.stem = "Which is true when p < 0.05 & <b>n</b> is large?"
    return ids


def student_of(settings: Settings, db: Database) -> Student:
    clock = Clock()
    return Student(router_for(settings, db, clock), clock)


def reply_with_file(replies: list[Reply]) -> Reply:
    (reply,) = replies
    assert reply.document is not None and reply.document.suffix == ".apkg"
    return reply


async def test_the_deck_holds_one_note_per_question_with_every_field_and_a_topic_tag(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    ids = await seed(db)
    student = student_of(settings, db)

    reply = reply_with_file(await student.say("/export"))

    assert reply.text.startswith("3 questions.")
    assert reply.document is not None
    notes = notes_in(reply.document, tmp_path)
    assert [guid for guid, *_ in notes] == [anki.note_guid(qid) for qid in ids]
    assert {mid for *_, mid in notes} == {anki.MODEL_ID}
    _guid, fields, tags, _mid = notes[0]
    stem, options, key, explanation, source = fields
    assert stem == "Q0: Which embryonic structure becomes part 0 of the heart?"
    assert options == "A. right 0<br>B. wrong a0<br>C. wrong b0<br>D. wrong c0"
    assert key == "A. right 0"
    assert explanation == "Because structure 0 forms there (p. 3)."
    assert source == f"Source: {HEADING}, p. 3 of {FILENAME}"
    assert tags == "Heart_development"
    assert [tags for *_, tags, _ in notes] == ["Heart_development"] * 2 + ["Cardiac_cycle"]
    assert notes[2][1][0] == "Which is true when p &lt; 0.05 &amp; &lt;b&gt;n&lt;/b&gt; is large?"
    assert "Rounds" in deck_names(reply.document, tmp_path / "decks").values()


async def test_a_second_export_keeps_every_id_so_anki_updates_instead_of_duplicating(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    await seed(db)
    student = student_of(settings, db)
    first = reply_with_file(await student.say("/export"))
    assert first.document is not None
    before = notes_in(first.document, tmp_path / "first")
    decks_before = deck_names(first.document, tmp_path / "first")

    second = reply_with_file(await student.say("/export"))
    assert second.document is not None
    after = notes_in(second.document, tmp_path / "second")

    assert [(guid, mid) for guid, _f, _t, mid in after] == [
        (guid, mid) for guid, _f, _t, mid in before
    ]
    assert deck_names(second.document, tmp_path / "second") == decks_before


async def test_a_topic_exports_only_its_questions_into_its_own_deck(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    ids = await seed(db)
    student = student_of(settings, db)

    reply = reply_with_file(await student.say("/export cardiac"))

    assert reply.text.startswith("1 question on “cardiac”.")
    assert reply.document is not None and reply.document.name == "rounds-cardiac.apkg"
    (note,) = notes_in(reply.document, tmp_path)
    assert note[0] == anki.note_guid(ids[-1])
    assert "Rounds::cardiac" in deck_names(reply.document, tmp_path / "decks").values()


async def test_no_questions_gets_a_friendly_message_and_no_file(
    settings: Settings, db: Database
) -> None:
    student = student_of(settings, db)

    (empty,) = await student.say("/export")
    assert empty.document is None and empty.tone is Tone.WARNING
    assert "no questions to export yet" in empty.text

    await seed(db)
    (off_topic,) = await student.say("/export kidneys")
    assert off_topic.document is None
    assert off_topic.text.startswith("No questions match “kidneys”.")


async def test_retired_questions_stay_out_of_the_deck(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    ids = await seed(db)
    async with db.session() as session:
        question = await session.get(Question, ids[0])
        assert question is not None
        question.retired_at = Clock().now
    student = student_of(settings, db)

    reply = reply_with_file(await student.say("/export"))

    assert reply.document is not None
    assert anki.note_guid(ids[0]) not in [guid for guid, *_ in notes_in(reply.document, tmp_path)]
