"""Pacing: sends spread under the platform's limit, shared by all jobs; on a fake clock."""

from __future__ import annotations

import asyncio

import pytest

from scheduler.pacing import PLATFORM_LIMITS, Pacer, TokenBucket
from scheduler.reminders import run_tick
from storage.enums import Platform
from tests.scheduler.conftest import FakeTime, RecordingNotifier, add_user, utc


def busiest_second(times: list[float]) -> int:
    """The most sends inside any closed one-second window (how a strict limiter counts)."""
    times = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] > 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_a_bucket_never_exceeds_the_limit_in_any_second(fake_time: FakeTime) -> None:
    telegram = PLATFORM_LIMITS[Platform.TELEGRAM]
    bucket = TokenBucket(
        telegram.rate_per_s, telegram.burst, monotonic=fake_time.monotonic, sleep=fake_time.sleep
    )
    stamps: list[float] = []

    async def sender(count: int) -> None:
        for _ in range(count):
            await bucket.acquire()
            stamps.append(fake_time.now)

    # Several jobs/workers share one bucket.
    await asyncio.gather(*(sender(100) for _ in range(6)))
    elapsed = stamps[-1] - stamps[0]
    assert busiest_second(stamps) <= 30
    assert 599 / elapsed >= 0.95 * 30, "the pace stays close to the limit, not far below it"


async def test_late_wake_ups_neither_slow_the_pace_nor_break_the_limit(
    fake_time: FakeTime,
) -> None:
    async def oversleep(seconds: float) -> None:
        await fake_time.sleep(seconds + 0.003)  # a busy event loop wakes sleepers late

    telegram = PLATFORM_LIMITS[Platform.TELEGRAM]
    bucket = TokenBucket(
        telegram.rate_per_s, telegram.burst, monotonic=fake_time.monotonic, sleep=oversleep
    )
    stamps = []
    for _ in range(300):
        await bucket.acquire()
        stamps.append(fake_time.now)
    assert busiest_second(stamps) <= 30
    assert 299 / (stamps[-1] - stamps[0]) >= 0.96 * 30


async def test_a_bucket_allows_its_burst_after_idling(fake_time: FakeTime) -> None:
    bucket = TokenBucket(10.0, burst=5, monotonic=fake_time.monotonic, sleep=fake_time.sleep)
    fake_time.now += 60
    started = fake_time.now
    for _ in range(5):
        await bucket.acquire()
    assert fake_time.now == started
    await bucket.acquire()
    assert fake_time.now - started == pytest.approx(0.1)


async def test_platforms_have_separate_buckets(fake_time: FakeTime) -> None:
    pacer = Pacer(monotonic=fake_time.monotonic, sleep=fake_time.sleep)
    assert pacer.bucket(Platform.TELEGRAM) is pacer.bucket(Platform.TELEGRAM)
    assert pacer.bucket(Platform.TELEGRAM) is not pacer.bucket(Platform.DISCORD)
    assert (
        pacer.bucket(Platform.TELEGRAM).rate_per_s < PLATFORM_LIMITS[Platform.TELEGRAM].limit_per_s
    )


async def test_a_fan_out_is_paced_not_a_burst(db, fake_time: FakeTime) -> None:
    for index in range(90):
        await add_user(db, f"u{index}", due_cards=1)
    stamps: list[float] = []

    class StampingNotifier(RecordingNotifier):
        async def send(self, address, text, buttons=()):  # type: ignore[no-untyped-def]
            stamps.append(fake_time.now)
            return await super().send(address, text, buttons)

    phone = StampingNotifier()
    pacer = Pacer(monotonic=fake_time.monotonic, sleep=fake_time.sleep)
    now = utc(2026, 6, 10, 19, 0)
    await run_tick(db, {Platform.TELEGRAM: phone}, pacer, now=now, clock=lambda: now)
    assert len(phone.sent) == 90
    assert busiest_second(stamps) <= 30
    # 90 sends at 29/s take about 3 s of (fake) time, instead of arriving at once.
    assert stamps[-1] - stamps[0] == pytest.approx(89 / 29)
