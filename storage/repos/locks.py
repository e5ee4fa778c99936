"""PostgreSQL session-level advisory locks, held on one dedicated connection (the scheduler
election: whoever holds the lock pushes)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection


async def still_connected(connection: AsyncConnection) -> None:
    """Raises when the connection (and any lock it holds) is gone."""
    await connection.execute(sa.text("SELECT 1"))


async def try_advisory_lock(connection: AsyncConnection, key: int) -> bool:
    """Takes the lock if nobody holds it; never waits."""
    won = await connection.scalar(
        sa.select(sa.func.pg_try_advisory_lock(sa.literal(key, sa.BigInteger)))
    )
    return bool(won)


async def advisory_unlock(connection: AsyncConnection, key: int) -> None:
    await connection.scalar(sa.select(sa.func.pg_advisory_unlock(sa.literal(key, sa.BigInteger))))
