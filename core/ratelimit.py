"""Incoming-event rate limits per user and per chat (token buckets), checked by the adapters
before an event takes a worker slot or waits for its chat.

Each key has a bucket of `burst` tokens refilled at `per_minute / 60` tokens a second; an
event needs a token from its user's bucket and from its chat's. A refused event is dropped;
the first refusal of a run is a WARN (the adapter sends one "slow down" reply), the rest of
the run are DROPs. A run ends once the bucket has refilled to half: someone who keeps
flooding hears "slow down" once, not once a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

SLOW_DOWN_TEXT = (
    "Slow down a little: you're sending faster than I can read, so I'm skipping the extra "
    "messages for a few seconds."
)
# Above this many tracked keys, buckets that have refilled completely are forgotten.
PRUNE_ABOVE = 10_000


class Verdict(Enum):
    ALLOW = "allow"
    WARN = "warn"  # refused; say "slow down" once
    DROP = "drop"  # refused silently


@dataclass(frozen=True)
class Rate:
    burst: int
    per_minute: int

    @property
    def per_second(self) -> float:
        return self.per_minute / 60.0

    @property
    def enabled(self) -> bool:
        return self.burst > 0 and self.per_minute > 0


@dataclass
class _Bucket:
    tokens: float
    updated: float
    warned: bool = False


class EventLimiter:
    """Token buckets per user and per chat. Not thread-safe; one event loop uses it."""

    def __init__(
        self, *, user: Rate, chat: Rate, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.user, self.chat, self.clock = user, chat, clock
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def check(self, user_key: str, chat_key: str) -> Verdict:
        """Admits or refuses one event of `user_key` in `chat_key` (and spends its tokens)."""
        now = self.clock()
        if len(self._buckets) > PRUNE_ABOVE:
            self._prune(now)
        user = self._refilled(("user", user_key), self.user, now)
        chat = self._refilled(("chat", chat_key), self.chat, now)
        short = next(
            (bucket for bucket, rate in ((user, self.user), (chat, self.chat))
             if bucket is not None and rate.enabled and bucket.tokens < 1.0),
            None,
        )  # fmt: skip
        if short is not None:
            first, short.warned = not short.warned, True
            return Verdict.WARN if first else Verdict.DROP
        for bucket, rate in ((user, self.user), (chat, self.chat)):
            if bucket is not None:
                if bucket.tokens >= rate.burst / 2:
                    bucket.warned = False
                bucket.tokens -= 1.0
        return Verdict.ALLOW

    def _refilled(self, key: tuple[str, str], rate: Rate, now: float) -> _Bucket | None:
        if not rate.enabled:
            return None
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(tokens=float(rate.burst), updated=now)
        else:
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(float(rate.burst), bucket.tokens + elapsed * rate.per_second)
            bucket.updated = now
        return bucket

    def _prune(self, now: float) -> None:
        for key, bucket in list(self._buckets.items()):
            rate = self.user if key[0] == "user" else self.chat
            if bucket.tokens + (now - bucket.updated) * rate.per_second >= rate.burst:
                del self._buckets[key]
