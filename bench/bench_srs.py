"""SM-2 against FSRS on simulated students: reviews per day, retention, and how well each
scheduler predicts recall (log loss and RMSE, as srs-benchmark reports them).

Every simulated student has a known forgetting curve per card (the ground truth, which
neither scheduler sees): recall after t days is the power law (1 + 0.2346 t / S) ** -0.5,
90% at t = S. S, the days to 90% recall, starts at 2 x ability / difficulty after the
first sighting; a recalled card's S grows by
1 + 18 x ability / difficulty x S^-0.15 x (e^(1.2 (1 - R)) - 1)
(more when it was nearly forgotten: the spacing effect); a forgotten card's S falls to a
quarter. Ability and card difficulty are log-normal per student and card. The student
states a confidence that follows how well they knew it (right at R > 0.85: sure; R > 0.6:
fairly sure; else unsure), which turns an answer into an SM-2 quality and an FSRS rating.

Each day of 180, every student meets up to NEW_PER_DAY new cards (until their deck is
used) and answers every due card; each answer goes through `core.grading.record_answer` on a
real SQLite database, so the scheduler under test is the production one; under FSRS the
student's parameters are fitted (core.fsrs_fit.refit_if_due, the nightly job's work) once
they have enough reviews. The same students
(same seeds) run once under SM-2 and once under FSRS at 0.90 target retention.

Metrics, over reviews (answers after the first sighting):
- reviews/day: reviews per student per day;
- retention: the share of reviews recalled;
- log loss: mean -[y ln p + (1-y) ln(1-p)] of the scheduler's predicted recall p;
- RMSE (bins): srs-benchmark's calibration error, reviews binned by predicted recall
  (20 bins), sqrt of the count-weighted mean squared gap between mean prediction and
  actual recall per bin.
Goal: FSRS reaches the target retention with fewer reviews per day than SM-2.
"""

from __future__ import annotations

import json
import math
import os
import random
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.fsrs_fit import refit_if_due
from core.grading import Answer, record_answer
from storage.db import Database
from storage.enums import AttemptSource, MaterialStatus, Platform, SchedulerKind
from storage.models import Material, Question, User
from storage.repos.chats import personal_scope
from storage.repos.study import due_question_ids
from storage.repos.users import get_or_create_user

STUDENTS = 8
CARDS = 100
NEW_PER_DAY = 5
DAYS = 180
TARGET_RETENTION = 0.90
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ANSWER_MS = 4_000  # quick: within any question's reading budget
RMSE_BINS = 20
# The true forgetting curve is a power law (memory research finds one in aggregate data),
# shaped so that recall is 90% after S days: (1 + f t / S) ** -0.5 with f = 0.9 ** -2 - 1.
CURVE_DECAY = 0.5
CURVE_FACTOR = 0.9 ** (-1 / CURVE_DECAY) - 1


@dataclass
class Memory:
    """The ground truth of one card for one student."""

    difficulty: float
    stability: float = 0.0
    last_seen: datetime | None = None

    def recall(self, now: datetime) -> float:
        if self.last_seen is None:
            return 0.0
        days = (now - self.last_seen).total_seconds() / 86_400
        return float((1 + CURVE_FACTOR * days / self.stability) ** -CURVE_DECAY)


@dataclass
class Outcomes:
    reviews: int = 0
    recalled: int = 0
    predictions: list[tuple[float, int]] = field(default_factory=list)


def _confidence(correct: bool, recall: float) -> int:
    if not correct:
        return 2 if recall < 0.5 else 3
    return 4 if recall > 0.85 else 3 if recall > 0.6 else 2


def _learn(memory: Memory, ability: float, recall: float, correct: bool, now: datetime) -> None:
    ease = ability / memory.difficulty
    if memory.last_seen is None:
        memory.stability = 2.0 * ease
    elif correct:
        growth = 18 * ease * memory.stability**-0.15 * (math.exp(1.2 * (1 - recall)) - 1)
        memory.stability *= 1 + growth
    else:
        memory.stability = max(0.3, memory.stability / 4)
    memory.last_seen = now


async def _seed(db: Database, students: int, cards: int) -> list[tuple[int, list[int]]]:
    seeded = []
    async with db.session() as session:
        for n in range(students):
            user = await get_or_create_user(session, Platform.CONSOLE, f"sim{n}", f"Sim {n}")
            scope = await personal_scope(session, user)
            material = Material(scope_id=scope.id, filename="sim.pdf", size_bytes=1,
                                sha256=f"{n}".ljust(64, "s"), status=MaterialStatus.READY,
                                pages=1)  # fmt: skip
            session.add(material)
            await session.flush()
            rows = [
                Question(
                    scope_id=scope.id, material_id=material.id, stem=f"Simulated card {i}?",
                    stem_hash=f"sim-{n}-{i}", options=["key", "b", "c", "d"], correct_index=0,
                    explanation="", topic="Simulation", difficulty=3,
                )
                for i in range(cards)
            ]  # fmt: skip
            session.add_all(rows)
            await session.flush()
            seeded.append((user.id, [row.id for row in rows]))
    return seeded


