"""Cards: one student's SM-2 state per question."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import CardStatus
from storage.models import Card


async def card_for(session: AsyncSession, user_id: int, question_id: int) -> Card | None:
    return await session.scalar(
        select(Card).where(Card.user_id == user_id, Card.question_id == question_id)
    )


async def due_cards_for(
    session: AsyncSession, user_id: int, now: datetime, limit: int = 50
) -> list[Card]:
    """Returns the user's due cards, most overdue first."""
    rows = await session.scalars(
        select(Card)
        .where(
            Card.user_id == user_id,
            Card.due_at <= now,
            Card.status != CardStatus.SUSPENDED,
        )
        .order_by(Card.due_at)
        .limit(limit)
    )
    return list(rows)


async def count_due(session: AsyncSession, user_id: int, now: datetime) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(Card)
        .where(Card.user_id == user_id, Card.due_at <= now, Card.status != CardStatus.SUSPENDED)
    )
    return int(count or 0)
