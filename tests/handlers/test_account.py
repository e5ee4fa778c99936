"""/forget_me: after the confirm button, nothing of the student is left — rows, PDFs, vectors."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from core.buttons import encode
from core.settings import Settings
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


async def _scan_tables(db: Database, user_id: int, names: tuple[str, ...]) -> list[str]:
    """Every row of every table that names the student or points at their user id."""
    from storage.models import Base

    user_columns = {"user_id", "uploaded_by", "requested_by", "started_by"}
    found: list[str] = []
    async with db.session() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(table.select())).mappings():
                for column, value in row.items():
                    if column in user_columns and value == user_id:
                        found.append(f"{table.name}.{column}={value}")
                    if table.name == "users" and column == "id" and value == user_id:
                        found.append(f"users.id={value}")
                    text = str(value).lower()
                    found += [f"{table.name}.{column}~{n}" for n in names if n.lower() in text]
    return found


def _scan_files(data_dir: Path, names: tuple[str, ...]) -> list[str]:
    """Every file in the data dir whose bytes contain one of `names`."""
    found = []
    for path in sorted(data_dir.rglob("*")):
        if path.is_file():
            data = path.read_bytes().lower()
            found += [f"{path.name}~{n}" for n in names if n.lower().encode() in data]
    return found


async def test_after_forget_me_no_table_and_no_file_names_or_holds_the_student(
    settings: Settings, db: Database, clock: Clock, shared_data: Path, services: dict[str, Any]
) -> None:
    from core.charts import charts_dir
    from handlers.types import Actor, ChatRef, Document, EventKind, Incoming
    from storage.enums import ChatKind, Platform

    router = router_for(settings, db, clock, **services)
    zed = Student(router, clock, external_id="zq7zed")
    bob = Student(router, clock, external_id="bob")
    for student in (zed, bob):
        await student.upload(shared_data / EXCERPT)
        await study_a_little(db, student)
    await zed.say("/stats")  # renders a chart into the data dir
    pdf = (shared_data / EXCERPT).read_bytes()

    async def read() -> bytes:
        return pdf + b"\n% shared copy"  # other bytes: the group's own file

    group_upload = Incoming(
        platform=Platform.CONSOLE, user=Actor("zq7zed", "Zq7zed"),
        chat=ChatRef("study-group", ChatKind.GROUP, "Study group"), kind=EventKind.DOCUMENT,
        received_at=clock.now, document=Document("group-notes.pdf", len(pdf) + 15, read),
    )  # fmt: skip
    await router.route(group_upload)
    async with db.session() as session:
        zed_user = await session.scalar(select(User).where(User.external_id == "zq7zed"))
        assert zed_user is not None
        user_id = zed_user.id
        scope_id = await session.scalar(select(Scope.id).where(Scope.user_id == user_id))
        assert scope_id is not None
        await services["indexes"].get(session, scope_id)
    chart_folder = charts_dir(settings.data_dir, user_id)
    index_file = services["indexes"].path_for(scope_id)
    assert list(chart_folder.iterdir()) and index_file.exists()
    names = ("zq7zed",)  # the external id, the display name and the private chat's id
    assert await _scan_tables(db, user_id, names) and _scan_files(settings.data_dir, names)

    (ask,) = await zed.say("/forget_me")
    (done,) = await zed.click(ask.flat_buttons[0].payload)
    assert done.title == "Deleted"

    assert await _scan_tables(db, user_id, names) == []
    assert _scan_files(settings.data_dir, names) == []
    assert not chart_folder.exists() and not index_file.exists()
    assert not (settings.data_dir / "uploads" / str(scope_id)).exists()
    # The group keeps the PDF its member shared, with no link back to them.
    async with db.session() as session:
        shared = await session.scalar(
            select(Material).where(Material.filename == "group-notes.pdf")
        )
        assert shared is not None and shared.uploaded_by is None
    assert await rows(db, User, external_id="bob") == 1 and await rows(db, Attempt) == 1
