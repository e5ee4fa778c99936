"""Scheduler benchmark: who is due now among 100,000 users / 1,000,000 cards, and the send rate.

1. Due computation: the tick's one query (local time per zone as CASE expressions, EXISTS on
   ix_cards_user_due, NOT EXISTS on the deliveries unique index) on SQLite, and on
   PostgreSQL when ROUNDS_TEST_POSTGRES_URL (or ROUNDS_BENCH_POSTGRES_URL) is set: a fresh
   database is created for the run and dropped afterwards.
2. Send rate: a real tick (claims in SQLite, the shared token bucket) against a fake platform
   that answers 429 to anything beyond 30 messages in any one-second window.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from scheduler.notifier import Button
from scheduler.pacing import PLATFORM_LIMITS, Pacer
from scheduler.reminders import local_moments, run_tick
from storage.db import Database
from storage.enums import DeliveryKind, DeliveryState, Platform, ScopeKind
from storage.models import Card, Delivery, Question, Scope, User
from storage.repos import deliveries

USERS = 100_000
CARDS_PER_USER = 10
QUERY_GOAL_S = 1.0
FAKE_LIMIT_PER_S = 30
SEND_USERS = int(os.environ.get("ROUNDS_BENCH_SEND_USERS", "600"))
FAKE_LATENCY_S = 0.05
ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Africa/Lagos",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Sydney",
    "America/Sao_Paulo",
    "America/New_York",
    "America/Los_Angeles",
)
NOW = datetime(2026, 6, 10, 18, 0, tzinfo=UTC)
SEED = 7
BATCH = 50_000

Row = tuple[str, str, Any, str, str]


async def run(results_dir: Path) -> list[Row]:
    rows: list[Row] = []
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-scheduler-") as tmp:
        sqlite_url = f"sqlite+aiosqlite:///{Path(tmp) / 'due.db'}"
        figures["sqlite"] = await _due_figures(sqlite_url)
        rows += _due_rows("sqlite", figures["sqlite"])
        postgres = os.environ.get("ROUNDS_BENCH_POSTGRES_URL") or os.environ.get(
            "ROUNDS_TEST_POSTGRES_URL"
        )
        if postgres:
            async with _fresh_postgres(postgres) as url:
                figures["postgresql"] = await _due_figures(url)
            rows += _due_rows("postgresql", figures["postgresql"])
        else:
            rows.append(("scheduler", "due query, postgresql", "skipped", "", "set a URL"))
        send_url = f"sqlite+aiosqlite:///{Path(tmp) / 'send.db'}"
        figures["send"] = await _send_figures(send_url)
    send = figures["send"]
    rows += [
        ("scheduler", f"send rate, {send['sent']} pushes", f"{send['rate_per_s']:.2f}", "msg/s",
         f">= {0.95 * FAKE_LIMIT_PER_S:.1f} (95% of {FAKE_LIMIT_PER_S}/s)"),
        ("scheduler", "send rate / limit", f"{send['rate_per_s'] / FAKE_LIMIT_PER_S:.1%}", "",
         ">= 95%"),
        ("scheduler", "429 answers", send["rejected"], "", "0"),
        ("scheduler", "busiest 1 s window", send["busiest_second"], "msgs",
         f"<= {FAKE_LIMIT_PER_S}"),
        ("scheduler", "10,000-user fan-out (projected)", f"{10_000 / send['rate_per_s']:.0f}", "s",
         f"~{10_000 / FAKE_LIMIT_PER_S:.0f}"),
    ]  # fmt: skip
    (results_dir / "scheduler.json").write_text(json.dumps(figures, indent=2, default=str))
    return rows


def _due_rows(backend: str, figures: dict[str, Any]) -> list[Row]:
    goal = f"< {QUERY_GOAL_S:.0f} s"
    return [
        ("scheduler", f"seed {USERS:,} users / {figures['cards']:,} cards, {backend}",
         f"{figures['seed_s']:.1f}", "s", ""),
        ("scheduler", f"due query (first tick of the day), {backend}",
         f"{figures['busy_s'] * 1000:.0f}", "ms", goal),
        ("scheduler", f"  users due in it, {backend}", figures["busy_due"], "users", ""),
        ("scheduler", f"due query (steady state), {backend}",
         f"{figures['steady_s'] * 1000:.0f}", "ms", goal),
        ("scheduler", f"  users due in it, {backend}", figures["steady_due"], "users", ""),
    ]  # fmt: skip


async def _due_figures(url: str) -> dict[str, Any]:
    db = Database(url)
    try:
        await db.migrate()
        started = time.perf_counter()
        await _seed(db)
        seed_s = time.perf_counter() - started
        async with db.session() as session:
            await session.execute(sa.text("ANALYZE"))
        busy_s, busy = await _time_due_query(db)
        # Steady state: most of the day's reminders already went out (and a few failed).
        await _mark_delivered(db, [recipient.user_id for recipient in busy[: len(busy) * 9 // 10]])
        async with db.session() as session:
            # What autovacuum does after a day's worth of delivery rows.
            await session.execute(sa.text("ANALYZE deliveries"))
        steady_s, steady = await _time_due_query(db)
        return {
            "users": USERS,
            "cards": USERS * CARDS_PER_USER,
            "seed_s": seed_s,
            "busy_s": busy_s,
            "busy_due": len(busy),
            "steady_s": steady_s,
            "steady_due": len(steady),
        }
    finally:
        await db.dispose()


async def _time_due_query(db: Database, repeats: int = 5) -> tuple[float, list[Any]]:
    timings, recipients = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        async with db.session() as session:
            moments = local_moments(await deliveries.zones_in_use(session), NOW)
            recipients = await deliveries.due_review_recipients(
                session, now=NOW, moments=moments, platforms=[Platform.TELEGRAM]
            )
        timings.append(time.perf_counter() - started)
    return statistics.median(timings), recipients


async def _seed(db: Database, users: int = USERS, cards_per_user: int = CARDS_PER_USER) -> None:
    rng = random.Random(SEED)
    async with db.session() as session:
        owner = User(platform=Platform.CONSOLE, external_id="bench-owner")
        session.add(owner)
        await session.flush()
        scope = Scope(kind=ScopeKind.USER, user_id=owner.id)
        session.add(scope)
        await session.flush()
        questions = [
            Question(
                scope_id=scope.id,
                stem=f"Q{i}?",
                stem_hash=f"q{i}",
                options=["a", "b", "c", "d"],
                correct_index=0,
            )
            for i in range(cards_per_user)
        ]
        session.add_all(questions)
        await session.flush()
        question_ids = [question.id for question in questions]
        first_user = owner.id + 1
    user_rows = [
        {
            "id": first_user + i,
            "platform": Platform.TELEGRAM,
            "external_id": str(10_000_000 + i),
            "tz": ZONES[i % len(ZONES)],
            "reminder_hour": rng.randrange(6, 23),
            "reminder_minute": rng.choice((0, 15, 30, 45)),
            "reminders_paused": rng.random() < 0.03,
            "unreachable": rng.random() < 0.01,
        }
        for i in range(users)
    ]
    await _insert(db, User, user_rows)
    card_rows = []
    for i in range(users):
        # A third of cards are due (answered days ago), the rest due in the coming weeks.
        for question_id in question_ids:
            offset = rng.uniform(-10, 0) if rng.random() < 0.3 else rng.uniform(0.5, 40)
            card_rows.append(
                {"user_id": first_user + i, "question_id": question_id,
                 "due_at": NOW + timedelta(days=offset)}
            )  # fmt: skip
        if len(card_rows) >= BATCH:
            await _insert(db, Card, card_rows)
            card_rows = []
    await _insert(db, Card, card_rows)


async def _insert(db: Database, model: type[Any], rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        async with db.session() as session:
            await session.execute(sa.insert(model), rows[start : start + BATCH])


async def _mark_delivered(db: Database, user_ids: Sequence[int]) -> None:
    async with db.session() as session:
        zones = dict((await session.execute(sa.select(User.id, User.tz))).tuples().all())
    days = {moment.tz: moment.day for moment in local_moments(set(zones.values()), NOW)}
    rows = [
        {
            "user_id": user_id,
            "kind": DeliveryKind.DUE_REVIEWS,
            "local_day": days[zones[user_id]],
            "state": DeliveryState.SENT if index % 20 else DeliveryState.FAILED,
            "attempts": 1,
            "claimed_at": NOW,
        }
        for index, user_id in enumerate(user_ids)
    ]
    await _insert(db, Delivery, rows)


class RateLimitedPlatform:
    """A fake platform: 50 ms per call, and 429 for anything beyond the limit in any 1 s."""

    platform = Platform.TELEGRAM

    def __init__(self, limit_per_s: int) -> None:
        self.limit_per_s = limit_per_s
        self.accepted: list[float] = []
        self.rejected = 0

    async def send(self, address: str, text: str, buttons: Sequence[Sequence[Button]] = ()) -> str:
        arrived = time.monotonic()
        window = [t for t in self.accepted[-self.limit_per_s :] if arrived - t <= 1.0]
        if len(window) >= self.limit_per_s:
            self.rejected += 1
            raise RuntimeError("429 Too Many Requests: retry after 1")
        self.accepted.append(arrived)
        await asyncio.sleep(FAKE_LATENCY_S)
        return str(len(self.accepted))

    async def edit(self, address: str, message_ref: str, text: str, buttons=()) -> None:  # type: ignore[no-untyped-def]
        return None


async def _send_figures(url: str) -> dict[str, Any]:
    db = Database(url)
    try:
        await db.migrate()
        await _seed(db, users=SEND_USERS, cards_per_user=2)
        async with db.session() as session:
            await session.execute(
                sa.update(User).values(
                    reminders_paused=False, unreachable=False, reminder_hour=0, reminder_minute=0
                )
            )
            await session.execute(sa.update(Card).values(due_at=NOW - timedelta(days=1)))
        platform = RateLimitedPlatform(FAKE_LIMIT_PER_S)
        # Everyone is due at once: the worst fan-out, e.g. a whole class at 19:00.
        now = NOW + timedelta(days=1)
        started = time.monotonic()
        report = await run_tick(
            db, {Platform.TELEGRAM: platform}, Pacer(), now=now, clock=lambda: datetime.now(UTC)
        )
        wall = time.monotonic() - started
        stamps = platform.accepted
        rate = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else 0.0
        return {
            "sent": report.sent,
            "rejected": platform.rejected,
            "rate_per_s": rate,
            "tick_wall_s": wall,
            "pacing_rate_per_s": PLATFORM_LIMITS[Platform.TELEGRAM].rate_per_s,
            "busiest_second": _busiest_second(stamps),
            "latency_s": FAKE_LATENCY_S,
        }
    finally:
        await db.dispose()


def _busiest_second(stamps: list[float]) -> int:
    best, start = 0, 0
    for end, moment in enumerate(stamps):
        while moment - stamps[start] > 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


class _fresh_postgres:  # noqa: N801 (used as a context manager, reads like a function)
    """A throwaway database on the given server, dropped on exit."""

    def __init__(self, url: str) -> None:
        base = make_url(url)
        self.name = f"rounds_bench_{uuid.uuid4().hex[:10]}"
        self.admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
        self.url = base.set(database=self.name).render_as_string(hide_password=False)

    async def __aenter__(self) -> str:
        await self._admin(f'CREATE DATABASE "{self.name}"')
        return self.url

    async def __aexit__(self, *exc: object) -> None:
        await self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    async def _admin(self, sql: str) -> None:
        import asyncpg

        connection = await asyncpg.connect(self.admin)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()
