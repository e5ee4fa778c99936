"""The answer log. Append-only by construction: this module offers no update or delete."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Attempt


async def append_attempt(session: AsyncSession, attempt: Attempt) -> Attempt:
    if attempt.id is not None:
        raise ValueError("attempts are append-only; this one is already stored")
    session.add(attempt)
    await session.flush()
    return attempt


async def recent_attempts(session: AsyncSession, user_id: int, limit: int = 20) -> list[Attempt]:
    """Returns the user's newest attempts first."""
    rows = await session.scalars(
        select(Attempt)
        .where(Attempt.user_id == user_id)
        .order_by(Attempt.answered_at.desc(), Attempt.id.desc())
        .limit(limit)
    )
    return list(rows)


async def answer_log(session: AsyncSession, user_id: int) -> list[Attempt]:
    """Every answer of the student, oldest first (what a scheduler switch replays)."""
    rows = await session.scalars(
        select(Attempt).where(Attempt.user_id == user_id).order_by(Attempt.answered_at, Attempt.id)
    )
    return list(rows)
