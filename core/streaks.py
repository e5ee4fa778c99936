"""Daily study streaks in the student's own time zone, with one freeze per ISO week.

A day counts when the student answers at least one question on it (their local calendar
day). Studying on consecutive days grows the streak. Missing exactly one day is forgiven by
the week's freeze if it is still unspent for the ISO week of the missed day; the missed day
does not add to the streak, it only keeps it alive. Anything longer starts over at 1.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from core.srs import local_day


class StreakEvent(StrEnum):
    STARTED = "started"  # first day ever, or a new streak after a break
    EXTENDED = "extended"  # studied yesterday too
    FROZEN = "frozen"  # one missed day forgiven by this week's freeze
    SAME_DAY = "same_day"  # already counted today


@dataclass(frozen=True)
class StreakState:
    streak: int = 0
    best_streak: int = 0
    last_study_day: date | None = None
    # ISO week ("2026-W47") whose freeze is spent; "" when none has been.
    freeze_used_week: str = ""


def iso_week(day: date) -> str:
    """The ISO week a day belongs to, as stored in users.freeze_used_week."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def record_study(
    state: StreakState, *, now: datetime, tz: str | ZoneInfo
) -> tuple[StreakState, StreakEvent]:
    """The streak after studying at `now`. Pure; idempotent within a local day."""
    today = local_day(now, tz)
    last = state.last_study_day
    if last is not None and last >= today:
        # Same day (or a clock that went back across a time-zone change): nothing to add.
        return state, StreakEvent.SAME_DAY
    if last == today - timedelta(days=1):
        return _grown(state, today, state.streak + 1), StreakEvent.EXTENDED
    missed = today - timedelta(days=1)
    if last == today - timedelta(days=2) and _freeze_available(state, missed):
        grown = _grown(state, today, state.streak + 1)
        return replace(grown, freeze_used_week=iso_week(missed)), StreakEvent.FROZEN
    return _grown(state, today, 1), StreakEvent.STARTED


def current_streak(state: StreakState, *, now: datetime, tz: str | ZoneInfo) -> int:
    """The streak as it stands at `now`: still alive today if studying today would extend it."""
    if state.last_study_day is None:
        return 0
    today = local_day(now, tz)
    gap = (today - state.last_study_day).days
    if gap <= 1:
        return state.streak
    if gap == 2 and _freeze_available(state, today - timedelta(days=1)):
        return state.streak
    return 0


def _freeze_available(state: StreakState, missed: date) -> bool:
    return state.freeze_used_week != iso_week(missed)


def _grown(state: StreakState, today: date, streak: int) -> StreakState:
    return replace(
        state, streak=streak, best_streak=max(state.best_streak, streak), last_study_day=today
    )
