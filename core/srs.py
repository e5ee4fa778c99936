"""SM-2 spaced repetition: the quality of an answer and the next state of a card.

Pure functions over frozen dataclasses, like py-fsrs: `review(state, quality, now=..., tz=...)`
returns a new `CardState` and never mutates its input; storage persists it.

The quality mapping (SM-2 wants a grade q in 0-5; a multiple-choice click plus a confidence
rating is all we have, so q is derived from correctness, confidence and answer time):

    wrong, confidence 4-5 (sure, certain)          -> q = 0  confidently wrong: a misconception
    wrong, confidence 3 (fairly sure) or unknown   -> q = 1
    wrong, confidence 1-2 (guessing, unsure)       -> q = 2  knew they did not know
    right, confidence 1-2 (a guess)                -> q = 3
    right, but slow (time > SLOW_FACTOR x budget)  -> q = 3  recalled with difficulty
    right, confidence 3, or unknown, or not fast   -> q = 4
    right, confidence 4-5 and fast (time <= budget) -> q = 5

`budget` is the time a prepared student needs to read the question and answer it:
THINK_MS plus READ_MS_PER_CHAR for every character of the stem and options, so a long
vignette is not "slow" where a one-line cloze would be. q < 3 is a lapse (SM-2 restarts the
repetitions); q >= 3 is a pass.

SM-2 itself is the published algorithm: EF' = EF + 0.1 - (5-q)(0.08 + 0.02(5-q)), floor 1.3;
passes give intervals 1, 6, then interval x EF days (with the EF before this review), and
"if the interval is a fraction, round it up"; a lapse resets repetitions to 0 and the
interval to 1 day. tests/core/test_srs_reference.py replays random grade sequences against
the `supermemo2` package so the two never drift apart.

Its recall prediction, for the retention panel and the simulation bench, is the one
srs-benchmark gives SM-2: a card is recalled with probability 0.9 ** (elapsed / interval),
90% on the day it falls due.

Due dates are whole days in the student's time zone: a card with an interval of n days is
due at the start of the n-th local day after today, so "due tomorrow" means all of tomorrow
(the review reminder at 08:00 includes a card answered at 20:00 the evening before).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import IntEnum
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from storage.enums import CardStatus, Confidence, SchedulerKind

if TYPE_CHECKING:
    from storage.models import User


class Quality(IntEnum):
    """SM-2's grade of one answer, as the published algorithm names them."""

    BLACKOUT = 0
    WRONG_REMEMBERED = 1  # wrong, but the right answer felt familiar once seen
    WRONG_EASY = 2  # wrong, the right answer seemed easy to recall
    DIFFICULT = 3  # right, with serious difficulty
    HESITANT = 4  # right, after hesitation
    PERFECT = 5


MIN_EASE = 1.3
INITIAL_EASE = 2.5
FIRST_INTERVAL_DAYS = 1
SECOND_INTERVAL_DAYS = 6
PASSING_QUALITY = 3

# Answer-time budget: ~60 ms per character is about 1,000 characters a minute of careful
# reading, plus a few seconds to decide. Beyond SLOW_FACTOR budgets the recall was laboured.
# A card in review whose interval reached this many days is "mastered" (/stats): with the
# default ease that takes about four right answers in a row spread over a month.
MASTERED_INTERVAL_DAYS = 21
THINK_MS = 4_000
READ_MS_PER_CHAR = 60
SLOW_FACTOR = 3.0
# SM-2's recall at the due date, as srs-benchmark models it.
SM2_RECALL_AT_DUE = 0.9


@dataclass(frozen=True)
class CardState:
    """One student's SM-2 state for one question (what the cards table stores)."""

    due_at: datetime
    ease_factor: float = INITIAL_EASE
    interval_days: int = 0
    repetitions: int = 0
    lapses: int = 0
    status: CardStatus = CardStatus.NEW
    last_reviewed_at: datetime | None = None
    # FSRS's memory state; None until FSRS has reviewed the card.
    stability: float | None = None
    difficulty: float | None = None

    def __post_init__(self) -> None:
        _require_utc(self.due_at, "due_at")
        if self.last_reviewed_at is not None:
            _require_utc(self.last_reviewed_at, "last_reviewed_at")


@dataclass(frozen=True)
class ReviewLog:
    """What one review did, as the attempt row keeps it (py-fsrs's ReviewLog, plus what the
    scheduler predicted): the retention panel compares `predicted_recall` with `passed`."""

    scheduler: SchedulerKind
    quality: Quality
    reviewed_at: datetime
    # Days since the previous review and the recall the scheduler expected after them;
    # None on a card's first review.
    elapsed_days: float | None
    predicted_recall: float | None
    interval_days: int

    @property
    def passed(self) -> bool:
        return self.quality >= PASSING_QUALITY


def new_card(now: datetime) -> CardState:
    """A card never reviewed; due immediately."""
    _require_utc(now, "now")
    return CardState(due_at=now)


def answer_budget_ms(question_chars: int) -> int:
    """Milliseconds a prepared student needs for a question of this many characters."""
    return THINK_MS + READ_MS_PER_CHAR * max(0, question_chars)


