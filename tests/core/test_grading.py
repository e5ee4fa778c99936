"""One grading path: a quiz answer, a review answer and a round answer change the card, XP,
level, streak and the log the same way, because all three go through core.grading."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from core.grading import Answer, record_answer
from storage.db import Database
from storage.enums import AttemptSource, CardStatus
from storage.models import Attempt, Card, Question, User
from tests.study_seed import seed_student

NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


async def _answer_twice(db: Database, name: str, source: AttemptSource, confidence: int | None):
    seeded = await seed_student(db, external_id=name, count=1)
    async with db.session() as session:
        user = await session.get(User, seeded.user_id)
        question = await session.get(Question, seeded.question_ids[0])
        assert user is not None and question is not None
        for day, choice in ((0, 0), (1, 1)):  # right today, wrong tomorrow
            await record_answer(
                session,
                user,
                Answer(
                    question=question, choice=choice, confidence=confidence, time_ms=5_000,
                    source=source, answered_at=NOW + timedelta(days=day),
                ),
            )  # fmt: skip
        card = await session.scalar(select(Card).where(Card.user_id == user.id))
        attempts = list(await session.scalars(select(Attempt).where(Attempt.user_id == user.id)))
        assert card is not None
        return (
            (card.interval_days, card.repetitions, card.lapses, card.status, card.due_at,
             card.ease_factor),
            (user.xp, user.level, user.streak, user.last_study_day),
            [(a.correct, a.quality, a.xp, a.source) for a in attempts],
        )  # fmt: skip


async def test_quiz_review_and_round_answers_have_the_same_effects(db: Database) -> None:
    quiz = await _answer_twice(db, "quinn", AttemptSource.QUIZ, None)
    review = await _answer_twice(db, "rey", AttemptSource.REVIEW, None)
    round_ = await _answer_twice(db, "rod", AttemptSource.ROUND, None)
    assert quiz[:2] == review[:2] == round_[:2]
    card, progress, log = quiz
    assert card[:4] == (1, 0, 1, CardStatus.LEARNING)  # the miss tomorrow is a lapse
    assert progress[0] > 0 and progress[2] == 2  # XP earned, two study days in a row
    assert [source for *_, source in round_[2]] == [AttemptSource.ROUND] * 2
    assert [(c, q) for c, q, *_ in log] == [(True, 4), (False, 1)]


async def test_a_round_answer_grades_and_pays_like_fairly_sure(db: Database) -> None:
    """A timed round has no confidence step; it must not be graded as a guess or as certain."""
    unstated = await _answer_twice(db, "una", AttemptSource.ROUND, None)
    fairly_sure = await _answer_twice(db, "fay", AttemptSource.QUIZ, 3)
    assert unstated[0] == fairly_sure[0]
    assert [a[1:3] for a in unstated[2]] == [a[1:3] for a in fairly_sure[2]]


@pytest.mark.parametrize(
    "rule", [r"\bappend_attempt\(", r"\bxp_for_answer\(", r"\brecord_study\("]
)
def test_only_core_grading_turns_an_answer_into_study_effects(rule: str) -> None:
    callers = {
        path.relative_to(ROOT).as_posix()
        for folder in ("core", "handlers", "scheduler", "bot")
        for path in (ROOT / folder).rglob("*.py")
        if re.search(rule, path.read_text(encoding="utf-8"))
        and not re.search(rf"def {rule[2:]}", path.read_text(encoding="utf-8"))
    }
    assert callers == {"core/grading.py"}
