"""Group-round latencies on SQLite: a 50-member group playing a 10-question round.

- answer click: `ra:` button through the real router (checks, round answer, the member's own
  SM-2 card, attempt, XP, streak), 500 clicks, p50/p99. Goal: p99 < 30 ms, like a quiz click.
- close tick: the timer step that closes a question (votes per option, fastest right, live
  standings over every answer so far) and, after the last, posts the final board; the
  notifier is a no-op so only our work is timed. Goal: p99 < 100 ms.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from core.settings import Settings
from handlers.context import Services
from handlers.router import Router
from handlers.types import Actor, ChatRef, EventKind, Incoming
from scheduler.notifier import Button
from scheduler.rounds import RoundTimers
from storage.db import Database
from storage.enums import ChatKind, MaterialStatus, Platform
from storage.models import Material, Question
from storage.repos.chats import ensure_membership, get_or_create_chat, group_scope
from storage.repos.users import get_or_create_user

MEMBERS = 50
QUESTIONS = 10
SECONDS = 30
GOAL_CLICK_P99_MS = 30.0
GOAL_CLOSE_P99_MS = 100.0
CHAT = ChatRef("-100900", ChatKind.GROUP, "Bench group")


class _Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class _Sink:
    """A notifier that keeps the last posted buttons and does no I/O."""

    platform = Platform.TELEGRAM

    def __init__(self) -> None:
        self.last_buttons: list[str] = []

    async def send(self, address: str, text: str, buttons: Sequence[Sequence[Button]] = ()) -> str:
        if buttons:
            self.last_buttons = [button.payload for row in buttons for button in row]
        return "1"

    async def edit(
        self,
        address: str,
        message_ref: str,
        text: str,
        buttons: Sequence[Sequence[Button]] = (),
    ) -> None:
        return None


async def _seed(db: Database) -> None:
    async with db.session() as session:
        chat = await get_or_create_chat(
            session, Platform.TELEGRAM, CHAT.external_id, ChatKind.GROUP
        )
        scope = await group_scope(session, chat)
        for i in range(MEMBERS):
            user = await get_or_create_user(session, Platform.TELEGRAM, f"m{i}", f"Member {i}")
            await ensure_membership(session, user, chat)
        material = Material(scope_id=scope.id, filename="heart.pdf", sha256="r" * 64,
                            size_bytes=1, status=MaterialStatus.READY, pages=59)  # fmt: skip
        session.add(material)
        await session.flush()
        session.add_all(
            Question(
                scope_id=scope.id,
                material_id=material.id,
                stem=f"Round question {i}?",
                stem_hash=f"round-{i}",
                options=["key", "b", "c", "d"],
                correct_index=0,
                topic="Heart",
                difficulty=3,
            )
            for i in range(QUESTIONS)
        )


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def measure(data_dir: Path) -> dict[str, list[float]]:
    settings = Settings(_env_file=None, data_dir=data_dir)  # type: ignore[call-arg]
    db = Database(settings.database_url)
    await db.migrate()
    await _seed(db)
    clock, sink = _Clock(), _Sink()
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.start(paused=True)  # books jobs; the bench runs the ticks itself
    timers = RoundTimers(db=db, notifiers={Platform.TELEGRAM: sink}, clock=clock,
                         scheduler=scheduler)  # fmt: skip
    router = Router(Services(settings=settings, db=db, clock=clock, round_timers=timers))
    timings: dict[str, list[float]] = {"click": [], "close": []}

    def event(member: int, kind: EventKind, **fields: object) -> Incoming:
        return Incoming(platform=Platform.TELEGRAM, user=Actor(f"m{member}", f"Member {member}"),
                        chat=CHAT, kind=kind, received_at=clock.now, **fields)  # type: ignore[arg-type]  # fmt: skip

    try:
        await router.route(
            event(0, EventKind.COMMAND, command="round", args=(str(QUESTIONS), str(SECONDS)))
        )
        round_id = 1
        clock.now += timedelta(seconds=5)
        await timers.tick(round_id)  # question 1
        for _ in range(QUESTIONS):
            for member in range(MEMBERS):
                clock.now += timedelta(milliseconds=400)
                payload = sink.last_buttons[member % 4]
                started = time.perf_counter()
                replies = await router.route(event(member, EventKind.BUTTON, payload=payload))
                timings["click"].append((time.perf_counter() - started) * 1000)
                if "Locked in" not in replies[0].text:
                    raise RuntimeError(replies[0].text)
            clock.now += timedelta(seconds=SECONDS)
            started = time.perf_counter()
            await timers.tick(round_id)  # close (and the final board after the last)
            timings["close"].append((time.perf_counter() - started) * 1000)
            clock.now += timedelta(seconds=3)
            await timers.tick(round_id)  # the next question
    finally:
        scheduler.shutdown(wait=False)
        await db.dispose()
    return timings


async def run(results_dir: Path) -> list[tuple[str, str, float, str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        timings = await measure(Path(tmp))
    goals = {"click": GOAL_CLICK_P99_MS, "close": GOAL_CLOSE_P99_MS}
    rows: list[tuple[str, str, float, str, str]] = []
    summary: dict[str, dict[str, float]] = {}
    for kind, samples in timings.items():
        figures = {
            "p50": _percentile(samples, 0.50),
            "p99": _percentile(samples, 0.99),
            "mean": statistics.fmean(samples),
            "max": max(samples),
        }
        summary[kind] = {"n": len(samples), **{k: round(v, 2) for k, v in figures.items()}}
        for metric in ("p50", "p99"):
            goal = f"< {goals[kind]:.0f}" if metric == "p99" else ""
            label = "answer click" if kind == "click" else "close tick"
            rows.append(("rounds", f"{label} {metric}", round(figures[metric], 2), "ms", goal))
    summary["setup"] = {"members": MEMBERS, "questions": QUESTIONS}
    path = results_dir / "rounds.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2) + "\n")
    return rows
