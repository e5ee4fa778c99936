"""Outbound rate limits, the same on both runtimes: PTB's AIORateLimiter and aiogram's
session middleware (bot/aiogram_ratelimit.py) against the fake Bot API. A group gets at most
20 messages a minute, a private chat is not held to it, and a 429 pauses every call."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.telegram_replies import BotApi
from tests.bot.telegram_harness import library_bot_api
from tests.conftest import TELEGRAM_RUNTIMES
from tests.fakes.telegram_server import FakeTelegram

ALICE, BOB = 1001, 1002
GROUP = -100321
GROUP_PER_MINUTE = 20


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram().start()
    server.user(ALICE, "Alice")
    server.user(BOB, "Bob")
    server.group(GROUP, "Cardio study group")
    yield server
    await server.stop()


@pytest.fixture(params=TELEGRAM_RUNTIMES)
async def api(request: pytest.FixtureRequest, fake: FakeTelegram) -> AsyncIterator[BotApi]:
    async with library_bot_api(request.param, fake) as runtime_api:
        yield runtime_api


async def test_a_group_gets_twenty_messages_a_minute_and_a_private_chat_is_not_held_back(
    fake: FakeTelegram, api: BotApi
) -> None:
    for n in range(GROUP_PER_MINUTE + 1):
        await api.send_text(GROUP, f"round message {n}")
        if n == GROUP_PER_MINUTE - 1:
            await api.send_text(ALICE, "private: not counted against the group")
    group_sends = [c for c in fake.calls_of("sendMessage") if c.params["chat_id"] == GROUP]
    burst = group_sends[GROUP_PER_MINUTE - 1].at - group_sends[0].at
    assert burst < 1.0, "the first twenty go out at once"
    # The 21st waits for the bucket to drip: 60 s / 20 = 3 s.
    assert group_sends[-1].at - group_sends[0].at >= 2.5
    private = next(c for c in fake.calls_of("sendMessage") if c.params["chat_id"] == ALICE)
    assert private.at - group_sends[0].at < 1.0
    assert len(fake.bot_messages(GROUP)) == GROUP_PER_MINUTE + 1


async def test_a_429_pauses_every_call_for_retry_after_then_all_arrive(
    fake: FakeTelegram, api: BotApi
) -> None:
    fake.fail_next("sendMessage", 429, retry_after=1)
    first = asyncio.create_task(api.send_text(ALICE, "first"))
    await fake.wait_until(lambda: fake.calls_of("sendMessage"))
    await asyncio.sleep(0.2)  # the 429 has arrived; Bob's message comes during the pause
    await api.send_text(BOB, "second")
    await first
    refused, *later = fake.calls_of("sendMessage")
    assert refused.status == 429 and [c.status for c in later] == [200, 200]
    assert all(call.at - refused.at >= 1.0 for call in later), "nobody sends during the pause"
    assert [m.text for m in fake.bot_messages(ALICE)] == ["first"]
    assert [m.text for m in fake.bot_messages(BOB)] == ["second"]
