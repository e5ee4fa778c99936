"""Cards: one student's SM-2 state per question."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, select
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


async def cards_in_play(
    session: AsyncSession, user_id: int, *, mastered_from_days: int
) -> tuple[int, int]:
    """(cards not suspended, those among them in review at `mastered_from_days`+ days)."""
    row = (
        await session.execute(
            select(
                func.count(),
                func.sum(
                    case(
                        (
                            (Card.status == CardStatus.REVIEW)
                            & (Card.interval_days >= mastered_from_days),
                            1,
                        ),
                        else_=0,
                    )
                ),
            ).where(Card.user_id == user_id, Card.status != CardStatus.SUSPENDED)
        )
    ).one()
    return int(row[0] or 0), int(row[1] or 0)


async def count_due(session: AsyncSession, user_id: int, now: datetime) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(Card)
        .where(Card.user_id == user_id, Card.due_at <= now, Card.status != CardStatus.SUSPENDED)
    )
    return int(count or 0)
