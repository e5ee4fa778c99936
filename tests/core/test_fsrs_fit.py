"""FSRS parameters fitted from the student's own reviews, in the background job; and the
simulation bench at smoke size."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import bench_srs
from core.fsrs_fit import FIT_MIN_REVIEWS, fit_all_due
from core.grading import Answer, record_answer
from storage.db import Database
from storage.enums import AttemptSource, SchedulerKind
from storage.models import Question, User
from tests.study_seed import seed_student

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


async def _review_history(db: Database, name: str, kind: SchedulerKind) -> int:
    seeded = await seed_student(db, external_id=name, count=40)
    rng = random.Random(name)
    async with db.session() as session:
        user = await session.get(User, seeded.user_id)
        assert user is not None
        user.scheduler = kind
        questions = [await session.get(Question, qid) for qid in seeded.question_ids]
        for round_ in range(12):  # 40 first sightings, then 440 reviews
            for question in questions:
                assert question is not None
                await record_answer(
                    session, user,
                    Answer(question=question, choice=0 if rng.random() < 0.85 else 1,
                           confidence=rng.choice([2, 3, 4]), time_ms=4_000,
                           source=AttemptSource.REVIEW,
                           answered_at=NOW + timedelta(days=round_ * round_ + rng.random())),
                )  # fmt: skip
        return user.id


async def test_the_job_fits_fsrs_students_with_enough_reviews_only(db: Database) -> None:
    fsrs_student = await _review_history(db, "fern", SchedulerKind.FSRS)
    sm2_student = await _review_history(db, "sam", SchedulerKind.SM2)
    assert await fit_all_due(db) == 1
    async with db.session() as session:
        fern = await session.get(User, fsrs_student)
        sam = await session.get(User, sm2_student)
        assert fern is not None and sam is not None
        assert fern.fsrs_fitted_reviews == 440 >= FIT_MIN_REVIEWS
        assert fern.fsrs_parameters is not None and len(fern.fsrs_parameters) == 21
        assert sam.fsrs_parameters is None
    assert await fit_all_due(db) == 0  # nothing new to learn from


async def test_simulation_bench_runs_both_schedulers_at_smoke_size(tmp_path: Path) -> None:
    sm2 = await bench_srs.simulate(SchedulerKind.SM2, tmp_path, students=1, cards=10, days=20)
    fsrs = await bench_srs.simulate(SchedulerKind.FSRS, tmp_path, students=1, cards=10, days=20)
    for figures in (sm2, fsrs):
        assert figures["reviews"] > 0 and 0 < figures["retention"] <= 1
        assert figures["log_loss"] > 0 and 0 <= figures["rmse_bins"] < 1
