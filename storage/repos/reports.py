"""Question reports, the answer statistics a question's quality is computed from, and
taking a question out of circulation (its cards suspended, never deleted)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, distinct, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import CardStatus, RetiredBecause
from storage.models import Attempt, Card, Question, QuestionReport, RoundAnswer, RoundItem, User

# The newest answers whose times give a question's median answer time.
TIMES_SAMPLED = 200


async def add_report(session: AsyncSession, report: QuestionReport) -> bool:
    """Stores a report; False (nothing stored) if this student already reported it.

    The unique (question_id, user_id) constraint is the final word when two presses race.
    """
    try:
        async with session.begin_nested():
            session.add(report)
            await session.flush()
    except IntegrityError:
        return False
    return True


async def has_answered(session: AsyncSession, user_id: int, question_id: int) -> bool:
    """Whether the student ever answered the question (they saw it and its key)."""
    found = await session.scalar(
        select(Attempt.id)
        .where(Attempt.user_id == user_id, Attempt.question_id == question_id)
        .limit(1)
    )
    return found is not None


async def answered_round_item(session: AsyncSession, user_id: int, item_id: int) -> bool:
    found = await session.scalar(
        select(RoundAnswer.id)
        .where(RoundAnswer.user_id == user_id, RoundAnswer.round_item_id == item_id)
        .limit(1)
    )
    return found is not None


async def round_item_by_token(session: AsyncSession, token: str) -> RoundItem | None:
    return await session.scalar(select(RoundItem).where(RoundItem.token == token))


@dataclass(frozen=True)
class AnswerStats:
    answers: int
    right: int
    rated: int
    confidently_wrong: int
    students: int
    median_time_ms: float | None
    reports: int


async def answer_stats(
    session: AsyncSession, question_id: int, *, confident_from: int
) -> AnswerStats:
    """Every answer to the question, summed up, and its reports (quality and observed
    difficulty read this)."""
    row = (
        await session.execute(
            select(
                func.count(),
                func.sum(case((Attempt.correct, 1), else_=0)),
                func.count(Attempt.confidence),
                func.sum(
                    case(
                        ((~Attempt.correct) & (Attempt.confidence >= confident_from), 1),
                        else_=0,
                    )
                ),
                func.count(distinct(Attempt.user_id)),
                select(func.count())
                .select_from(QuestionReport)
                .where(QuestionReport.question_id == question_id)
                .scalar_subquery(),
            ).where(Attempt.question_id == question_id)
        )
    ).one()
    times = list(
        await session.scalars(
            select(Attempt.time_ms)
            .where(Attempt.question_id == question_id)
            .order_by(Attempt.id.desc())
            .limit(TIMES_SAMPLED)
        )
    )
    return AnswerStats(
        answers=int(row[0] or 0),
        right=int(row[1] or 0),
        rated=int(row[2] or 0),
        confidently_wrong=int(row[3] or 0),
        students=int(row[4] or 0),
        median_time_ms=float(statistics.median(times)) if times else None,
        reports=int(row[5] or 0),
    )


async def retire(
    session: AsyncSession, question: Question, *, because: RetiredBecause, now: datetime
) -> bool:
    """Takes the question out of circulation and suspends its cards. False if it already was."""
    result = await session.execute(
        update(Question)
        .where(Question.id == question.id, Question.retired_at.is_(None))
        .values(retired_at=now, retired_because=because)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    question.retired_at, question.retired_because = now, because
    await session.execute(
        update(Card)
        .where(Card.question_id == question.id)
        .values(status=CardStatus.SUSPENDED)
        .execution_options(synchronize_session="fetch")
    )
    return True


async def untold_reporters(session: AsyncSession, question_id: int) -> list[User]:
    """Reporters of the question not yet told that it was retired."""
    rows = await session.scalars(
        select(User)
        .join(QuestionReport, QuestionReport.user_id == User.id)
        .where(
            QuestionReport.question_id == question_id,
            QuestionReport.told_retired_at.is_(None),
        )
        .order_by(QuestionReport.id)
    )
    return list(rows)


async def mark_told(session: AsyncSession, question_id: int, user_id: int, now: datetime) -> bool:
    """Marks a reporter told; False if someone already told them (they hear it once)."""
    result = await session.execute(
        update(QuestionReport)
        .where(
            QuestionReport.question_id == question_id,
            QuestionReport.user_id == user_id,
            QuestionReport.told_retired_at.is_(None),
        )
        .values(told_retired_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
