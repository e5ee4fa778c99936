"""Alembic environment: runs on a connection the app hands over, or opens its own (CLI)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from storage.models import Base

config = context.config
target_metadata = Base.metadata


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine() -> None:
    from core.settings import Settings

    engine = create_async_engine(Settings().database_url, hide_parameters=True)
    async with engine.begin() as connection:
        await connection.run_sync(_configure_and_run)
    await engine.dispose()


shared_connection = config.attributes.get("connection")
if shared_connection is not None:
    _configure_and_run(shared_connection)
else:
    asyncio.run(_run_with_own_engine())
