"""A small, hand-counted study history for the progress tests (stats, charts, /next, /stats).

The student lives in America/New_York; NOW is 2026-03-10 12:00 EDT, two days after the
clocks went forward, so the activity window spans a DST change. Every expected number in
the tests is counted by hand from the tables below.

attempts (R right, W wrong; confidence per answer, "-" = never rated):
  Cardiac muscle   RRRWWWWWWW  552522111-    Mar 9 x2, Mar 10 x3, Mar 4 x5 (local days)
  Skeletal muscle  RRRRRRWW    5555533-      Feb 28 x8
  Bone tissue      RRRRRR      551---        Feb 18 x6
  Nerves           WWW         222           Mar 5 x3
  Blood            10 W then 20 R, unrated   Dec 1 (10 W), Jan 20 (20 R)
cards: 2 overdue, 2 more due today, 3 tomorrow, 1 suspended, 2 on Mar 20, 1 on Mar 24.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.enums import AttemptSource, CardStatus, ChunkKind, MaterialStatus, Platform
from storage.models import Attempt, Card, Chunk, Material, Question, User
from storage.repos.chats import personal_scope
from storage.repos.users import get_or_create_user

NOW = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)  # 12:00 EDT
TZ = "America/New_York"


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


# (topic, outcomes, confidences, [(count, first answered_at UTC)])
HISTORY: tuple[tuple[str, str, str, list[tuple[int, datetime]]], ...] = (
    (
        "Cardiac muscle",
        "RRRWWWWWWW",
        "552522111-",
        [
            (2, _utc(2026, 3, 10, 3, 30)),  # 23:30 EDT on Mar 9
            (3, _utc(2026, 3, 10, 4, 30)),  # 00:30 EDT on Mar 10
            (5, _utc(2026, 3, 5, 4, 30)),  # 23:30 EST on Mar 4
        ],
    ),
    ("Skeletal muscle", "RRRRRRWW", "5555533-", [(8, _utc(2026, 2, 28, 12, 0))]),
    ("Bone tissue", "RRRRRR", "551---", [(6, _utc(2026, 2, 18, 12, 0))]),
    ("Nerves", "WWW", "222", [(3, _utc(2026, 3, 5, 5, 30))]),  # 00:30 EST on Mar 5
    (
        "Blood",
        "W" * 10 + "R" * 20,
        "-" * 30,
        [(10, _utc(2025, 12, 1, 12, 0)), (20, _utc(2026, 1, 20, 12, 0))],
    ),
)

# (due_at, status, how many)
CARDS: tuple[tuple[datetime, CardStatus, int], ...] = (
    (_utc(2026, 3, 1, 4, 0), CardStatus.REVIEW, 2),  # overdue: counts as today
    (_utc(2026, 3, 10, 20, 0), CardStatus.REVIEW, 1),  # later today
    (_utc(2026, 3, 11, 3, 59), CardStatus.LEARNING, 1),  # 23:59 EDT, still today
    (_utc(2026, 3, 11, 4, 0), CardStatus.REVIEW, 3),  # local midnight: tomorrow
    (_utc(2026, 3, 10, 18, 0), CardStatus.SUSPENDED, 1),  # never counted
    (_utc(2026, 3, 20, 4, 0), CardStatus.REVIEW, 2),  # day 10 of the forecast
    (_utc(2026, 3, 24, 4, 0), CardStatus.REVIEW, 1),  # day 14: beyond the forecast
)


@dataclass(frozen=True)
class Seeded:
    user_id: int
    scope_id: int
    other_user_id: int
    question_ids: dict[str, int]  # one question per topic in the student's scope


async def _question(session: AsyncSession, scope_id: int, topic: str, n: int) -> Question:
    question = Question(
        scope_id=scope_id,
        stem=f"Question {n} about {topic.lower()}: which of the following is true?",
        stem_hash=f"{topic}-{n}",
        options=["a", "b", "c", "d"],
        correct_index=0,
        topic=topic,
    )
    session.add(question)
    await session.flush()
    return question


async def seed_history(
    db: Database, *, external_id: str = "ada", platform: Platform = Platform.TELEGRAM
) -> Seeded:
    """Writes the history above for one student, plus noise from another student."""
    async with db.session() as session:
        user = await get_or_create_user(session, platform, external_id, "Ada")
        user.tz = TZ
        user.streak, user.best_streak, user.last_study_day = 2, 6, date(2026, 3, 10)
        user.xp, user.daily_goal = 1240, 10
        scope = await personal_scope(session, user)
        other = await get_or_create_user(session, platform, f"{external_id}-x", "Bo")
        question_ids: dict[str, int] = {}
        n = 0
        for topic, outcomes, confidences, batches in HISTORY:
            n += 1
            question = await _question(session, scope.id, topic, n)
            question_ids[topic] = question.id
            index = 0
            for count, first in batches:
                for k in range(count):
                    session.add(
                        Attempt(
                            user_id=user.id,
                            question_id=question.id,
                            source=AttemptSource.QUIZ,
                            topic=topic,
                            choice=0,
                            correct=outcomes[index] == "R",
                            confidence=None
                            if confidences[index] == "-"
                            else int(confidences[index]),
                            time_ms=10_000 + 1_000 * index,
                            quality=4,
                            answered_at=first + timedelta(seconds=k),
                        )
                    )
                    index += 1
        for due_at, status, count in CARDS:
            for _ in range(count):
                n += 1
                question = await _question(session, scope.id, "Cardiac muscle", n)
                session.add(
                    Card(user_id=user.id, question_id=question.id, due_at=due_at, status=status)
                )
        # Another student's answers and cards must never show up in Ada's numbers.
        other_scope = await personal_scope(session, other)
        foreign = await _question(session, other_scope.id, "Cardiac muscle", 999)
        for k in range(4):
            session.add(
                Attempt(
                    user_id=other.id, question_id=foreign.id, source=AttemptSource.QUIZ,
                    topic="Cardiac muscle", choice=0, correct=True, confidence=1,
                    time_ms=5_000, quality=5, answered_at=NOW - timedelta(hours=k + 1),
                )
            )  # fmt: skip
        session.add(Card(user_id=other.id, question_id=foreign.id, due_at=NOW))
        return Seeded(user.id, scope.id, other.id, question_ids)


async def add_material(
    db: Database, scope_id: int, headings: list[str], *, filename: str = "muscle.pdf"
) -> int:
    """An uploaded, ready material whose chunks carry these section headings."""
    async with db.session() as session:
        material = Material(
            scope_id=scope_id,
            filename=filename,
            sha256=filename.ljust(64, "0")[:64],
            size_bytes=1000,
            status=MaterialStatus.READY,
            pages=len(headings),
        )
        session.add(material)
        await session.flush()
        for ordinal, heading in enumerate(headings):
            session.add(
                Chunk(
                    material_id=material.id, ordinal=ordinal, page_start=ordinal + 1,
                    page_end=ordinal + 1, heading=heading, kind=ChunkKind.BODY,
                    text=f"{heading} is described here.",
                )
            )  # fmt: skip
        return material.id


async def get_user(db: Database, user_id: int) -> User:
    async with db.session() as session:
        user = await session.get(User, user_id)
        assert user is not None
        return user
