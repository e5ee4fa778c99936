"""/forget_me: after the confirm button, nothing of the student is left — rows, PDFs, vectors."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from core.settings import Settings
from handlers.payloads import encode
from storage.db import Database
from storage.files import FileStore
from storage.models import Attempt, Card, Chunk, Material, Question, QuizSession, Scope, User
from storage.vector_index import VectorIndexes
from tests.study_seed import Clock, Student, add_questions, router_for

EXCERPT = "ap2e_19-5_heart_development_excerpt.pdf"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def services(settings: Settings, embedder: Any) -> dict[str, Any]:
    return {
        "embedder": embedder,
        "indexes": VectorIndexes(settings.data_dir, dim=embedder.dim),
        "files": FileStore(settings.data_dir),
    }


@pytest.fixture
def ada(settings: Settings, db: Database, clock: Clock, services: dict[str, Any]) -> Student:
    return Student(router_for(settings, db, clock, **services), clock)


async def rows(db: Database, model: type, **where: object) -> int:
    async with db.session() as session:
        query = select(func.count()).select_from(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return int(await session.scalar(query) or 0)


async def study_a_little(db: Database, student: Student) -> None:
    """Adds questions to the student's scope and answers one, so there are cards and answers."""
    async with db.session() as session:
        user = await session.scalar(select(User).where(User.external_id == student.external_id))
        assert user is not None
        await add_questions(session, user, 2, start=hash(student.external_id) % 1000)
    (question,) = await student.say("/quiz 2")
    (confidence,) = await student.click(question.flat_buttons[0].payload)
    await student.click(confidence.flat_buttons[2].payload)


@pytest.mark.slow
async def test_forget_me_deletes_rows_files_and_vectors_of_that_student_only(
    settings: Settings, db: Database, ada: Student, shared_data: Path, services: dict[str, Any]
) -> None:
    bob = Student(ada.router, ada.clock, external_id="bob")
    for student in (ada, bob):
        replies = await student.upload(shared_data / EXCERPT)
        assert "Traceback" not in replies[-1].text
        await study_a_little(db, student)
    uploads = sorted((settings.data_dir / "uploads").rglob("*.pdf"))
    assert len(uploads) == 2
    async with db.session() as session:
        ada_scope = await session.scalar(
            select(Scope.id).join(User, User.id == Scope.user_id).where(User.external_id == "ada")
        )
        assert ada_scope is not None
        await services["indexes"].get(session, ada_scope)
    index_file = services["indexes"].path_for(ada_scope)
    assert index_file.exists()

    (ask,) = await ada.say("/forget_me")
    assert ask.title == "Delete everything?"
    assert "2 PDFs with their questions, 1 review card, 1 answer" in ask.text
    yes, cancel = ask.flat_buttons
    assert (await ada.click(cancel.payload))[0].text == "Nothing was deleted."
    (done,) = await ada.click(yes.payload)
    assert done.title == "Deleted"

    assert await rows(db, User, external_id="ada") == 0
    assert await rows(db, Scope, id=ada_scope) == 0
    assert await rows(db, Material, scope_id=ada_scope) == 0
    assert await rows(db, Question, scope_id=ada_scope) == 0
    assert not index_file.exists()
    remaining = sorted((settings.data_dir / "uploads").rglob("*.pdf"))
    assert len(remaining) == 1 and f"/{ada_scope}/" not in remaining[0].as_posix()
    # Bob is untouched.
    assert await rows(db, User, external_id="bob") == 1
    assert await rows(db, Attempt) == 1 and await rows(db, Card) == 1
    assert await rows(db, QuizSession) == 1
    assert await rows(db, Chunk) > 0
    note, _ = await bob.say("/quiz")
    assert note.text == "Picking up where you left off (question 2 of 2)."


async def test_only_the_student_themselves_can_confirm_and_only_for_a_while(
    db: Database, ada: Student
) -> None:
    (ask,) = await ada.say("/forget_me")
    yes = ask.flat_buttons[0]
    bob = Student(ada.router, ada.clock, external_id="bob")
    (refused,) = await bob.click(yes.payload)
    assert refused.text.startswith("This button is not for you.") and refused.is_alert
    assert await rows(db, User, external_id="ada") == 1
    ada.clock.tick(timedelta(minutes=11).total_seconds())
    (expired,) = await ada.click(yes.payload)
    assert expired.text.startswith("That confirmation has expired.")
    assert await rows(db, User, external_id="ada") == 1
    (ask,) = await ada.say("/forget_me")
    assert "0 PDFs with their questions, 0 review cards, 0 answers" in ask.text
    await ada.click(ask.flat_buttons[0].payload)
    assert await rows(db, User, external_id="ada") == 0


@pytest.mark.parametrize("payload", ["fm:1", "fm:x:1", "fmno:1", "fm:1:2:3"])
async def test_forged_confirmations_delete_nothing(
    db: Database, ada: Student, payload: str
) -> None:
    await ada.say("/forget_me")
    (reply,) = await ada.click(payload)
    assert reply.is_alert
    assert await rows(db, User, external_id="ada") == 1


async def test_a_guessed_confirmation_for_someone_else_is_refused(
    db: Database, ada: Student
) -> None:
    bob = Student(ada.router, ada.clock, external_id="bob")
    await bob.say("/start")
    await ada.say("/start")
    async with db.session() as session:
        bob_id = await session.scalar(select(User.id).where(User.external_id == "bob"))
    minute = int(ada.clock.now.timestamp() // 60)
    (reply,) = await ada.click(encode("fm", bob_id, minute))
    assert "not for you" in reply.text
    assert await rows(db, User) == 2
