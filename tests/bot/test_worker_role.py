"""`python -m bot worker` on PostgreSQL: a bot with ROUNDS_JOBS_IN_BOT=false only defers a
student's /quiz; the worker role, with no chat updates of its own, writes the questions and
the student's chat gets the status edit and the quiz from it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.worker import run_worker
from core.settings import Settings
from tests.bot.telegram_harness import running_bot, services_for, telegram_settings
from tests.materials_support import EXCERPT, HashingEmbedder

pytestmark = pytest.mark.postgres

ALICE = 3001


async def test_the_worker_role_writes_the_questions_a_bot_only_deferred(
    settings: Settings, postgres_db_url: str, shared_data: Path
) -> None:
    bot_side = {"database_url_override": postgres_db_url, "jobs_in_bot": False}
    async with running_bot(settings, bot_side, embedder=HashingEmbedder()) as tg:
        fake = tg.fake
        alice = fake.user(ALICE, "Alice")
        fake.send_document(alice, EXCERPT, (shared_data / EXCERPT).read_bytes())
        await fake.wait_for_message(ALICE, "is ready", within=60)
        fake.send_text(alice, "/quiz 3")
        status = await fake.wait_for_message(ALICE, "Writing 3 new questions")
        await asyncio.sleep(1.0)
        assert not any(m.text.startswith("Question 1") for m in fake.bot_messages(ALICE)), (
            "the bot itself does not write questions"
        )
        assert fake.calls_of("getUpdates"), "the bot polls"
        polls = len(fake.calls_of("getUpdates"))

        worker_settings = telegram_settings(settings, fake, **bot_side)
        stop = asyncio.Event()
        worker = asyncio.create_task(
            run_worker(
                worker_settings, stop, services_for(worker_settings, embedder=HashingEmbedder())
            )
        )
        try:
            await fake.wait_for_message(ALICE, "Question 1 of ", within=60)
        finally:
            stop.set()
            assert await asyncio.wait_for(worker, 15) == 0
        assert status.text.startswith("Wrote "), "the status message was edited by the worker"
        # The worker took no updates: every poll was the bot's (one long poll at a time).
        assert len(fake.calls_of("getUpdates")) - polls <= 2