def quality_from(
    *, correct: bool, confidence: int | None, time_ms: int | None, question_chars: int
) -> Quality:
    """SM-2 quality 0-5 from one answer (the mapping is in the module docstring)."""
    if confidence is not None and not Confidence.GUESSING <= confidence <= Confidence.CERTAIN:
        raise ValueError(f"confidence {confidence} is not 1-5")
    if not correct:
        if confidence is None:
            return Quality.WRONG_REMEMBERED
        if confidence >= Confidence.SURE:
            return Quality.BLACKOUT
        return Quality.WRONG_EASY if confidence <= Confidence.UNSURE else Quality.WRONG_REMEMBERED
    budget = answer_budget_ms(question_chars)
    if confidence is not None and confidence <= Confidence.UNSURE:
        return Quality.DIFFICULT
    if time_ms is not None and time_ms > SLOW_FACTOR * budget:
        return Quality.DIFFICULT
    fast = time_ms is not None and time_ms <= budget
    if confidence is not None and confidence >= Confidence.SURE and fast:
        return Quality.PERFECT
    return Quality.HESITANT


def status_in_play(*, repetitions: int, reviewed: bool) -> CardStatus:
    """The status of a card in circulation: review after two passes in a row, learning once
    seen, new before (also what a suspended card returns to when its question is restored)."""
    if repetitions >= 2:
        return CardStatus.REVIEW
    return CardStatus.LEARNING if reviewed else CardStatus.NEW


def next_ease(ease_factor: float, quality: int) -> float:
    """SM-2's ease update, never below 1.3."""
    miss = 5 - quality
    # Summed in the published order, so the float result matches the reference to the bit.
    return max(MIN_EASE, ease_factor + (0.1 - miss * (0.08 + miss * 0.02)))


def elapsed_days(state: CardState, now: datetime) -> float | None:
    """Days since the card's last review (fractional); None for a card never reviewed."""
    if state.last_reviewed_at is None:
        return None
    return max(0.0, (now - state.last_reviewed_at).total_seconds() / 86_400)


def sm2_recall(state: CardState, now: datetime) -> float | None:
    """SM-2's recall prediction at `now`: 0.9 ** (elapsed / interval)."""
    elapsed = elapsed_days(state, now)
    if elapsed is None or state.interval_days < 1:
        return None
    return float(SM2_RECALL_AT_DUE ** (elapsed / state.interval_days))


def review(
    state: CardState, quality: int, *, now: datetime, tz: str | ZoneInfo = "UTC"
) -> tuple[CardState, ReviewLog]:
    """Returns the card after an answer of `quality` at `now`, and the review's log.
    Pure; `state` is unchanged."""
    grade = _grade(quality, now)
    if grade >= PASSING_QUALITY:
        interval = _next_interval(reps=state.repetitions, interval=state.interval_days,
                                  ease=state.ease_factor)  # fmt: skip
    else:
        interval = FIRST_INTERVAL_DAYS
    after = replace(
        after_answer(state, grade, now=now, interval_days=interval, tz=tz),
        ease_factor=next_ease(state.ease_factor, grade),
    )
    log = ReviewLog(
        scheduler=SchedulerKind.SM2, quality=grade, reviewed_at=now,
        elapsed_days=elapsed_days(state, now), predicted_recall=sm2_recall(state, now),
        interval_days=interval,
    )  # fmt: skip
    return after, log


def after_answer(
    state: CardState, quality: Quality, *, now: datetime, interval_days: int, tz: str | ZoneInfo
) -> CardState:
    """The bookkeeping every scheduler shares: repetitions in a row, lapses, status, the
    local-day due date of `interval_days`, the review time."""
    if quality >= PASSING_QUALITY:
        repetitions, lapses = state.repetitions + 1, state.lapses
    else:
        # A lapse is forgetting something once known; failing a brand-new card is not one.
        repetitions, lapses = 0, state.lapses + (1 if state.repetitions > 0 else 0)
    if state.status is CardStatus.SUSPENDED:
        status = CardStatus.SUSPENDED
    else:
        status = status_in_play(repetitions=repetitions, reviewed=True)
    return replace(
        state,
        interval_days=interval_days,
        repetitions=repetitions,
        lapses=lapses,
        status=status,
        due_at=due_after(now, interval_days, tz=tz),
        last_reviewed_at=now,
    )


def _grade(quality: int, now: datetime) -> Quality:
    if not 0 <= quality <= 5:
        raise ValueError(f"quality {quality} is not 0-5")
    _require_utc(now, "now")
    return Quality(quality)


def _next_interval(*, reps: int, interval: int, ease: float) -> int:
    if reps <= 0:
        return FIRST_INTERVAL_DAYS
    if reps == 1:
        return SECOND_INTERVAL_DAYS
    # The published rule rounds a fractional interval up; max() guards hand-edited states.
    return max(interval, math.ceil(interval * ease), FIRST_INTERVAL_DAYS)


def local_day(moment: datetime, tz: str | ZoneInfo) -> date:
    """The calendar day `moment` falls on for someone living in `tz`."""
    return moment.astimezone(_zone(tz)).date()


def start_of_local_day(day: date, tz: str | ZoneInfo) -> datetime:
    """The UTC instant a local calendar day begins in `tz`."""
    return datetime.combine(day, time(0), tzinfo=_zone(tz)).astimezone(UTC)


def due_after(now: datetime, interval_days: int, *, tz: str | ZoneInfo = "UTC") -> datetime:
    """Start of the local day `interval_days` (>= 1) after today: always later than `now`."""
    if interval_days < 1:
        raise ValueError("an interval is at least one day")
    due = start_of_local_day(local_day(now, tz) + timedelta(days=interval_days), tz)
    # A DST gap at local midnight can move the instant by an hour; it stays in the future.
    return max(due, now + timedelta(seconds=1))


def user_zone(user: User) -> ZoneInfo:
    """The student's time zone; a stored name that no longer resolves falls back to UTC."""
    try:
        return ZoneInfo(user.tz or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _zone(tz: str | ZoneInfo) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)


def _require_utc(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() != timedelta(0):
        raise ValueError(f"{name} must be a UTC-aware datetime, got {value!r}")
