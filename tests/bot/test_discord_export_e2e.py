"""/export in a Discord server channel, against the fake Discord: the group's Anki deck goes
to the member's DMs as an attachment; the channel gets only an ephemeral line."""

from __future__ import annotations

from pathlib import Path

from core.texts import personal
from storage.enums import Platform
from tests.bot.discord_harness import app_for, discord_settings, fake_discord, running
from tests.fakes.discord_server import FakeDiscord, FakeInteraction, FakeUser
from tests.rounds_support import seed_group

GUILD, CHANNEL = 5252, 6262
ZOE = FakeUser(401_000_000_000_000_009, "zoe")


async def _answer(fake: FakeDiscord, interaction: FakeInteraction) -> tuple[str, bool]:
    await fake.wait_for(lambda: interaction.original_id)
    message = fake.messages[interaction.original_id]  # type: ignore[index]
    await fake.wait_for(lambda: not message.loading and message.text)
    return message.text, message.ephemeral


async def test_export_in_a_server_channel_arrives_in_the_members_dms(tmp_path: Path) -> None:
    async with fake_discord() as fake, app_for(discord_settings(tmp_path, fake)) as app:
        channel = fake.guild_channel(CHANNEL, guild_id=GUILD, name="cardio")
        await seed_group(app.services.db, platform=Platform.DISCORD,
                         chat_external_id=str(CHANNEL), members=(), questions=3)  # fmt: skip
        dm = fake.dm_channel(ZOE)
        async with running(app, fake):
            text, ephemeral = await _answer(fake, await fake.slash(ZOE, "export", channel=channel))

            assert ephemeral and text.startswith(personal.SENT_PRIVATELY)
            (deck,) = fake.bot_messages(dm)
            assert deck.attachment_names == ["rounds.apkg"]
            assert "3 questions" in deck.text
            assert all(m.ephemeral for m in fake.bot_messages(channel))


async def test_export_says_so_when_the_member_refuses_dms(tmp_path: Path) -> None:
    async with fake_discord() as fake, app_for(discord_settings(tmp_path, fake)) as app:
        channel = fake.guild_channel(CHANNEL, guild_id=GUILD, name="cardio")
        await seed_group(app.services.db, platform=Platform.DISCORD,
                         chat_external_id=str(CHANNEL), members=(), questions=3)  # fmt: skip
        fake.unreachable_user_ids.add(ZOE.id)
        async with running(app, fake):
            text, ephemeral = await _answer(fake, await fake.slash(ZOE, "export", channel=channel))

            assert ephemeral and "could not send you a DM" in text
            assert not any(m.attachment_names for m in fake.bot_messages())
