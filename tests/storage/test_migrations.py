"""The schema comes only from migrations, and migrations match the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from storage.db import Database
from storage.models import Base

EXPECTED_TABLES = {
    "users", "chats", "memberships", "scopes", "materials", "chunks", "generation_runs",
    "questions", "cards", "attempts", "quiz_sessions", "quiz_items", "group_rounds",
    "round_items", "round_answers", "deliveries", "question_reports", "telegram_updates",
}  # fmt: skip


async def _tables(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        names = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    return names - {"alembic_version"}


async def _diff(db: Database) -> list[object]:
    async with db.engine.connect() as conn:
        return await conn.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata
            )
        )


async def _round_trip(db: Database) -> None:
    await db.migrate()
    assert await _tables(db) == EXPECTED_TABLES
    await db.downgrade("base")
    assert await _tables(db) == set()
    await db.migrate()
    assert await _tables(db) == EXPECTED_TABLES
    assert await _diff(db) == [], "models and migrations disagree: write a migration"


async def test_sqlite_upgrade_downgrade_upgrade_and_no_drift(settings) -> None:
    db = Database(settings.database_url)
    try:
        await _round_trip(db)
    finally:
        await db.dispose()


async def test_postgres_upgrade_downgrade_upgrade_and_no_drift(postgres_db_url: str) -> None:
    db = Database(postgres_db_url)
    try:
        await _round_trip(db)
    finally:
        await db.dispose()


async def test_migrate_is_idempotent(db: Database) -> None:
    await db.migrate()
    assert await _tables(db) == EXPECTED_TABLES
