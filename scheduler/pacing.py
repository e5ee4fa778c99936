"""Outbound pacing: one token bucket per platform, shared by every job that pushes messages.

Platforms punish bursts (Telegram answers 429 "retry after" beyond about 30 messages a
second overall; Discord rate-limits per route and globally), so pushes are spread out by a
bucket instead of sleeps scattered through jobs. A bucket holding at most `burst` tokens lets
at most `burst + rate` sends into any one-second window, so Telegram's 29/s with a burst of
1.5 never puts a 31st message into a second. The half token is not a burst: it gives back the
time lost when a waiting sender wakes a millisecond late, which would otherwise shave a few
percent off the achieved rate.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from storage.enums import Platform

Monotonic = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

TOKEN_EPSILON = 1e-9


@dataclass(frozen=True)
class PlatformLimit:
    """A platform's documented ceiling and the rate Rounds actually paces at."""

    limit_per_s: float
    rate_per_s: float
    burst: float = 1.0


# Telegram: "no more than 30 messages per second" for bulk notifications; 29/s + 1.5 stays
# within 30 in every second. Discord: DMs go through per-channel routes plus a
# 50 req/s global limit, and each first DM also opens a channel, so 10/s stays far below both.
PLATFORM_LIMITS: Mapping[Platform, PlatformLimit] = {
    Platform.TELEGRAM: PlatformLimit(limit_per_s=30.0, rate_per_s=29.0, burst=1.5),
    Platform.DISCORD: PlatformLimit(limit_per_s=50.0, rate_per_s=10.0),
    Platform.CONSOLE: PlatformLimit(limit_per_s=1000.0, rate_per_s=1000.0, burst=1000.0),
}


class TokenBucket:
    """`await acquire()` returns once a token is available; waiters are served in order."""

    def __init__(
        self,
        rate_per_s: float,
        burst: float = 1.0,
        *,
        monotonic: Monotonic = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate_per_s <= 0 or burst < 1.0:
            raise ValueError("a bucket needs a positive rate and room for one token")
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._monotonic = monotonic
        self._sleep = sleep
        self._tokens = 1.0  # a fresh bucket sends one message at once, not a burst
        self._updated = monotonic()
        # asyncio.Lock wakes waiters first-in first-out, so no sender starves.
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                self._refill()
                # The tolerance absorbs float rounding: without it a bucket a hair short of
                # one token asks for a sleep too small to move the clock, forever.
                if self._tokens >= 1.0 - TOKEN_EPSILON:
                    self._tokens = max(0.0, self._tokens - 1.0)
                    return
                await self._sleep((1.0 - self._tokens) / self.rate_per_s)

    def _refill(self) -> None:
        now = self._monotonic()
        elapsed = max(0.0, now - self._updated)
        self._updated = now
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate_per_s)


class Pacer:
    """One bucket per platform, created on first use; one Pacer serves all scheduler jobs."""

    def __init__(
        self,
        limits: Mapping[Platform, PlatformLimit] = PLATFORM_LIMITS,
        *,
        monotonic: Monotonic = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._limits = limits
        self._monotonic = monotonic
        self._sleep = sleep
        self._buckets: dict[Platform, TokenBucket] = {}

    def bucket(self, platform: Platform) -> TokenBucket:
        bucket = self._buckets.get(platform)
        if bucket is None:
            limit = self._limits.get(platform, PLATFORM_LIMITS[Platform.DISCORD])
            bucket = TokenBucket(
                limit.rate_per_s, limit.burst, monotonic=self._monotonic, sleep=self._sleep
            )
            self._buckets[platform] = bucket
        return bucket

    async def acquire(self, platform: Platform) -> None:
        await self.bucket(platform).acquire()
