"""Discord sharding as two worker processes run it: 2 shards, shard 0 in one, shard 1 in the
other (ROUNDS_DISCORD_SHARD_COUNT=2, ROUNDS_DISCORD_SHARD_IDS=0 / 1). Each connects its own
shard, receives its own guild's events (Discord routes by (guild_id >> 22) % 2) and answers
them; neither sees the other's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from tests.bot.discord_harness import app_for, discord_settings, fake_discord, running
from tests.fakes.discord_server import FakeDiscord, FakeUser

# Guild ids whose shard (of 2) is 0 and 1.
GUILD_ON_SHARD = {0: (10 << 22) + 1, 1: (11 << 22) + 1}
STUDENT = FakeUser(333_333_333_333_333_333, "cy")


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with fake_discord() as server:
        yield server


async def test_two_processes_each_connect_one_shard_and_get_their_guilds_events(
    tmp_path: Path, fake: FakeDiscord
) -> None:
    async with AsyncExitStack() as stack:
        for shard in (0, 1):
            settings = discord_settings(
                tmp_path / f"worker{shard}", fake,
                discord_shard_count=2, discord_shard_ids_text=str(shard),
            )  # fmt: skip
            app = await stack.enter_async_context(app_for(settings))
            await stack.enter_async_context(running(app, fake))
        assert sorted(payload["shard"] for payload in fake.identify_payloads) == [[0, 2], [1, 2]]

        interactions = {}
        for shard, guild_id in GUILD_ON_SHARD.items():
            channel = fake.guild_channel(5000 + shard, guild_id=guild_id)
            interactions[shard] = await fake.slash(STUDENT, "help", channel=channel)
        for interaction in interactions.values():
            await fake.wait_for(lambda interaction=interaction: interaction.original_id)
            assert len(interaction.callbacks) == 1, "answered once, by one shard"
        received = fake.shard_sessions()  # while the connections are open

    for shard, guild_id in GUILD_ON_SHARD.items():
        guilds = {
            int(event["guild_id"])
            for event in received[shard]
            if event["t"] == "INTERACTION_CREATE"
        }
        assert guilds == {guild_id}


def test_shard_ids_need_a_count_they_fit_in() -> None:
    from pydantic import ValidationError

    from core.settings import Settings

    assert Settings(
        _env_file=None, discord_shard_count=4, discord_shard_ids_text="1, 3"
    ).discord_shard_ids == [1, 3]  # type: ignore[call-arg]
    for wrong in (
        {"discord_shard_ids_text": "0"},
        {"discord_shard_count": 2, "discord_shard_ids_text": "2"},
    ):
        with pytest.raises(ValidationError, match="ROUNDS_DISCORD_SHARD_"):
            Settings(_env_file=None, **wrong)  # type: ignore[call-arg, arg-type]
