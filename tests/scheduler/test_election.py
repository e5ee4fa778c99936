"""One scheduler at a time: on PostgreSQL an advisory lock elects the process that pushes."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from scheduler.pacing import Pacer
from scheduler.service import PushScheduler
from storage.db import Database
from storage.enums import DeliveryState
from storage.repos.deliveries import deliveries_for
from tests.scheduler.conftest import Crash, RecordingNotifier, add_user, utc

pytestmark = pytest.mark.postgres


def worker(url: str, notifier: RecordingNotifier, now: list[datetime]) -> PushScheduler:
    """One bot process: its own engine, pool and lock connection."""
    return PushScheduler(
        Database(url), {notifier.platform: notifier}, clock=lambda: now[0], pacer=Pacer()
    )


async def test_two_scheduler_processes_only_one_sends(postgres_db_url: str) -> None:
    setup = Database(postgres_db_url)
    await setup.migrate()
    for index in range(20):
        await add_user(setup, f"u{index}", due_cards=2)
    await setup.dispose()
    now = [utc(2026, 6, 10, 19, 0)]
    first_phone, second_phone = RecordingNotifier(), RecordingNotifier()
    first, second = (
        worker(postgres_db_url, first_phone, now),
        worker(postgres_db_url, second_phone, now),
    )
    try:
        reports = await asyncio.gather(first.tick(), second.tick())
        assert sorted(report is None for report in reports) == [False, True]
        assert sorted(len(phone.sent) for phone in (first_phone, second_phone)) == [0, 20]
        assert [first.election.holds_lock, second.election.holds_lock].count(True) == 1

        # The leader stops (deploy, crash): the other takes over on its next tick.
        leader, follower = (first, second) if first.election.holds_lock else (second, first)
        await leader.stop()
        now[0] += timedelta(days=1)
        assert await follower.tick() is not None
        assert follower.election.holds_lock
        assert len(first_phone.sent) + len(second_phone.sent) == 40
    finally:
        for process in (first, second):
            await process.stop()
            await process.db.dispose()


async def test_postgres_claim_survives_a_crash_and_sends_once(postgres_db_url: str) -> None:
    db = Database(postgres_db_url)
    await db.migrate()
    try:
        user_id = await add_user(db, "asha", tz="Asia/Kolkata", due_cards=3)
        phone = RecordingNotifier()
        now = [utc(2026, 3, 10, 13, 30)]
        process = worker(postgres_db_url, phone, now)
        phone.failures.append(Crash())
        with pytest.raises(Crash):
            await process.tick()
        await process.stop()
        await process.db.dispose()
        restarted = worker(postgres_db_url, phone, now)
        now[0] += timedelta(minutes=1)
        await restarted.tick()
        await restarted.tick()
        await restarted.stop()
        await restarted.db.dispose()
        assert [m.text.splitlines()[0] for m in phone.sent] == ["3 cards due — about 2 minutes"]
        async with db.session() as session:
            [delivery] = await deliveries_for(session, user_id)
        assert (delivery.state, delivery.attempts) == (DeliveryState.SENT, 2)
    finally:
        await db.dispose()
