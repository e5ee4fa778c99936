"""One student floods the bot (100 messages in a second) through the fake Bot API while twelve
other students keep using it: the flooder gets one "slow down" and the excess is dropped,
and the others' response times stay within 2x of what they were without the flood."""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

from core.ratelimit import SLOW_DOWN_TEXT
from core.settings import Settings
from tests.bot.telegram_harness import running_bot
from tests.fakes.telegram_server import FakeTelegram

FLOODER = 666
# Twelve other students, each as quick as a human (inside their own limit), together about
# 24 messages a second: under Telegram's ~30 a second, so the quiet figures are not queued.
OTHERS = tuple(range(701, 713))
FLOOD_MESSAGES = 100
ROUNDS = 4
PAUSE_S = 0.45
# Below this the machine's own jitter (two shared cores) is larger than any effect.
NOISE_FLOOR_S = 0.05


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def _round_trip(fake: FakeTelegram, user: dict) -> float:
    before = len(fake.bot_messages(user["id"]))
    started = time.perf_counter()
    fake.send_text(user, "/help")
    await fake.wait_until(lambda: len(fake.bot_messages(user["id"])) > before)
    return time.perf_counter() - started


async def _others(fake: FakeTelegram, users: list[dict], rounds: int = ROUNDS) -> list[float]:
    """`rounds` rounds of every other student asking /help at once: the latencies."""
    latencies: list[float] = []
    for _ in range(rounds):
        latencies += await asyncio.gather(*(_round_trip(fake, user) for user in users))
        await asyncio.sleep(PAUSE_S)
    return latencies


async def _flood(fake: FakeTelegram, flooder: dict) -> None:
    for index in range(FLOOD_MESSAGES):  # bounded: 100 messages spread over one second
        fake.send_text(flooder, f"hi {index}")
        await asyncio.sleep(1.0 / FLOOD_MESSAGES)


async def test_a_flooding_student_is_slowed_down_and_the_others_stay_fast(
    settings: Settings, capsys: Any
) -> None:
    async with running_bot(settings) as bot:
        fake = bot.fake
        users = [fake.user(uid, f"S{uid}") for uid in OTHERS]
        flooder = fake.user(FLOODER, "Flo")
        await _others(fake, users, rounds=1)  # warm-up: first queries, first sessions
        quiet = await _others(fake, users)
        flood = asyncio.create_task(_flood(fake, flooder))
        during = await _others(fake, users)
        await flood
        # A fence: the flooder's own /help is answered after everything admitted before it.
        await asyncio.sleep(1.5)
        await _round_trip(fake, flooder)

    to_flooder = [m.text for m in fake.bot_messages(FLOODER)]
    handled = [text for text in to_flooder if "Send /help" in text]
    figures = {
        "quiet_p50_ms": round(1000 * statistics.median(quiet), 1),
        "quiet_p99_ms": round(1000 * percentile(quiet, 0.99), 1),
        "flood_p50_ms": round(1000 * statistics.median(during), 1),
        "flood_p99_ms": round(1000 * percentile(during, 0.99), 1),
        "flood_answered": len(handled),
        "slow_down_replies": to_flooder.count(SLOW_DOWN_TEXT),
    }
    with capsys.disabled():
        print(f"\nflood figures: {figures}")
    assert to_flooder.count(SLOW_DOWN_TEXT) == 1
    assert len(handled) <= settings.rate_user_burst + 2  # the burst, plus a second's refill
    limit = 2 * max(percentile(quiet, 0.99), NOISE_FLOOR_S)
    assert percentile(during, 0.99) <= limit, figures
