"""A student's own FSRS parameters, fitted from their attempt log with py-fsrs's optimizer.

Fitting runs in a background job (scheduler.service's daily fit), never when a student
clicks: it takes seconds of CPU. A student qualifies once they have FIT_MIN_REVIEWS reviews
(answers to a card seen before); below that the package's defaults, fitted on millions of
Anki reviews, predict better than a fit to a few hundred noisy answers. A fit is redone
after REFIT_EVERY more reviews.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from fsrs import ReviewLog as FsrsReviewLog
from sqlalchemy.ext.asyncio import AsyncSession

from core.fsrs_scheduler import rating_for
from core.scheduling import reschedule_all
from core.srs import user_zone
from storage.db import Database
from storage.enums import SchedulerKind
from storage.models import User
from storage.repos.attempts import answer_log
from storage.repos.users import fsrs_student_ids

FIT_MIN_REVIEWS = 400
REFIT_EVERY = 400


@dataclass(frozen=True)
class LoggedAnswer:
    question_id: int
    quality: int
    answered_at: datetime


def review_count(answers: Sequence[LoggedAnswer]) -> int:
    """Answers to a card answered before (the first sighting of a card is not a review)."""
    return len(answers) - len({answer.question_id for answer in answers})


def due_for_fit(reviews: int, fitted_reviews: int) -> bool:
    """Whether a student with `reviews` reviews, last fitted at `fitted_reviews`, needs a fit."""
    return reviews >= FIT_MIN_REVIEWS and reviews - fitted_reviews >= REFIT_EVERY


def fit_parameters(answers: Sequence[LoggedAnswer]) -> list[float]:
    """FSRS parameters fitted to these answers (CPU-bound: seconds; call it off the loop)."""
    from fsrs import Optimizer  # torch and pandas load only where a fit runs

    logs = [
        FsrsReviewLog(
            card_id=answer.question_id, rating=rating_for(answer.quality),
            review_datetime=answer.answered_at, review_duration=None,
        )
        for answer in answers
    ]  # fmt: skip
    return [float(p) for p in Optimizer(logs).compute_optimal_parameters()]


async def refit_if_due(session: AsyncSession, user: User) -> bool:
    """Fits the FSRS student's parameters when enough new reviews came in, and reschedules
    their cards with them. The fit runs in a worker thread. Returns whether it fitted."""
    if user.scheduler is not SchedulerKind.FSRS:
        return False
    answers = [
        LoggedAnswer(attempt.question_id, int(attempt.quality), attempt.answered_at)
        for attempt in await answer_log(session, user.id)
        if attempt.question_id is not None
    ]
    reviews = review_count(answers)
    if not due_for_fit(reviews, user.fsrs_fitted_reviews):
        return False
    user.fsrs_parameters = await asyncio.to_thread(fit_parameters, answers)
    user.fsrs_fitted_reviews = reviews
    await reschedule_all(session, user, tz=user_zone(user))
    return True


async def fit_all_due(db: Database) -> int:
    """The background job: fits every FSRS student who has enough new reviews, one
    transaction each. Returns how many were fitted."""
    async with db.session() as session:
        student_ids = await fsrs_student_ids(session)
    fitted = 0
    for student_id in student_ids:
        async with db.session() as session:
            user = await session.get(User, student_id)
            if user is not None:
                fitted += await refit_if_due(session, user)
    return fitted
