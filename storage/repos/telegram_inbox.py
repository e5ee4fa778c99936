"""The Telegram webhook inbox: store an update once, claim a chat's oldest unprocessed one,
mark it processed.

A claim is one conditional UPDATE of the chat's oldest unprocessed row, granted only while
nobody else's lease on it runs. Because it is always the *oldest* row, a chat has at most
one update in progress across all workers, and its updates run in update_id order. The
UPDATE is a write, so on SQLite claims serialise on the database's one writer; on
PostgreSQL the row lock makes the second claimant re-read the row and find it taken.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import TelegramUpdate


async def store(
    session: AsyncSession, *, update_id: int, chat_id: int, payload: dict[str, Any], now: datetime
) -> bool:
    """Keeps the update for processing; False if this update_id was stored before."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    result = await session.execute(
        insert(TelegramUpdate)
        .values(
            update_id=update_id, chat_id=chat_id, payload=payload, received_at=now, claimed_by=""
        )
        .on_conflict_do_nothing(index_elements=[TelegramUpdate.update_id])
    )
    return bool(getattr(result, "rowcount", 0))


def _claimable(now: datetime) -> Any:
    return or_(TelegramUpdate.claimed_until.is_(None), TelegramUpdate.claimed_until < now)


async def claim_next(
    session: AsyncSession, *, chat_id: int, worker: str, now: datetime, until: datetime
) -> tuple[int, dict[str, Any]] | None:
    """Claims the chat's oldest unprocessed update for `worker` until `until`; None when it
    has none, or when its oldest is still another worker's (that worker goes on with the
    chat's next ones)."""
    oldest = (
        select(func.min(TelegramUpdate.update_id))
        .where(TelegramUpdate.chat_id == chat_id, TelegramUpdate.processed_at.is_(None))
        .scalar_subquery()
    )
    row = (
        await session.execute(
            update(TelegramUpdate)
            .where(
                TelegramUpdate.update_id == oldest,
                TelegramUpdate.processed_at.is_(None),
                _claimable(now),
            )
            .values(claimed_by=worker, claimed_until=until)
            .returning(TelegramUpdate.update_id, TelegramUpdate.payload)
        )
    ).first()
    if row is None:
        return None
    return int(row[0]), dict(row[1] or {})


async def extend_claim(
    session: AsyncSession, *, update_id: int, worker: str, until: datetime
) -> bool:
    """Moves the worker's lease on a long-running update; False if it is no longer theirs."""
    result = await session.execute(
        update(TelegramUpdate)
        .where(
            TelegramUpdate.update_id == update_id,
            TelegramUpdate.claimed_by == worker,
            TelegramUpdate.processed_at.is_(None),
        )
        .values(claimed_until=until)
    )
    return bool(getattr(result, "rowcount", 0))


async def mark_processed(
    session: AsyncSession, *, update_id: int, worker: str, now: datetime
) -> None:
    """Done: the update is never claimed again and its text is dropped."""
    await session.execute(
        update(TelegramUpdate)
        .where(TelegramUpdate.update_id == update_id, TelegramUpdate.claimed_by == worker)
        .values(processed_at=now, payload=None)
    )


async def chats_waiting(session: AsyncSession, *, now: datetime, limit: int = 100) -> list[int]:
    """Chats with an unprocessed update nobody holds (a lost wake-up, a crashed worker)."""
    rows = await session.scalars(
        select(TelegramUpdate.chat_id)
        .where(TelegramUpdate.processed_at.is_(None), _claimable(now))
        .distinct()
        .limit(limit)
    )
    return list(rows)


async def forget_processed(session: AsyncSession, *, before: datetime) -> None:
    """Drops processed rows older than `before` (kept a while to refuse redeliveries)."""
    await session.execute(delete(TelegramUpdate).where(TelegramUpdate.processed_at < before))
