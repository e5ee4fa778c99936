"""The webhook inbox's rules, on SQLite and PostgreSQL: an update is stored once, a chat has
one update in progress at a time and gives them out oldest first, and a dead worker's
update is taken over when its lease runs out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.db import Database
from storage.repos import telegram_inbox as inbox

T0 = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)
CHAT = 42


async def _store(db: Database, update_id: int, chat_id: int = CHAT) -> bool:
    async with db.session() as session:
        return await inbox.store(
            session, update_id=update_id, chat_id=chat_id, payload={"update_id": update_id},
            now=T0,
        )  # fmt: skip


async def _claim(db: Database, worker: str, now: datetime = T0) -> int | None:
    async with db.session() as session:
        claimed = await inbox.claim_next(
            session, chat_id=CHAT, worker=worker, now=now, until=now + LEASE
        )
    return None if claimed is None else claimed[0]


async def _done(db: Database, update_id: int, worker: str) -> None:
    async with db.session() as session:
        await inbox.mark_processed(session, update_id=update_id, worker=worker, now=T0)


async def test_updates_are_stored_once_and_given_out_one_at_a_time_in_order(
    any_db: Database,
) -> None:
    assert [await _store(any_db, i) for i in (11, 10, 12)] == [True, True, True]
    assert await _store(any_db, 11) is False  # redelivered
    assert await _claim(any_db, "a") == 10
    # While a holds the chat's oldest, nobody gets its later ones (order is kept).
    assert await _claim(any_db, "b") is None
    await _done(any_db, 10, "a")
    assert await _claim(any_db, "b") == 11
    await _done(any_db, 11, "b")
    assert await _claim(any_db, "a") == 12
    await _done(any_db, 12, "a")
    assert await _claim(any_db, "a") is None
    async with any_db.session() as session:
        assert await inbox.chats_waiting(session, now=T0) == []


async def test_a_dead_workers_update_is_taken_over_after_its_lease(any_db: Database) -> None:
    await _store(any_db, 1)
    assert await _claim(any_db, "dead") == 1
    async with any_db.session() as session:
        assert await inbox.chats_waiting(session, now=T0 + LEASE / 2) == []
        assert await inbox.chats_waiting(session, now=T0 + 2 * LEASE) == [CHAT]
    assert await _claim(any_db, "alive", now=T0 + 2 * LEASE) == 1
    # The dead worker's late "done" does not count: the update is alive's now.
    await _done(any_db, 1, "dead")
    async with any_db.session() as session:
        assert not await inbox.extend_claim(
            session, update_id=1, worker="dead", until=T0 + 3 * LEASE
        )
        assert await inbox.extend_claim(session, update_id=1, worker="alive", until=T0 + 3 * LEASE)
