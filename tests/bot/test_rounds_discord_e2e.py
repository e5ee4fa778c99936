"""A group round in a Discord server text channel, end to end: the real discord.py client
against the fake Discord (REST + gateway), three members, 5-second questions on an injected
clock, everything public in the channel except each member's own "locked in" notice, and a
restart of the bot in the middle of the round.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from bot.app import App
from core.settings import Settings
from scheduler.rounds import RoundTimers
from storage.enums import AttemptSource, Platform
from storage.models import Attempt, Card, User
from tests.bot.discord_harness import app_for, discord_settings, fake_discord, running
from tests.fakes.discord_server import FakeChannel, FakeDiscord, FakeInteraction, FakeUser
from tests.rounds_support import T0, FakeClock, TimerDriver, key_of, paused_scheduler, seed_group

GUILD = 4343
CHANNEL = 7070
ANN = FakeUser(301_000_000_000_000_001, "ann")
BEA = FakeUser(301_000_000_000_000_002, "bea")
CY = FakeUser(301_000_000_000_000_003, "cy")
EVE = FakeUser(301_000_000_000_000_009, "eve")


@dataclass
class Process:
    app: App
    driver: TimerDriver


@asynccontextmanager
async def bot_process(
    settings: Settings, fake: FakeDiscord, clock: FakeClock
) -> AsyncIterator[Process]:
    """One run of `python -m bot discord`: timers resumed and booked before serving."""
    async with app_for(settings, clock=clock) as app:
        scheduler = await paused_scheduler()
        timers = RoundTimers(
            db=app.services.db, notifiers=app.notifiers, clock=clock, scheduler=scheduler
        )
        app.services.round_timers = timers
        await timers.resume_open_rounds()
        try:
            async with running(app, fake):
                yield Process(app, TimerDriver(scheduler, clock))
        finally:
            timers.stop()


async def _reply(fake: FakeDiscord, interaction: FakeInteraction) -> tuple[str, bool]:
    """The text of the bot's answer to an interaction, and whether it was ephemeral."""
    await fake.wait_for(lambda: interaction.original_id)
    message = fake.messages[interaction.original_id]  # type: ignore[index]
    await fake.wait_for(lambda: not message.loading and message.text)
    return message.text, message.ephemeral


async def _click(fake: FakeDiscord, user: FakeUser, question: object, custom_id: str) -> str:
    text, ephemeral = await _reply(fake, await fake.click(user, question, custom_id, stale=True))  # type: ignore[arg-type]
    assert ephemeral  # a member's own notice; the channel sees only the round
    return text


def _posted(fake: FakeDiscord, channel: FakeChannel, contains: str):  # type: ignore[no-untyped-def]
    return next(m for m in fake.bot_messages(channel) if contains in m.text)


async def test_a_round_in_a_discord_channel_with_a_restart(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    async with fake_discord() as fake:
        settings = discord_settings(tmp_path, fake)
        channel = fake.guild_channel(CHANNEL, guild_id=GUILD, name="cardio")
        async with bot_process(settings, fake, clock) as bot:
            db = bot.app.services.db
            await seed_group(db, platform=Platform.DISCORD, chat_external_id=str(CHANNEL),
                             members=(), questions=3)  # fmt: skip
            started = await fake.slash(ANN, "round", {"n": 3, "seconds": 5}, channel=channel)
            text, ephemeral = await _reply(fake, started)
            assert "Round starting in 5 s: 3 questions, 5 s each." in text
            assert not ephemeral  # the whole channel sees the round

            await bot.driver.advance(5)
            q1 = _posted(fake, channel, "Question 1/3")
            assert not q1.ephemeral
            p1 = [custom_id for _label, custom_id in q1.buttons]
            assert [label for label, _ in q1.buttons] == ["A", "B", "C", "D"]
            k1 = await key_of(db, p1[0])
            await bot.driver.advance(1)
            assert "Locked in" in await _click(fake, ANN, q1, p1[k1])
            await bot.driver.advance(1)
            assert "Locked in" in await _click(fake, BEA, q1, p1[k1])
            assert "already answered" in await _click(fake, BEA, q1, p1[(k1 + 1) % 4])
            await bot.driver.advance(1)
            await _click(fake, CY, q1, p1[(k1 + 1) % 4])
            await bot.driver.advance(2)
            assert "Question 1/3 · closed" in q1.text
            assert "Fastest right: Ann (1.0 s)" in q1.text
            assert [label for label, _ in q1.buttons] == ["Report a problem"]

            await bot.driver.advance(3)
            q2 = _posted(fake, channel, "Question 2/3")
            p2 = [custom_id for _label, custom_id in q2.buttons]
            k2 = await key_of(db, p2[0])
            await bot.driver.advance(1)
            await _click(fake, ANN, q2, p2[k2])
            await bot.driver.advance(3)
            await _click(fake, CY, q2, p2[k2])

        clock.set(T0 + timedelta(seconds=37))  # down while question 2 should have closed
        async with bot_process(settings, fake, clock) as bot:
            db = bot.app.services.db
            await bot.driver.run_due()
            assert "Question 2/3 · closed" in q2.text
            assert "Too late" in await _click(fake, BEA, q2, p2[k2])

            await bot.driver.advance(3)
            q3 = _posted(fake, channel, "Question 3/3")
            p3 = [custom_id for _label, custom_id in q3.buttons]
            k3 = await key_of(db, p3[0])
            # Eve is not in the server: she hand-crafts the button's id on a message in her
            # DM with the bot.
            help_reply = await fake.slash(EVE, "help")
            await _reply(fake, help_reply)
            dm_message = fake.messages[help_reply.original_id]  # type: ignore[index]
            forged = await fake.click(EVE, dm_message, p3[k3], forged=True)
            assert "Only members" in (await _reply(fake, forged))[0]
            await bot.driver.advance(0.5)
            await _click(fake, BEA, q3, p3[k3])
            await _click(fake, CY, q3, p3[k3])
            await bot.driver.advance(10)
            final = await fake.wait_for(
                lambda: next(
                    (m for m in fake.bot_messages(channel) if m.text.startswith("Round over")),
                    None,
                )
            )
            assert not final.ephemeral
            assert final.text.splitlines()[2:5] == [
                "🥇 Ann · 1,900 pts · 2/2 right (100%)",
                "🥈 Bea · 1,750 pts · 2/2 right (100%)",
                "🥉 Cy · 1,650 pts · 2/3 right (67%)",
            ]
            board = await fake.slash(BEA, "leaderboard", {"period": "all"}, channel=channel)
            text, ephemeral = await _reply(fake, board)
            assert "Leaderboard · all time · 1 round" in text and not ephemeral
            async with db.session() as session:
                for member, answered in ((ANN, 2), (BEA, 2), (CY, 3)):
                    user = await session.scalar(
                        select(User).where(User.external_id == str(member.id))
                    )
                    assert user is not None
                    cards = list(
                        await session.scalars(select(Card).where(Card.user_id == user.id))
                    )
                    attempts = list(
                        await session.scalars(select(Attempt).where(Attempt.user_id == user.id))
                    )
                    assert len(cards) == len(attempts) == answered
                    assert {a.source for a in attempts} == {AttemptSource.ROUND}
