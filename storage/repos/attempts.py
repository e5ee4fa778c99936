"""The answer log. Append-only by construction: this module offers no update or delete."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Attempt


async def append_attempt(session: AsyncSession, attempt: Attempt) -> Attempt:
    if attempt.id is not None:
        raise ValueError("attempts are append-only; this one is already stored")
    session.add(attempt)
    await session.flush()
    return attempt


async def answers_since(session: AsyncSession, user_id: int, since: datetime) -> tuple[int, int]:
    """(answered, correct) of the student's answers after `since`."""
    answered, correct = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(case((Attempt.correct, 1), else_=0)), 0))
            .where(Attempt.user_id == user_id, Attempt.answered_at > since)
        )
    ).one()  # fmt: skip
    return int(answered), int(correct)


async def count_answers_from(session: AsyncSession, user_id: int, start: datetime) -> int:
    """How many answers the student gave at or after `start` (e.g. their local midnight)."""
    count = await session.scalar(
        select(func.count()).where(Attempt.user_id == user_id, Attempt.answered_at >= start)
    )
    return int(count or 0)


async def answer_log(session: AsyncSession, user_id: int) -> list[Attempt]:
    """Every answer of the student, oldest first (what a scheduler switch replays)."""
    rows = await session.scalars(
        select(Attempt).where(Attempt.user_id == user_id).order_by(Attempt.answered_at, Attempt.id)
    )
    return list(rows)
