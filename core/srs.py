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

SM-2 itself is the classic algorithm: EF' = EF + 0.1 - (5-q)(0.08 + 0.02(5-q)), floor 1.3;
passes give intervals 1, 6, then round(interval x EF) days (with the EF before this review);
a lapse resets repetitions to 0 and the interval to 1 day.

Due dates are whole days in the student's time zone: a card with an interval of n days is
due at the start of the n-th local day after today, so "due tomorrow" means all of tomorrow
(the review reminder at 08:00 includes a card answered at 20:00 the evening before).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from storage.enums import CardStatus, Confidence

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

    def __post_init__(self) -> None:
        _require_utc(self.due_at, "due_at")
        if self.last_reviewed_at is not None:
            _require_utc(self.last_reviewed_at, "last_reviewed_at")


def new_card(now: datetime) -> CardState:
    """A card never reviewed; due immediately."""
    _require_utc(now, "now")
    return CardState(due_at=now)


def answer_budget_ms(question_chars: int) -> int:
    """Milliseconds a prepared student needs for a question of this many characters."""
    return THINK_MS + READ_MS_PER_CHAR * max(0, question_chars)


def quality_from(
    *, correct: bool, confidence: int | None, time_ms: int | None, question_chars: int
) -> int:
    """SM-2 quality 0-5 from one answer (the mapping is in the module docstring)."""
    if confidence is not None and not Confidence.GUESSING <= confidence <= Confidence.CERTAIN:
        raise ValueError(f"confidence {confidence} is not 1-5")
    if not correct:
        if confidence is None:
            return 1
        if confidence >= Confidence.SURE:
            return 0
        return 2 if confidence <= Confidence.UNSURE else 1
    budget = answer_budget_ms(question_chars)
    if confidence is not None and confidence <= Confidence.UNSURE:
        return 3
    if time_ms is not None and time_ms > SLOW_FACTOR * budget:
        return 3
    fast = time_ms is not None and time_ms <= budget
    if confidence is not None and confidence >= Confidence.SURE and fast:
        return 5
    return 4


def status_in_play(*, repetitions: int, reviewed: bool) -> CardStatus:
    """The status of a card in circulation: review after two passes in a row, learning once
    seen, new before (also what a suspended card returns to when its question is restored)."""
    if repetitions >= 2:
        return CardStatus.REVIEW
    return CardStatus.LEARNING if reviewed else CardStatus.NEW


def next_ease(ease_factor: float, quality: int) -> float:
    """SM-2's ease update, never below 1.3."""
    miss = 5 - quality
    return max(MIN_EASE, ease_factor + 0.1 - miss * (0.08 + miss * 0.02))


def review(
    state: CardState, quality: int, *, now: datetime, tz: str | ZoneInfo = "UTC"
) -> CardState:
    """Returns the card after an answer of `quality` at `now`. Pure; `state` is unchanged."""
    if not 0 <= quality <= 5:
        raise ValueError(f"quality {quality} is not 0-5")
    _require_utc(now, "now")
    if quality >= PASSING_QUALITY:
        interval = _next_interval(reps=state.repetitions, interval=state.interval_days,
                                  ease=state.ease_factor)  # fmt: skip
        repetitions = state.repetitions + 1
        lapses = state.lapses
    else:
        interval = FIRST_INTERVAL_DAYS
        repetitions = 0
        # A lapse is forgetting something once known; failing a brand-new card is not one.
        lapses = state.lapses + (1 if state.repetitions > 0 else 0)
    if state.status is CardStatus.SUSPENDED:
        status = CardStatus.SUSPENDED
    else:
        status = status_in_play(repetitions=repetitions, reviewed=True)
    return replace(
        state,
        ease_factor=next_ease(state.ease_factor, quality),
        interval_days=interval,
        repetitions=repetitions,
        lapses=lapses,
        status=status,
        due_at=due_after(now, interval, tz=tz),
        last_reviewed_at=now,
    )


def _next_interval(*, reps: int, interval: int, ease: float) -> int:
    if reps <= 0:
        return FIRST_INTERVAL_DAYS
    if reps == 1:
        return SECOND_INTERVAL_DAYS
    # EF >= 1.3 makes round(I x EF) >= I already; max() guards states edited by hand.
    return max(interval, round(interval * ease), FIRST_INTERVAL_DAYS)


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


def _zone(tz: str | ZoneInfo) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)


def _require_utc(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() != timedelta(0):
        raise ValueError(f"{name} must be a UTC-aware datetime, got {value!r}")
