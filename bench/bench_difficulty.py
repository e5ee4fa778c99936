"""Predicted vs observed difficulty on a simulated cohort answering through the real router.

A study group of MEMBERS students of known ability plays one round of QUESTIONS questions
(`ra:` buttons through Router.route, timers ticked by hand). Each question has the
generator's predicted difficulty (1-5) and a true difficulty that the prediction misses by
up to two steps (seeded, so every run is the same cohort). A student answers right with
the Rasch probability 1 / (1 + exp(-(ability - (true - 3) * SPREAD))). After the round each
question's observed difficulty (core/quality.py) is compared with the truth: the mean
absolute error of the prediction and of the observation, and their correlations with it.
"""

from __future__ import annotations

import json
import math
import random
import statistics
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import select

from bench.bench_rounds import CHAT, _Sink
from core.settings import Settings
from handlers.context import Services
from handlers.router import Router
from handlers.types import Actor, EventKind, Incoming
from scheduler.rounds import RoundTimers
from storage.db import Database
from storage.enums import ChatKind, MaterialStatus, Platform
from storage.models import Material, Question, RoundItem
from storage.repos.chats import ensure_membership, get_or_create_chat, group_scope
from storage.repos.users import get_or_create_user

MEMBERS = 40
QUESTIONS = 20
SECONDS = 30
SPREAD = 1.0
SEED = 15


def _truths(rng: random.Random) -> list[tuple[int, int]]:
    """(predicted, true) per question: every predicted level, each missed by -2..2 steps."""
    pairs = []
    for i in range(QUESTIONS):
        predicted = 1 + i % 5
        pairs.append((predicted, max(1, min(5, predicted + rng.choice((-2, -1, 0, 1, 2))))))
    return pairs


async def _seed(db: Database, pairs: list[tuple[int, int]]) -> dict[str, int]:
    """The group, its members and questions; stem -> true difficulty."""
    truth: dict[str, int] = {}
    async with db.session() as session:
        chat = await get_or_create_chat(
            session, Platform.TELEGRAM, CHAT.external_id, ChatKind.GROUP
        )
        scope = await group_scope(session, chat)
        for i in range(MEMBERS):
            user = await get_or_create_user(session, Platform.TELEGRAM, f"m{i}", f"Member {i}")
            await ensure_membership(session, user, chat)
        material = Material(scope_id=scope.id, filename="heart.pdf", sha256="d" * 64,
                            size_bytes=1, status=MaterialStatus.READY, pages=59)  # fmt: skip
        session.add(material)
        await session.flush()
        for i, (predicted, true) in enumerate(pairs):
            stem = f"Cohort question {i}?"
            truth[stem] = true
            session.add(
                Question(
                    scope_id=scope.id, material_id=material.id, stem=stem,
                    stem_hash=f"cohort-{i}", options=["key", "b", "c", "d"], correct_index=0,
                    topic="Heart", difficulty=predicted,
                )
            )  # fmt: skip
    return truth


async def simulate(data_dir: Path) -> list[dict[str, float]]:
    rng = random.Random(SEED)
    pairs = _truths(rng)
    abilities = [-2.0 + 4.0 * i / (MEMBERS - 1) for i in range(MEMBERS)]
    settings = Settings(_env_file=None, data_dir=data_dir)  # type: ignore[call-arg]
    db = Database(settings.database_url)
    await db.migrate()
    truth = await _seed(db, pairs)
    clock = _Clock()
    sink = _Sink()
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.start(paused=True)
    timers = RoundTimers(db=db, notifiers={Platform.TELEGRAM: sink}, clock=clock,
                         scheduler=scheduler)  # fmt: skip
    router = Router(Services(settings=settings, db=db, clock=clock, round_timers=timers))

    def event(member: int, kind: EventKind, **fields: object) -> Incoming:
        return Incoming(platform=Platform.TELEGRAM, user=Actor(f"m{member}", f"Member {member}"),
                        chat=CHAT, kind=kind, received_at=clock.now, **fields)  # type: ignore[arg-type]  # fmt: skip

    try:
        await router.route(
            event(0, EventKind.COMMAND, command="round", args=(str(QUESTIONS), str(SECONDS)))
        )
        clock.now += timedelta(seconds=5)
        await timers.tick(1)
        for _ in range(QUESTIONS):
            token = sink.last_buttons[0].split(":")[1]
            async with db.session() as session:
                item = await session.scalar(select(RoundItem).where(RoundItem.token == token))
                question = await session.get(Question, item.question_id if item else None)
            assert question is not None
            true = truth[question.stem]
            for member, ability in enumerate(abilities):
                clock.now += timedelta(milliseconds=300)
                p_right = 1 / (1 + math.exp(-(ability - (true - 3) * SPREAD)))
                option = 0 if rng.random() < p_right else 1 + rng.randrange(3)
                replies = await router.route(
                    event(member, EventKind.BUTTON, payload=sink.last_buttons[option])
                )
                if "Locked in" not in replies[0].text:
                    raise RuntimeError(replies[0].text)
            clock.now += timedelta(seconds=SECONDS)
            await timers.tick(1)
            clock.now += timedelta(seconds=3)
            await timers.tick(1)
        async with db.session() as session:
            rows = list(await session.scalars(select(Question).order_by(Question.id)))
            return [
                {
                    "predicted": row.difficulty,
                    "true": truth[row.stem],
                    "observed": row.observed_difficulty or 0.0,
                    "answers": row.times_answered,
                    "right": row.times_correct,
                }
                for row in rows
            ]
    finally:
        scheduler.shutdown(wait=False)
        await db.dispose()


class _Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def figures(rows: list[dict[str, float]]) -> dict[str, float]:
    true = [row["true"] for row in rows]
    predicted = [row["predicted"] for row in rows]
    observed = [row["observed"] for row in rows]
    return {
        "questions": len(rows),
        "members": MEMBERS,
        "mae_predicted": _mean_abs_error(predicted, true),
        "mae_observed": _mean_abs_error(observed, true),
        "r_predicted": round(statistics.correlation(predicted, true), 3),
        "r_observed": round(statistics.correlation(observed, true), 3),
    }


def _mean_abs_error(estimates: list[float], true: list[float]) -> float:
    return round(statistics.fmean(abs(e - t) for e, t in zip(estimates, true, strict=True)), 2)


async def run(results_dir: Path) -> list[tuple[str, str, float, str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        rows = await simulate(Path(tmp))
    summary = figures(rows)
    path = results_dir / "difficulty.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"summary": summary, "questions": rows}, indent=2) + "\n")
    return [
        ("difficulty", "mean |predicted - true|", summary["mae_predicted"], "levels", ""),
        ("difficulty", "mean |observed - true|", summary["mae_observed"], "levels", "< predicted"),
        ("difficulty", "r(predicted, true)", summary["r_predicted"], "", ""),
        ("difficulty", "r(observed, true)", summary["r_observed"], "", "> predicted"),
    ]
