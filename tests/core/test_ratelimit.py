"""Token buckets per user and per chat: a burst, a steady rate, one warning per run."""

from __future__ import annotations

from core.ratelimit import EventLimiter, Rate, Verdict


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_flood_gets_one_warning_and_the_rest_is_dropped() -> None:
    clock = Clock()
    limiter = EventLimiter(user=Rate(10, 60), chat=Rate(30, 180), clock=clock)
    verdicts = []
    for _ in range(100):  # 100 messages within one second
        verdicts.append(limiter.check("u1", "c1"))
        clock.now += 0.01
    assert verdicts.count(Verdict.ALLOW) == 10
    assert verdicts.count(Verdict.WARN) == 1
    assert verdicts.count(Verdict.DROP) == 89
    # Other users and chats are not touched by it.
    assert limiter.check("u2", "c2") is Verdict.ALLOW
    # Flooding on: a token a second gets through, and no second warning.
    clock.now += 1.0
    assert limiter.check("u1", "c1") is Verdict.ALLOW
    assert limiter.check("u1", "c1") is Verdict.DROP
    # Once calm (half the burst back), a new run warns again.
    clock.now += 6.0
    assert [limiter.check("u1", "c1") for _ in range(7)][-2:] == [Verdict.ALLOW, Verdict.WARN]


def test_many_members_of_one_chat_hit_the_chat_limit() -> None:
    limiter = EventLimiter(user=Rate(10, 60), chat=Rate(5, 60), clock=Clock())
    verdicts = [limiter.check(f"member{i}", "group") for i in range(8)]
    assert verdicts == [Verdict.ALLOW] * 5 + [Verdict.WARN, Verdict.DROP, Verdict.DROP]


def test_zero_turns_a_limit_off() -> None:
    limiter = EventLimiter(user=Rate(0, 0), chat=Rate(0, 0), clock=Clock())
    assert all(limiter.check("u", "c") is Verdict.ALLOW for _ in range(1000))
