"""The scheduler's way to Discord users: DMs with buttons, channel posts and edits, 50007."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from scheduler.notifier import Button, Notifier, RecipientUnreachable
from storage.enums import Platform
from tests.bot.discord_harness import app_for, discord_settings, fake_discord, running
from tests.fakes.discord_server import FakeDiscord, FakeUser

STUDENT = FakeUser(333_333_333_333_333_333, "cleo")


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with fake_discord() as server:
        yield server


@pytest.fixture
async def notifier(tmp_path: Path, fake: FakeDiscord) -> AsyncIterator[Notifier]:
    async with app_for(discord_settings(tmp_path, fake)) as app, running(app, fake):
        notifier = app.notifiers[Platform.DISCORD]
        assert isinstance(notifier, Notifier)
        yield notifier


REVIEW = ((Button("Start review", "rev:start"), Button("Later", "rev:snooze")),)


async def test_a_reminder_reaches_the_dm_channel_with_its_buttons(
    notifier: Notifier, fake: FakeDiscord
) -> None:
    dm = fake.dm_channel(STUDENT)
    ref = await notifier.send(str(dm.id), "12 cards due — about 6 minutes", REVIEW)
    message = fake.messages[int(ref)]
    assert message.channel_id == dm.id
    assert "12 cards due" in message.text
    assert message.buttons == [("Start review", "rev:start"), ("Later", "rev:snooze")]


async def test_a_user_id_address_opens_the_dm_first(notifier: Notifier, fake: FakeDiscord) -> None:
    ref = await notifier.send(str(STUDENT.id), "3 cards due", REVIEW)
    assert fake.requests_to("POST", "/users/@me/channels")
    assert fake.messages[int(ref)].channel_id == fake.dm_channel(STUDENT).id


async def test_blocked_dms_are_recipient_unreachable(
    notifier: Notifier, fake: FakeDiscord
) -> None:
    fake.unreachable_user_ids.add(STUDENT.id)
    with pytest.raises(RecipientUnreachable) as raised:
        await notifier.send(str(fake.dm_channel(STUDENT).id), "3 cards due", REVIEW)
    assert "Cannot send messages to this user" in raised.value.reason
    assert not fake.bot_messages()


async def test_channel_messages_are_posted_and_edited_in_place(
    notifier: Notifier, fake: FakeDiscord
) -> None:
    channel = fake.guild_channel(7070, guild_id=99)
    ref = await notifier.send(str(channel.id), "Question 1 of 3", ((Button("A", "r:1"),),))
    await notifier.edit(str(channel.id), ref, "Question 1: closed. Key: A")
    [message] = fake.channel_messages(channel)
    assert message.id == int(ref)
    assert [version["embeds"][0]["description"] for version in message.versions] == [
        "Question 1 of 3",
        "Question 1: closed. Key: A",
    ]
    assert message.buttons == []


async def test_a_rate_limit_is_waited_out_by_discord_py(
    notifier: Notifier, fake: FakeDiscord
) -> None:
    dm = fake.dm_channel(STUDENT)
    fake.rate_limit_once[f"POST /channels/{dm.id}/messages"] = 0.2
    ref = await notifier.send(str(dm.id), "3 cards due")
    assert fake.rate_limited == [f"POST /channels/{dm.id}/messages"]
    assert fake.messages[int(ref)].channel_id == dm.id
