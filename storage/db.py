"""The async engine, the session factory, and schema migration at start-up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic config built in code, so no ini file has to sit in the working directory."""
    config = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


SQLITE_BUSY_TIMEOUT_MS = 15_000


def _enable_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the scheduler read while a handler writes; SQLite leaves FKs off by default.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # A click may queue behind twenty others' writes while a textbook is embedded on two
    # cores: at 5 s, 1-3 clicks in 5,000 timed out (bench contention); at 15 s none did.
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    # Deleted rows are overwritten, not left in free pages: /forget_me must really forget.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


class Database:
    """One engine and session factory per process; `session()` is one unit of work."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # hide_parameters: an error or echo never prints bound values (a student's text).
        self.engine: AsyncEngine = create_async_engine(
            url, echo=echo, pool_pre_ping=True, hide_parameters=True
        )
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _enable_sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session committed once on success and rolled back on any error: all or nothing."""
        async with self.sessions() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def migrate(self, revision: str = "head") -> None:
        """Brings the schema to `revision`. Idempotent."""
        async with self.engine.begin() as conn:
            await conn.run_sync(
                lambda sync_conn: command.upgrade(alembic_config(sync_conn), revision)
            )

    async def ping(self) -> None:
        """Raises unless the database answers a trivial query."""
        async with self.engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")

    async def schema_revisions(self) -> tuple[str | None, str | None]:
        """(the database's Alembic revision, None before any migration; the code's head)."""
        async with self.engine.connect() as conn:
            current = await conn.run_sync(
                lambda sync_conn: MigrationContext.configure(sync_conn).get_current_revision()
            )
        return current, ScriptDirectory.from_config(alembic_config()).get_current_head()

    async def downgrade(self, revision: str = "base") -> None:
        async with self.engine.begin() as conn:
            await conn.run_sync(
                lambda sync_conn: command.downgrade(alembic_config(sync_conn), revision)
            )

    async def flush_erasures(self) -> None:
        """Makes committed deletions final on disk. SQLite keeps old page images in the WAL
        until a checkpoint, so this checkpoints and truncates it (best effort: a reader that
        holds an old snapshot makes it partial). PostgreSQL's own VACUUM does this there."""
        if not self.is_sqlite:
            return
        async with self.engine.connect() as conn:
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def __repr__(self) -> str:
        # The URL may carry a password: show it the way SQLAlchemy masks it.
        return f"Database({make_url(self.url)!r})"

    async def dispose(self) -> None:
        await self.engine.dispose()
