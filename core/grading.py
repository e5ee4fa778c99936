"""The one grading path: an answer (quiz, review or round) becomes the attempt row and the
card, XP, level and streak changes.

`record_answer` is the only place that turns an answer into study effects; quizzes, reviews
and group rounds all call it, so a rule changed here changes for every source at once. A
round has no confidence step: its answers pass `confidence=None`, which grades and pays
exactly as "fairly sure" would (core.srs, core.xp) while calibration never counts a rating
the student did not give.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core import circulation, srs
from core.scheduling import CardScheduler, card_state, scheduler_for, store_state
from core.srs import CardState, Quality, ReviewLog, user_zone
from core.streaks import StreakEvent, StreakState, record_study
from core.xp import level_for, xp_for_answer
from storage.enums import AttemptSource
from storage.models import Attempt, Card, Question, User
from storage.repos.attempts import append_attempt
from storage.repos.cards import card_for


@dataclass(frozen=True)
class Answer:
    """One answer as the student gave it."""

    question: Question
    choice: int
    confidence: int | None
    time_ms: int
    source: AttemptSource
    answered_at: datetime
    session_id: int | None = None
    round_id: int | None = None

    @property
    def correct(self) -> bool:
        return self.choice == self.question.correct_index


@dataclass(frozen=True)
class Graded:
    """What the answer changed."""

    attempt: Attempt
    card: CardState
    log: ReviewLog
    xp: int
    leveled_up: bool
    streak_event: StreakEvent

    @property
    def quality(self) -> Quality:
        return self.log.quality


def question_chars(question: Question) -> int:
    """Characters the student reads: the stem and every option (the answer-time budget)."""
    return len(question.stem) + sum(len(str(option)) for option in question.options)


async def record_answer(
    session: AsyncSession,
    user: User,
    answer: Answer,
    *,
    scheduler: CardScheduler | None = None,
) -> Graded:
    """Grades `answer`: appends the attempt, reviews the student's card with their scheduler,
    adds XP (and level), advances the daily streak and the question's counters."""
    question, at = answer.question, answer.answered_at
    correct = answer.correct
    quality = srs.quality_from(
        correct=correct, confidence=answer.confidence, time_ms=answer.time_ms,
        question_chars=question_chars(question),
    )  # fmt: skip
    xp = xp_for_answer(
        correct=correct, difficulty=question.difficulty, confidence=answer.confidence
    )
    tz = user_zone(user)

    card = await card_for(session, user.id, question.id)
    if card is None:
        card = Card(user_id=user.id, question_id=question.id, due_at=at)
        session.add(card)
    scheduler = scheduler or scheduler_for(user)
    state, log = scheduler.review(card_state(card, at), quality, now=at, tz=tz)
    store_state(card, state)

    old_level = user.level
    user.xp += xp
    user.level = level_for(user.xp)
    streak, event = record_study(
        StreakState(user.streak, user.best_streak, user.last_study_day, user.freeze_used_week),
        now=at,
        tz=tz,
    )
    user.streak, user.best_streak = streak.streak, streak.best_streak
    user.last_study_day, user.freeze_used_week = streak.last_study_day, streak.freeze_used_week

    question.times_answered += 1
    question.times_correct += int(correct)
    attempt = await append_attempt(
        session,
        Attempt(
            user_id=user.id, question_id=question.id, session_id=answer.session_id,
            round_id=answer.round_id, source=answer.source, topic=question.topic,
            difficulty=circulation.effective_difficulty(question), choice=answer.choice,
            correct=correct, confidence=answer.confidence, time_ms=answer.time_ms,
            quality=quality, xp=xp, answered_at=at, scheduler=log.scheduler,
            elapsed_days=log.elapsed_days, predicted_recall=log.predicted_recall,
        ),
    )  # fmt: skip
    await circulation.rescore(session, question, now=at)
    return Graded(
        attempt=attempt, card=state, log=log, xp=xp, leveled_up=user.level > old_level,
        streak_event=event,
    )  # fmt: skip
