"""Constraints a student would feel: no duplicate uploads, one card per question, clean deletes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.enums import AttemptSource, ChatKind, DeliveryKind, Platform
from storage.models import Attempt, Card, Chunk, Delivery, Material, Question, Scope
from storage.repos.attempts import append_attempt
from storage.repos.chats import get_or_create_chat, group_scope, personal_scope
from storage.repos.users import delete_user, get_or_create_user

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


async def _student_with_material(db: Database) -> tuple[int, int, int, int]:
    """Returns (user_id, scope_id, material_id, question_id) for one student and one PDF."""
    async with db.session() as session:
        user = await get_or_create_user(session, Platform.TELEGRAM, "42", "Ada")
        scope = await personal_scope(session, user)
        material = Material(
            scope_id=scope.id, filename="heart.pdf", sha256="a" * 64, size_bytes=10
        )
        session.add(material)
        await session.flush()
        session.add(
            Chunk(material_id=material.id, ordinal=0, page_start=1, page_end=1, text="The heart")
        )
        question = Question(
            scope_id=scope.id, material_id=material.id, stem="Which?", stem_hash="h1",
            options=["a", "b", "c", "d"], correct_index=0,
        )  # fmt: skip
        session.add(question)
        await session.flush()
        session.add(Card(user_id=user.id, question_id=question.id, due_at=NOW))
        return user.id, scope.id, material.id, question.id


async def _count(db: Database, model: type) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_same_pdf_twice_in_one_scope_is_rejected_by_the_database(any_db: Database) -> None:
    _, scope_id, _, _ = await _student_with_material(any_db)
    with pytest.raises(IntegrityError):
        async with any_db.session() as session:
            session.add(
                Material(scope_id=scope_id, filename="copy.pdf", sha256="a" * 64, size_bytes=10)
            )
    assert await _count(any_db, Material) == 1


async def test_same_pdf_in_two_scopes_is_fine(any_db: Database) -> None:
    await _student_with_material(any_db)
    async with any_db.session() as session:
        chat = await get_or_create_chat(session, Platform.TELEGRAM, "-100", ChatKind.GROUP)
        scope = await group_scope(session, chat)
        session.add(Material(scope_id=scope.id, filename="h.pdf", sha256="a" * 64, size_bytes=1))
    assert await _count(any_db, Material) == 2


async def test_one_card_per_student_and_question(any_db: Database) -> None:
    user_id, _, _, question_id = await _student_with_material(any_db)
    with pytest.raises(IntegrityError):
        async with any_db.session() as session:
            session.add(Card(user_id=user_id, question_id=question_id, due_at=NOW))
    assert await _count(any_db, Card) == 1


async def test_deleting_a_material_removes_chunks_questions_and_cards_but_keeps_history(
    any_db: Database,
) -> None:
    user_id, _, material_id, question_id = await _student_with_material(any_db)
    async with any_db.session() as session:
        await append_attempt(
            session,
            Attempt(
                user_id=user_id, question_id=question_id, source=AttemptSource.QUIZ,
                topic="Heart", choice=0, correct=True, time_ms=900, quality=5, answered_at=NOW,
            ),
        )  # fmt: skip
    async with any_db.session() as session:
        await session.delete(await session.get(Material, material_id))
    assert (await _count(any_db, Chunk), await _count(any_db, Question)) == (0, 0)
    assert await _count(any_db, Card) == 0
    async with any_db.session() as session:
        attempt = await session.scalar(select(Attempt))
    assert attempt is not None and attempt.question_id is None and attempt.topic == "Heart"


async def test_forgetting_a_user_removes_everything_they_own(any_db: Database) -> None:
    _user_id, _, _, _ = await _student_with_material(any_db)
    async with any_db.session() as session:
        user = await get_or_create_user(session, Platform.TELEGRAM, "42")
        await delete_user(session, user)
    for model in (Scope, Material, Chunk, Question, Card):
        assert await _count(any_db, model) == 0, model.__name__


async def test_attempts_cannot_be_rewritten_through_the_repository(db: Database) -> None:
    user_id, _, _, question_id = await _student_with_material(db)
    async with db.session() as session:
        attempt = await append_attempt(
            session,
            Attempt(
                user_id=user_id, question_id=question_id, source=AttemptSource.QUIZ,
                choice=1, correct=False, time_ms=1200, quality=1, answered_at=NOW,
            ),
        )  # fmt: skip
        with pytest.raises(ValueError, match="append-only"):
            await append_attempt(session, attempt)


async def test_one_delivery_per_user_kind_and_local_day(any_db: Database) -> None:
    user_id, _, _, _ = await _student_with_material(any_db)
    day = NOW.date()
    async with any_db.session() as session:
        session.add(
            Delivery(user_id=user_id, kind=DeliveryKind.DUE_REVIEWS, local_day=day, claimed_at=NOW)
        )
    with pytest.raises(IntegrityError):
        async with any_db.session() as session:
            session.add(
                Delivery(
                    user_id=user_id, kind=DeliveryKind.DUE_REVIEWS, local_day=day, claimed_at=NOW
                )
            )


async def test_datetimes_round_trip_as_utc_and_naive_ones_are_refused(any_db: Database) -> None:
    _user_id, _, _, _question_id = await _student_with_material(any_db)
    async with any_db.session() as session:
        card = await session.scalar(select(Card))
        assert card is not None and card.due_at == NOW and card.due_at.tzinfo is not None
        due = await session.scalar(
            select(func.count()).select_from(Card).where(Card.due_at <= NOW + timedelta(hours=1))
        )
        assert due == 1
    with pytest.raises(Exception, match="naive datetime"):
        async with any_db.session() as session:
            card = await session.scalar(select(Card))
            assert card is not None
            card.due_at = datetime(2026, 11, 24, 9, 0)