async def simulate(
    kind: SchedulerKind,
    data_dir: Path,
    *,
    students: int = STUDENTS,
    cards: int = CARDS,
    days: int = DAYS,
    seed: int = 18,
) -> dict[str, float]:
    db = Database(f"sqlite+aiosqlite:///{data_dir / f'srs-{kind}.db'}")
    await db.migrate()
    seeded = await _seed(db, students, cards)
    outcomes = Outcomes()
    fits = 0
    for n, (user_id, question_ids) in enumerate(seeded):
        rng = random.Random(seed * 1_000 + n)
        ability = rng.lognormvariate(0, 0.35)
        memories = {qid: Memory(difficulty=rng.lognormvariate(0, 0.35)) for qid in question_ids}
        for day in range(days):
            now = START + timedelta(days=day, minutes=rng.randint(0, 600))
            async with db.session() as session:
                user = await session.get(User, user_id)
                assert user is not None
                user.scheduler, user.desired_retention = kind, TARGET_RETENTION
                # The nightly job's work, at the start of the simulated day.
                fits += await refit_if_due(session, user)
                fresh = question_ids[day * NEW_PER_DAY : (day + 1) * NEW_PER_DAY]
                due = await due_question_ids(session, user_id, now, limit=cards)
                for offset, question_id in enumerate([*due, *fresh]):
                    memory = memories[question_id]
                    recall = memory.recall(now) if memory.last_seen else 0.6
                    correct = rng.random() < recall
                    at = now + timedelta(seconds=30 * offset)
                    question = await session.get(Question, question_id)
                    assert question is not None
                    graded = await record_answer(
                        session, user,
                        Answer(question=question, choice=0 if correct else 1,
                               confidence=_confidence(correct, recall), time_ms=ANSWER_MS,
                               source=AttemptSource.REVIEW, answered_at=at),
                    )  # fmt: skip
                    if memory.last_seen is not None:
                        outcomes.reviews += 1
                        outcomes.recalled += int(correct)
                        if graded.log.predicted_recall is not None:
                            outcomes.predictions.append(
                                (graded.log.predicted_recall, int(correct))
                            )
                    _learn(memory, ability, recall, correct, at)
    await db.dispose()
    return {
        "reviews_per_day": outcomes.reviews / (students * days),
        "retention": outcomes.recalled / max(1, outcomes.reviews),
        "log_loss": log_loss(outcomes.predictions),
        "rmse_bins": rmse_bins(outcomes.predictions),
        "reviews": outcomes.reviews,
        "parameter_fits": fits,
    }


def log_loss(predictions: list[tuple[float, int]]) -> float:
    eps = 1e-6
    total = sum(
        -(y * math.log(max(eps, p)) + (1 - y) * math.log(max(eps, 1 - p))) for p, y in predictions
    )
    return total / max(1, len(predictions))


def rmse_bins(predictions: list[tuple[float, int]], bins: int = RMSE_BINS) -> float:
    grouped: dict[int, list[tuple[float, int]]] = {}
    for p, y in predictions:
        grouped.setdefault(min(bins - 1, int(p * bins)), []).append((p, y))
    squared = sum(
        len(group)
        * (sum(p for p, _ in group) / len(group) - sum(y for _, y in group) / len(group)) ** 2
        for group in grouped.values()
    )
    return math.sqrt(squared / max(1, len(predictions)))


async def run(results_dir: Path, *, students: int = STUDENTS, days: int = DAYS) -> list[tuple]:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        sm2 = await simulate(SchedulerKind.SM2, Path(tmp), students=students, days=days)
        fsrs = await simulate(SchedulerKind.FSRS, Path(tmp), students=students, days=days)
    load = os.getloadavg()[0]
    report = {
        "students": students, "cards_per_student": CARDS, "days": days,
        "target_retention": TARGET_RETENTION, "sm2": sm2, "fsrs": fsrs,
        "fsrs_review_ratio": fsrs["reviews_per_day"] / sm2["reviews_per_day"],
        "seconds": round(time.perf_counter() - started, 1), "load_average": round(load, 2),
        "cpus": os.cpu_count(),
    }  # fmt: skip
    (results_dir / "srs.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    rows: list[tuple] = []
    for name, figures in (("SM-2", sm2), ("FSRS", fsrs)):
        rows += [
            ("srs", f"{name} reviews/day", f"{figures['reviews_per_day']:.2f}", "per student", ""),
            ("srs", f"{name} retention", f"{figures['retention']:.3f}", "",
             f">= {TARGET_RETENTION - 0.02:.2f}" if name == "FSRS" else ""),
            ("srs", f"{name} log loss", f"{figures['log_loss']:.3f}", "", ""),
            ("srs", f"{name} RMSE (bins)", f"{figures['rmse_bins']:.3f}", "", ""),
        ]  # fmt: skip
    rows.append(("srs", "FSRS / SM-2 reviews", f"{report['fsrs_review_ratio']:.2f}", "x", "< 1"))
    rows.append(("srs", "load average", f"{load:.2f}", f"{os.cpu_count()} cpus", ""))
    return rows
