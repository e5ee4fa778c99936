"""A group round in a Telegram supergroup, end to end: each runtime's adapter (PTB, aiogram)
against the fake Bot API, three members, 5-second questions on an injected clock, and a
restart of the whole bot in the middle of the round.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.app import App, build_app
from core.settings import Settings
from scheduler.rounds import RoundTimers
from storage.enums import AttemptSource, Platform
from storage.models import Attempt, Card, User
from tests.bot.telegram_harness import serve_for, services_for, telegram_settings
from tests.fakes.telegram_server import FakeTelegram, Message
from tests.rounds_support import T0, FakeClock, TimerDriver, key_of, paused_scheduler, seed_group

pytestmark = pytest.mark.telegram_runtimes

GROUP = -1001234
ANN, BEA, CY, EVE = 501, 502, 503, 599


@dataclass
class Process:
    """One run of the bot process: the adapter plus its round timers on the fake clock."""

    app: App
    driver: TimerDriver
    timers: RoundTimers


@asynccontextmanager
async def bot_process(
    settings: Settings, fake: FakeTelegram, clock: FakeClock
) -> AsyncIterator[Process]:
    """Starts the bot as bot/runner.py does (timers booked and resumed before serving)."""
    app = await build_app(settings, services_for(settings, clock=clock))
    scheduler = await paused_scheduler()
    timers = RoundTimers(
        db=app.services.db, notifiers=app.notifiers, clock=clock, scheduler=scheduler
    )
    app.services.round_timers = timers
    await timers.resume_open_rounds()
    stop = asyncio.Event()
    started = asyncio.Event()
    task = asyncio.create_task(serve_for(settings)(app, stop, started=started))
    try:
        await asyncio.wait_for(started.wait(), 15)
        yield Process(app, TimerDriver(scheduler, clock), timers)
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
        timers.stop()
        await app.close()


async def _press(fake: FakeTelegram, user: dict, message: Message, data: str) -> str:
    query = await fake.wait_answered(fake.press(user, message, data, chat_id=GROUP))
    return query.text


async def _question(fake: FakeTelegram, number: int) -> Message:
    return await fake.wait_for_message(GROUP, f"Question {number}/3 · 5 s")


async def test_a_round_in_a_telegram_group_with_a_restart(settings: Settings) -> None:
    fake = await FakeTelegram().start()
    settings = telegram_settings(settings, fake)
    clock = FakeClock(T0)
    ann, bea, cy = fake.user(ANN, "Ann"), fake.user(BEA, "Bea"), fake.user(CY, "Cy")
    eve = fake.user(EVE, "Eve")
    fake.group(GROUP, "Cardio study group", admins=(CY,))
    try:
        async with bot_process(settings, fake, clock) as bot:
            db = bot.app.services.db
            await seed_group(db, platform=Platform.TELEGRAM, chat_external_id=str(GROUP),
                             members=(), questions=3)  # fmt: skip
            fake.send_text(ann, "/round 3 5", chat_id=GROUP)
            await fake.wait_for_message(GROUP, "Round starting in 5 s: 3 questions, 5 s each.")

            await bot.driver.advance(5)
            q1 = await _question(fake, 1)
            k1 = await key_of(db, q1.callback_data[0])
            right, wrong = q1.callback_data[k1], q1.callback_data[(k1 + 1) % 4]
            await bot.driver.advance(1)
            assert "Locked in" in await _press(fake, ann, q1, right)
            await bot.driver.advance(1)
            assert "Locked in" in await _press(fake, bea, q1, right)
            assert "already answered" in await _press(fake, bea, q1, wrong)
            # Eve is not in the group: she replays the button from her private chat.
            forged = fake.press(eve, q1.message_id, right, chat_id=EVE)
            assert "Only members" in (await fake.wait_answered(forged)).text
            await bot.driver.advance(1)
            await _press(fake, cy, q1, wrong)
            await bot.driver.advance(2)
            assert q1.text.startswith("Question 1/3 · closed")
            assert "Fastest right: Ann (1.0 s)" in q1.text
            assert "Standings: 1. Ann 900 · 2. Bea 800 · 3. Cy 0" in q1.text
            assert [p.split(":")[:2] for p in q1.callback_data] == [["rp", "r"]]  # only Report

            await bot.driver.advance(3)
            q2 = await _question(fake, 2)
            p2 = q2.callback_data
            k2 = await key_of(db, p2[0])
            await bot.driver.advance(1)
            await _press(fake, ann, q2, p2[k2])
            await bot.driver.advance(3)
            await _press(fake, cy, q2, p2[k2])
        # The bot is down while question 2 should close; it comes back 20 s later.
        clock.set(T0 + timedelta(seconds=37))
        async with bot_process(settings, fake, clock) as bot:
            db = bot.app.services.db
            await bot.driver.run_due()
            assert q2.text.startswith("Question 2/3 · closed")
            # Bea's client still showed the buttons: a late press is refused.
            late = await _press(fake, bea, q2, p2[k2])
            assert "Too late" in late

            await bot.driver.advance(3)
            q3 = await _question(fake, 3)
            k3 = await key_of(db, q3.callback_data[0])
            await bot.driver.advance(0.5)
            await _press(fake, bea, q3, q3.callback_data[k3])
            await _press(fake, cy, q3, q3.callback_data[k3])
            await bot.driver.advance(10)
            final = await fake.wait_for_message(GROUP, "Round over")
            # ann 900 + 1000 (streak); bea 800 + 950 (missed Q2: no streak); cy 0 + 600 + 1050.
            assert final.text.splitlines()[2:5] == [
                "🥇 Ann · 1,900 pts · 2/2 right (100%)",
                "🥈 Bea · 1,750 pts · 2/2 right (100%)",
                "🥉 Cy · 1,650 pts · 2/3 right (67%)",
            ]
            async with db.session() as session:
                for member, answered in ((ANN, 2), (BEA, 2), (CY, 3)):
                    user = await session.scalar(
                        select(User).where(User.external_id == str(member))
                    )
                    assert user is not None
                    cards = list(
                        await session.scalars(select(Card).where(Card.user_id == user.id))
                    )
                    attempts = list(
                        await session.scalars(select(Attempt).where(Attempt.user_id == user.id))
                    )
                    assert len(cards) == len(attempts) == answered
                    assert all(c.last_reviewed_at is not None for c in cards)
                    assert {a.source for a in attempts} == {AttemptSource.ROUND}
                # Eve's forged press recorded nothing at all (not even Eve herself).
                assert (
                    await session.scalar(select(User).where(User.external_id == str(EVE))) is None
                )
    finally:
        await fake.stop()


async def test_an_admin_stops_a_round_and_the_open_question_closes_in_place(
    settings: Settings,
) -> None:
    fake = await FakeTelegram().start()
    settings = telegram_settings(settings, fake)
    clock = FakeClock(T0)
    ann, bea, cy = fake.user(ANN, "Ann"), fake.user(BEA, "Bea"), fake.user(CY, "Cy")
    fake.group(GROUP, "Cardio study group", admins=(CY,))
    try:
        async with bot_process(settings, fake, clock) as bot:
            db = bot.app.services.db
            await seed_group(db, platform=Platform.TELEGRAM, chat_external_id=str(GROUP),
                             members=(), questions=3)  # fmt: skip
            fake.send_text(ann, "/round@rounds_test_bot 3 5", chat_id=GROUP)
            await fake.wait_for_message(GROUP, "Round starting")
            fake.send_text(bea, "/round 2 10", chat_id=GROUP)
            await fake.wait_for_message(GROUP, "A round is already running in this chat")
            await bot.driver.advance(5)
            q1 = await _question(fake, 1)
            await bot.driver.advance(2)
            await _press(fake, bea, q1, q1.callback_data[await key_of(db, q1.callback_data[0])])

            fake.send_text(bea, "/stop_round", chat_id=GROUP)
            await fake.wait_for_message(GROUP, "Only the member who started the round")
            fake.send_text(cy, "/stop_round", chat_id=GROUP)
            stopped = await fake.wait_for_message(GROUP, "Round stopped (by Cy)")
            assert "🥇 Bea · 800 pts · 1/1 right (100%)" in stopped.text
            assert q1.text.startswith("Question 1/3 · closed") and q1.button("Report").startswith(
                "rp:r:"
            )
            assert len(q1.callback_data) == 1
            await bot.driver.advance(60)
            assert not [m for m in fake.bot_messages(GROUP) if "Question 2/3" in m.text]
    finally:
        await fake.stop()


async def test_a_demoted_admin_cannot_stop_a_round_and_admins_are_asked_afresh(
    settings: Settings,
) -> None:
    fake = await FakeTelegram().start()
    settings = telegram_settings(settings, fake)
    clock = FakeClock(T0)
    ann, cy = fake.user(ANN, "Ann"), fake.user(CY, "Cy")
    fake.group(GROUP, "Cardio study group", admins=(CY,))
    try:
        async with bot_process(settings, fake, clock) as bot:
            await seed_group(bot.app.services.db, platform=Platform.TELEGRAM,
                             chat_external_id=str(GROUP), members=(), questions=3)  # fmt: skip
            fake.send_text(ann, "/round 3 5", chat_id=GROUP)
            await fake.wait_for_message(GROUP, "Round starting")
            asked = len(fake.calls_of("getChatAdministrators"))  # Cy's list is cached now
            fake.admins[GROUP].discard(CY)  # the group demotes Cy
            fake.send_text(cy, "/stop_round", chat_id=GROUP)
            await fake.wait_for_message(GROUP, "Only the member who started the round")
            assert len(fake.calls_of("getChatAdministrators")) == asked + 1
            fake.admins[GROUP].add(CY)  # and promotes her again
            fake.send_text(cy, "/stop_round", chat_id=GROUP)
            await fake.wait_for_message(GROUP, "Round stopped (by Cy)")
    finally:
        await fake.stop()
