"""/stats for a heavy student on SQLite: 50,000 attempts and 5,000 cards.

Times, as medians of REPEATS runs after one untimed warm-up (plus the cold first run):
- query: `core.stats.load_dashboard` (every aggregate the dashboard shows);
- render: `core.charts.render_dashboard` (matplotlib Agg -> PNG bytes);
- /stats: the whole command through the real router (session, queries, render in a worker
  thread, file write), which is what a student waits for;
- /next, /weak and /history through the router.
Goal: /stats under 1 s; the render alone under 300 ms.

`python -m bench.bench_stats --docs docs/dashboard.png` instead renders the dashboard of a
smaller, realistic seeded history (8 weeks of study) for the README.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from core import charts, stats
from core.settings import Settings
from handlers.context import Services
from handlers.router import Router
from handlers.types import Actor, ChatRef, EventKind, Incoming
from storage.db import Database
from storage.enums import AttemptSource, CardStatus, ChatKind, MaterialStatus, Platform
from storage.models import Attempt, Card, Chunk, Material, Question, User
from storage.repos.chats import personal_scope
from storage.repos.users import get_or_create_user

ATTEMPTS = 50_000
CARDS = 5_000
TOPICS = 40
HISTORY_DAYS = 365
REPEATS = 7
GOAL_TOTAL_MS = 1_000.0
GOAL_RENDER_MS = 300.0
NOW = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)
ACTOR = Actor("bench-stats", "Bench")
CHAT = ChatRef("bench-stats", ChatKind.PRIVATE)
TOPIC_NAMES = (
    "Cardiac muscle", "Skeletal muscle", "Smooth muscle", "Bone tissue", "Joints",
    "Nervous tissue", "Blood", "Lymphatic system", "Respiratory system", "Digestion",
)  # fmt: skip


async def _seed(
    db: Database,
    *,
    attempts: int,
    cards: int,
    topics: list[str],
    days: int,
    rng: random.Random,
    tz: str = "Europe/Berlin",
) -> int:
    """A student with `cards` questions (one card each) and `attempts` answers over `days`;
    each topic has its own skill so accuracy, calibration and weak topics look real."""
    async with db.session() as session:
        user = await get_or_create_user(session, Platform.CONSOLE, ACTOR.external_id, "Bench")
        user.tz, user.daily_goal = tz, 15
        scope = await personal_scope(session, user)
        material = Material(
            scope_id=scope.id, filename="anatomy.pdf", sha256="s" * 64, size_bytes=1,
            status=MaterialStatus.READY, pages=400,
        )  # fmt: skip
        session.add(material)
        await session.flush()
        headings = [*topics, "Endocrine system", "Urinary system"]
        await session.execute(
            insert(Chunk),
            [
                {"material_id": material.id, "ordinal": i, "page_start": i + 1,
                 "page_end": i + 1, "heading": headings[i % len(headings)], "text": "..."}
                for i in range(200)
            ],
        )  # fmt: skip
        await session.execute(
            insert(Question),
            [
                {"scope_id": scope.id, "material_id": material.id, "stem": f"Q{i}: which?",
                 "stem_hash": f"bench-{i}", "options": ["a", "b", "c", "d"],
                 "correct_index": 0, "topic": topics[i % len(topics)]}
                for i in range(cards)
            ],
        )  # fmt: skip
        question_ids = list(
            (await session.execute(Question.__table__.select().with_only_columns(Question.id)))
            .scalars()
            .all()
        )
        statuses = [CardStatus.REVIEW] * 8 + [CardStatus.LEARNING, CardStatus.SUSPENDED]
        await session.execute(
            insert(Card),
            [
                {"user_id": user.id, "question_id": qid,
                 "due_at": NOW + timedelta(hours=rng.uniform(-72, 24 * 40)),
                 "status": rng.choice(statuses), "interval_days": rng.randint(1, 60)}
                for qid in question_ids
            ],
        )  # fmt: skip
        skill = {topic: rng.uniform(0.35, 0.95) for topic in topics}
        rows: list[dict[str, Any]] = []
        for _ in range(attempts):
            # Recent days are busier than old ones, like a student warming up before an exam.
            ago = days * rng.random() ** 1.6
            topic = rng.choice(topics)
            confidence = rng.choice([None, 1, 2, 3, 3, 4, 4, 5])
            sure = (confidence or 3) / 5
            correct = rng.random() < min(0.98, skill[topic] * (0.6 + 0.55 * sure))
            rows.append(
                {"user_id": user.id, "question_id": rng.choice(question_ids),
                 "source": AttemptSource.QUIZ, "topic": topic, "choice": 0,
                 "correct": correct, "confidence": confidence,
                 "time_ms": rng.randint(3_000, 60_000), "quality": 4, "xp": 10,
                 "answered_at": NOW - timedelta(days=ago)}
            )  # fmt: skip
        for start in range(0, len(rows), 5_000):
            await session.execute(insert(Attempt), rows[start : start + 5_000])
        today = date(2026, 3, 10)
        user.xp, user.streak, user.best_streak = attempts * 10 // 4, 6, 19
        user.last_study_day = today
        return user.id


def _event(kind: EventKind, **fields: object) -> Incoming:
    return Incoming(
        platform=Platform.CONSOLE, user=ACTOR, chat=CHAT, kind=kind,
        received_at=NOW, **fields,  # type: ignore[arg-type]
    )  # fmt: skip


async def _timed(repeats: int, call: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    """(first run ms, median ms of the `repeats` runs after it)."""
    started = time.perf_counter()
    await call()
    first = (time.perf_counter() - started) * 1000
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        await call()
        runs.append((time.perf_counter() - started) * 1000)
    return first, statistics.median(runs)


async def _bench(results_dir: Path) -> list[tuple[str, str, float, str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, data_dir=Path(tmp))  # type: ignore[call-arg]
        db = Database(settings.database_url)
        await db.migrate()
        seed_started = time.perf_counter()
        topics = [f"{TOPIC_NAMES[i % 10]} {i // 10 + 1}" for i in range(TOPICS)]
        user_id = await _seed(
            db, attempts=ATTEMPTS, cards=CARDS, topics=topics, days=HISTORY_DAYS,
            rng=random.Random(11),
        )  # fmt: skip
        seed_s = time.perf_counter() - seed_started
        async with db.session() as session:
            user = await session.get(User, user_id)
            assert user is not None

            async def query() -> stats.Dashboard:
                return await stats.load_dashboard(session, user, NOW)

            query_first, query_ms = await _timed(REPEATS, query)
            board = await query()
        render_first, render_ms = await _timed(
            REPEATS, lambda: asyncio.to_thread(charts.render_dashboard, board)
        )
        router = Router(Services(settings=settings, db=db, clock=lambda: NOW))
        figures: dict[str, tuple[float, float]] = {}
        for command in ("stats", "next", "weak", "history"):
            event = _event(EventKind.COMMAND, command=command, text=f"/{command}")
            figures[command] = await _timed(REPEATS, lambda e=event: router.route(e))  # type: ignore[misc]
        replies = await router.route(_event(EventKind.COMMAND, command="stats"))
        assert replies and replies[0].image is not None, replies
        await db.dispose()
    rows: list[tuple[str, str, float, str, str]] = [
        ("stats", "query (load_dashboard) median", round(query_ms, 1), "ms", ""),
        ("stats", "query first run", round(query_first, 1), "ms", ""),
        ("stats", "render median", round(render_ms, 1), "ms", f"< {GOAL_RENDER_MS:.0f}"),
        ("stats", "render first run (cold fonts)", round(render_first, 1), "ms", ""),
        ("stats", "/stats via router median", round(figures["stats"][1], 1), "ms",
         f"< {GOAL_TOTAL_MS:.0f}"),
        ("stats", "/stats via router first run", round(figures["stats"][0], 1), "ms", ""),
        ("stats", "/next via router median", round(figures["next"][1], 1), "ms", ""),
        ("stats", "/weak via router median", round(figures["weak"][1], 1), "ms", ""),
        ("stats", "/history via router median", round(figures["history"][1], 1), "ms", ""),
        ("stats", "seed 50k attempts / 5k cards", round(seed_s, 1), "s", ""),
    ]  # fmt: skip
    (results_dir / "stats.json").write_text(
        json.dumps(
            {
                "attempts": ATTEMPTS, "cards": CARDS, "topics": TOPICS, "repeats": REPEATS,
                "rows": [dict(zip(("benchmark", "metric", "value", "unit", "goal"), row,
                                  strict=True)) for row in rows],
            },
            indent=2,
        )
        + "\n"
    )  # fmt: skip
    return rows


def run(results_dir: Path) -> Awaitable[list[tuple[str, str, float, str, str]]]:
    results_dir.mkdir(parents=True, exist_ok=True)
    return _bench(results_dir)


async def render_docs_dashboard(target: Path) -> Path:
    """The README picture: eight weeks of a plausible student, rendered like /stats does."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'docs.db'}")
        await db.migrate()
        topics = list(TOPIC_NAMES[:7])
        user_id = await _seed(
            db, attempts=900, cards=240, topics=topics, days=56, rng=random.Random(7)
        )
        async with db.session() as session:
            user = await session.get(User, user_id)
            assert user is not None
            board = await stats.load_dashboard(session, user, NOW)
        await db.dispose()
    png = await asyncio.to_thread(charts.render_dashboard, board)
    await asyncio.to_thread(_write, target, png)
    return target


def _write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--docs"]:
        out = Path(sys.argv[2] if len(sys.argv) > 2 else "docs/dashboard.png")
        print(asyncio.run(render_docs_dashboard(out)))
    else:
        for result in asyncio.run(run(Path(__file__).with_name("results"))):
            print(*result)
