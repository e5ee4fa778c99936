"""Test data for the study loop: a student with one ready PDF and questions inserted directly
(no ingest or generation), so quiz tests run in milliseconds."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.enums import MaterialStatus, Platform
from storage.models import Chunk, Material, Question, User
from storage.repos.chats import personal_scope
from storage.repos.users import get_or_create_user

HEADING = "19.5 Heart Development"
FILENAME = "heart.pdf"


@dataclass(frozen=True)
class Seeded:
    user_id: int
    scope_id: int
    material_id: int
    question_ids: list[int]


def question_row(scope_id: int, material_id: int, chunk_id: int, index: int,
                 *, topic: str, difficulty: int = 3) -> Question:  # fmt: skip
    return Question(
        scope_id=scope_id,
        material_id=material_id,
        stem=f"Q{index}: Which embryonic structure becomes part {index} of the heart?",
        stem_hash=f"{topic}-{index}-{material_id}",
        options=[f"right {index}", f"wrong a{index}", f"wrong b{index}", f"wrong c{index}"],
        correct_index=0,
        explanation=f"Because structure {index} forms there (p. 3).",
        topic=topic,
        difficulty=difficulty,
        source_chunk_ids=[chunk_id],
        source_pages=[3],
    )


async def add_questions(
    session: AsyncSession,
    user: User,
    count: int,
    *,
    topic: str = "Heart development",
    difficulty: int = 3,
    start: int = 0,
) -> list[int]:
    """Adds `count` questions (key = option 0) on `topic` to the student's scope."""
    scope = await personal_scope(session, user)
    material = Material(
        scope_id=scope.id, filename=FILENAME, title="Heart",
        sha256=f"{topic}{start}".ljust(64, "0"), size_bytes=10,
        status=MaterialStatus.READY, pages=4,
    )  # fmt: skip
    session.add(material)
    await session.flush()
    chunk = Chunk(material_id=material.id, ordinal=0, page_start=3, page_end=3,
                  heading=HEADING, text="The heart develops from ...")  # fmt: skip
    session.add(chunk)
    await session.flush()
    rows = [
        question_row(scope.id, material.id, chunk.id, start + i, topic=topic,
                     difficulty=difficulty)
        for i in range(count)
    ]  # fmt: skip
    session.add_all(rows)
    await session.flush()
    return [row.id for row in rows]


async def seed_student(
    db: Database,
    *,
    external_id: str = "ada",
    count: int = 3,
    topic: str = "Heart development",
    platform: Platform = Platform.CONSOLE,
) -> Seeded:
    async with db.session() as session:
        user = await get_or_create_user(session, platform, external_id, external_id.title())
        ids = await add_questions(session, user, count, topic=topic)
        scope = await personal_scope(session, user)
        question = await session.get(Question, ids[0]) if ids else None
        material_id = question.material_id if question and question.material_id else 0
        return Seeded(user.id, scope.id, material_id, ids)
