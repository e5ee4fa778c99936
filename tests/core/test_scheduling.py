"""The scheduler choice: FSRS's rating mapping, and switching schedulers reschedules every
card from the attempt log without losing any of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fsrs import Rating
from sqlalchemy import select

from core import fsrs_scheduler, srs
from core.grading import Answer, record_answer
from core.scheduling import Fsrs, Sm2, switch_scheduler
from storage.db import Database
from storage.enums import AttemptSource, SchedulerKind
from storage.models import Attempt, Card, Question, User
from tests.study_seed import seed_student

NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
SHORT = 200  # characters of stem + options


@pytest.mark.parametrize(
    ("correct", "confidence", "time_ms", "rating"),
    [
        (False, 5, 3_000, Rating.Again),  # confidently wrong
        (False, 1, 3_000, Rating.Again),  # knew they did not know: still not recalled
        (False, None, 3_000, Rating.Again),
        (True, 1, 3_000, Rating.Hard),  # a lucky guess
        (True, 2, 3_000, Rating.Hard),
        (True, 5, 600_000, Rating.Hard),  # right but laboured
        (True, 3, 3_000, Rating.Good),
        (True, None, 3_000, Rating.Good),  # a round: no confidence step
        (True, 4, 30_000, Rating.Good),  # sure but not fast
        (True, 4, 3_000, Rating.Easy),  # sure and fast
        (True, 5, 3_000, Rating.Easy),
    ],
)
def test_fsrs_rating_follows_the_documented_mapping(
    correct: bool, confidence: int | None, time_ms: int, rating: Rating
) -> None:
    quality = srs.quality_from(
        correct=correct, confidence=confidence, time_ms=time_ms, question_chars=SHORT
    )
    assert fsrs_scheduler.rating_for(quality) is rating


def test_fsrs_brings_a_card_back_on_a_whole_local_day_and_sooner_at_higher_retention() -> None:
    card = srs.new_card(NOW)
    relaxed, strict = Fsrs(retention=0.80), Fsrs(retention=0.97)
    after_relaxed, log = relaxed.review(card, srs.Quality.HESITANT, now=NOW, tz="Asia/Kolkata")
    after_strict, _ = strict.review(card, srs.Quality.HESITANT, now=NOW, tz="Asia/Kolkata")
    assert after_strict.interval_days < after_relaxed.interval_days
    local = after_relaxed.due_at.astimezone(srs.user_zone(User(tz="Asia/Kolkata")))
    assert (local.hour, local.minute) == (0, 0)
    assert log.predicted_recall is None  # a first sighting predicts nothing
    later = NOW + timedelta(days=after_relaxed.interval_days)
    _, second = relaxed.review(after_relaxed, srs.Quality.HESITANT, now=later, tz="UTC")
    assert second.predicted_recall is not None and 0.75 < second.predicted_recall < 0.9


def test_sm2_predicts_ninety_percent_on_the_due_day() -> None:
    card, _ = Sm2().review(srs.new_card(NOW), srs.Quality.HESITANT, now=NOW, tz="UTC")
    assert Sm2().recall(card, NOW + timedelta(days=card.interval_days)) == pytest.approx(0.9)


async def _cards(session, user_id: int) -> dict[int, tuple]:  # type: ignore[no-untyped-def]
    rows = await session.scalars(select(Card).where(Card.user_id == user_id))
    return {
        c.question_id: (c.due_at, c.interval_days, c.repetitions, c.lapses, c.status,
                        c.ease_factor, c.last_reviewed_at)
        for c in rows
    }  # fmt: skip


async def test_switching_to_fsrs_and_back_keeps_history_and_due_dates_make_sense(
    db: Database,
) -> None:
    seeded = await seed_student(db, count=3)
    async with db.session() as session:
        user = await session.get(User, seeded.user_id)
        assert user is not None
        days_and_choices = [(0, 0), (1, 0), (7, 1), (8, 0), (14, 0)]
        for question_id in seeded.question_ids:
            question = await session.get(Question, question_id)
            assert question is not None
            for day, choice in days_and_choices:
                await record_answer(
                    session,
                    user,
                    Answer(
                        question=question, choice=choice, confidence=3, time_ms=4_000,
                        source=AttemptSource.QUIZ, answered_at=NOW + timedelta(days=day),
                    ),
                )  # fmt: skip
        sm2_cards = await _cards(session, user.id)
        log_before = [
            (a.question_id, a.answered_at, a.quality, a.scheduler)
            for a in await session.scalars(select(Attempt).order_by(Attempt.id))
        ]

        assert await switch_scheduler(session, user, SchedulerKind.FSRS, tz="UTC") == 3
        fsrs_cards = await _cards(session, user.id)
        last_answer = NOW + timedelta(days=14)
        for due_at, interval, *_ in fsrs_cards.values():
            assert due_at > last_answer and due_at - last_answer <= timedelta(days=interval)
        assert fsrs_cards != sm2_cards  # FSRS schedules differently...
        stability = await session.scalars(select(Card.stability))
        assert all(value is not None and value > 0 for value in stability)

        await switch_scheduler(session, user, SchedulerKind.SM2, tz="UTC")
        assert await _cards(session, user.id) == sm2_cards  # ...and SM-2 comes back exactly
        log_after = [
            (a.question_id, a.answered_at, a.quality, a.scheduler)
            for a in await session.scalars(select(Attempt).order_by(Attempt.id))
        ]
        assert log_after == log_before and len(log_after) == 15
