"""Two worker processes tick the same group round at the same moments (each with its own
engine on the shared database, as two processes would): every question is posted once,
closed once, and the round ends with one leaderboard. On SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from core.settings import Settings
from storage.db import Database
from storage.models import RoundItem
from tests.rounds_support import T0, FakeClock, RecordingNotifier, make_rig, seed_group


async def test_two_workers_ticking_one_round_post_and_close_each_question_once(
    any_db: Database, settings: Settings
) -> None:
    await seed_group(any_db, questions=2)
    clock = FakeClock(T0)
    # One group chat: both workers' messages land in the same place.
    chat = RecordingNotifier()
    first = await make_rig(any_db, settings, clock, chat)
    second_db = Database(any_db.url)
    try:
        second = await make_rig(second_db, settings, clock, chat)
        await first.command("ann", "round", "2", "5")
        async with any_db.session() as session:
            round_id = await session.scalar(select(func.max(RoundItem.round_id)))
        round_id = 1 if round_id is None else round_id

        # Wake both at every step of the round: countdown, closes, reveal pauses, the end.
        for _ in range(12):
            clock.advance(2.5)
            await asyncio.gather(first.timers.tick(round_id), second.timers.tick(round_id))
        first.shutdown()
        second.shutdown()
    finally:
        await second_db.dispose()

    texts = [message.text for message in chat.messages]
    assert [t.split(" ·")[0] for t in texts if t.startswith("Question")] == [
        "Question 1/2",
        "Question 2/2",
    ]
    assert sum(t.startswith("Round over") for t in texts) == 1
    # Each question was edited to "closed" exactly once.
    posted = [message for message in chat.messages if message.text.startswith("Question")]
    assert [len(message.edits) for message in posted] == [1, 1]
    async with any_db.session() as session:
        assert await session.scalar(select(func.count()).select_from(RoundItem)) == 2
