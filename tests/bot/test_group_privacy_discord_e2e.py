"""Every slash command in a Discord server channel, against the fake Discord: the channel
sees only the group's own material; a personal command runs in the member's DMs and the
channel gets an ephemeral pointer. No trace of a member's private material reaches the
channel, not even in an ephemeral message."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from handlers.personal import PERSONAL_COMMANDS
from storage.enums import Platform
from tests.bot.discord_harness import app_for, discord_settings, fake_discord, running
from tests.fakes.discord_server import FakeDiscord, FakeInteraction, FakeUser
from tests.privacy_seed import PrivateStudent, leaks, seed_private_material, study_privately
from tests.rounds_support import T0, FakeClock, seed_group

GUILD, CHANNEL = 5151, 6161
ZOE = FakeUser(401_000_000_000_000_001, "zoe")
# /upload needs an attachment option; uploads have their own tests.
NEEDS_OPTIONS = {"upload"}
# Every command in a row, faster than a person types: the rate limits are not under test.
UNHURRIED = {"rate_user_burst": 100, "rate_chat_burst": 100}


async def _answer(fake: FakeDiscord, interaction: FakeInteraction) -> str:
    await fake.wait_for(lambda: interaction.original_id)
    message = fake.messages[interaction.original_id]  # type: ignore[index]
    await fake.wait_for(lambda: not message.loading and message.text)
    return message.text


async def test_no_command_in_a_server_channel_shows_a_members_private_material(
    tmp_path: Path,
) -> None:
    clock = FakeClock(T0)
    async with (
        fake_discord() as fake,
        app_for(discord_settings(tmp_path, fake, **UNHURRIED), clock=clock) as app,
    ):
        channel = fake.guild_channel(CHANNEL, guild_id=GUILD, name="endocrine")
        db = app.services.db
        await seed_group(db, platform=Platform.DISCORD, chat_external_id=str(CHANNEL),
                         members=(), questions=3)  # fmt: skip
        await seed_private_material(db, platform=Platform.DISCORD, external_id=str(ZOE.id))
        dm = fake.dm_channel(ZOE)
        student = PrivateStudent(app.router, clock, Platform.DISCORD, str(ZOE.id), str(dm.id))
        await study_privately(student)
        clock.advance(timedelta(days=3).total_seconds())
        async with running(app, fake):
            for command, _line in app.router.menu:
                if command in NEEDS_OPTIONS:
                    continue
                text = await _answer(fake, await fake.slash(ZOE, command, channel=channel))
                if command in PERSONAL_COMMANDS:
                    assert "is personal" in text and "our DMs" in text, (command, text)
                if command == "topics":
                    assert "Cardiac Muscle" in text
            in_channel = [
                json.dumps(version)
                for message in fake.channel_messages(channel)
                for version in message.versions
            ]
            assert {text: leaks(text) for text in in_channel if leaks(text)} == {}
            # The personal answers went to the DM: /history lists her own stems there.
            in_dm = [message.text for message in fake.bot_messages(dm)]
            assert any("Privstem" in text and "Your last 5 answers" in text for text in in_dm)
