"""FSRS through the `fsrs` package (py-fsrs): the rating an answer earns, and the next state.

The rating mapping follows the SM-2 quality of the same answer (core.srs), so one answer
means the same thing to either scheduler:

    wrong, whatever the confidence                      (q 0-2) -> Again
    right but a guess or unsure (confidence 1-2),
      or slow (time > SLOW_FACTOR x the reading budget) (q 3)   -> Hard
    right, fairly sure or no confidence given, or sure
      but not fast                                       (q 4)   -> Good
    right, sure or certain (4-5) and fast (<= budget)    (q 5)   -> Easy

Due dates are whole local days, as with SM-2: FSRS runs without its minute-long learning
steps (a chat bot brings a card back as a message on the day it is due), and its interval
in days goes through the same `due_after` rule. Fuzzing is off so that a replay of the
attempt log reproduces the schedule exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from fsrs import Card as FsrsCard
from fsrs import Rating, Scheduler, State

from core.srs import CardState, Quality, ReviewLog, after_answer, elapsed_days
from storage.enums import SchedulerKind

DEFAULT_RETENTION = 0.9
MIN_RETENTION = 0.80
MAX_RETENTION = 0.97
RATING_FOR_QUALITY = {
    Quality.BLACKOUT: Rating.Again,
    Quality.WRONG_REMEMBERED: Rating.Again,
    Quality.WRONG_EASY: Rating.Again,
    Quality.DIFFICULT: Rating.Hard,
    Quality.HESITANT: Rating.Good,
    Quality.PERFECT: Rating.Easy,
}
_SECONDS_PER_DAY = 86_400


def rating_for(quality: int) -> Rating:
    """The FSRS rating of an answer of SM-2 `quality` (the table in the module docstring)."""
    return RATING_FOR_QUALITY[Quality(quality)]


def scheduler(
    retention: float = DEFAULT_RETENTION, parameters: Sequence[float] | None = None
) -> Scheduler:
    """A py-fsrs scheduler for whole-day intervals at `retention`, with the student's fitted
    `parameters` when there are any (else the package's defaults)."""
    if not MIN_RETENTION <= retention <= MAX_RETENTION:
        raise ValueError(f"retention {retention} is not {MIN_RETENTION}-{MAX_RETENTION}")
    extra = {"parameters": tuple(parameters)} if parameters else {}
    return Scheduler(
        desired_retention=retention,
        learning_steps=(),
        relearning_steps=(),
        enable_fuzzing=False,
        **extra,  # type: ignore[arg-type]
    )


def as_fsrs_card(state: CardState) -> FsrsCard:
    """The py-fsrs card for `state`: in review once FSRS has given it a memory state."""
    if state.stability is None or state.difficulty is None or state.last_reviewed_at is None:
        return FsrsCard(card_id=0, state=State.Learning, step=0, due=state.due_at)
    return FsrsCard(
        card_id=0,
        state=State.Review,
        step=None,
        stability=state.stability,
        difficulty=state.difficulty,
        due=state.due_at,
        last_review=state.last_reviewed_at,
    )


def fsrs_recall(state: CardState, now: datetime, fsrs: Scheduler) -> float | None:
    """FSRS's recall prediction at `now`; None before FSRS has seen the card."""
    if state.stability is None or state.last_reviewed_at is None:
        return None
    return float(fsrs.get_card_retrievability(as_fsrs_card(state), now))


def review(
    state: CardState,
    quality: int,
    *,
    now: datetime,
    tz: str | ZoneInfo = "UTC",
    fsrs: Scheduler | None = None,
) -> tuple[CardState, ReviewLog]:
    """Returns the card after an answer of `quality` at `now` under FSRS, and the review's
    log. Pure; `state` is unchanged."""
    fsrs = fsrs or scheduler()
    grade = Quality(quality)
    reviewed, _ = fsrs.review_card(as_fsrs_card(state), rating_for(grade), review_datetime=now)
    # py-fsrs counts a due date from the review instant; ours are whole local days.
    interval = max(1, round((reviewed.due - now).total_seconds() / _SECONDS_PER_DAY))
    after = replace(
        after_answer(state, grade, now=now, interval_days=interval, tz=tz),
        stability=reviewed.stability,
        difficulty=reviewed.difficulty,
    )
    log = ReviewLog(
        scheduler=SchedulerKind.FSRS, quality=grade, reviewed_at=now,
        elapsed_days=elapsed_days(state, now), predicted_recall=fsrs_recall(state, now, fsrs),
        interval_days=interval,
    )  # fmt: skip
    return after, log
