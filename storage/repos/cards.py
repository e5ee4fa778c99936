"""Cards: one student's SM-2 state per question."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import CardStatus
from storage.models import Card


def in_play() -> ColumnElement[bool]:
    """A card that circulates: not suspended (its question reported or retired)."""
    return Card.status != CardStatus.SUSPENDED


def is_due(now: datetime) -> ColumnElement[bool]:
    """The one "card is due" rule: in play and its due date reached at `now`."""
    return (Card.due_at <= now) & in_play()


async def card_for(session: AsyncSession, user_id: int, question_id: int) -> Card | None:
    return await session.scalar(
        select(Card).where(Card.user_id == user_id, Card.question_id == question_id)
    )


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
            ).where(Card.user_id == user_id, in_play())
        )
    ).one()
    return int(row[0] or 0), int(row[1] or 0)


async def count_due(session: AsyncSession, user_id: int, now: datetime) -> int:
    count = await session.scalar(
        select(func.count()).select_from(Card).where(Card.user_id == user_id, is_due(now))
    )
    return int(count or 0)


async def cards_of(session: AsyncSession, user_id: int) -> list[Card]:
    """Every card of the student, suspended ones included."""
    return list(await session.scalars(select(Card).where(Card.user_id == user_id)))
