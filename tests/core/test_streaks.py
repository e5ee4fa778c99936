"""Daily streaks in the student's time zone, with one freeze per ISO week."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from core.streaks import StreakEvent, StreakState, current_streak, iso_week, record_study

UTC_TZ = "UTC"


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


MONDAY = date(2026, 11, 23)


def test_first_day_starts_a_streak_and_a_second_answer_that_day_changes_nothing() -> None:
    state, event = record_study(StreakState(), now=at(MONDAY), tz=UTC_TZ)
    assert (state.streak, state.best_streak, event) == (1, 1, StreakEvent.STARTED)
    again, event = record_study(state, now=at(MONDAY, 22), tz=UTC_TZ)
    assert again == state and event is StreakEvent.SAME_DAY


def test_consecutive_days_extend() -> None:
    state = StreakState()
    for offset in range(5):
        state, _ = record_study(state, now=at(MONDAY + timedelta(days=offset)), tz=UTC_TZ)
    assert state.streak == 5 and state.best_streak == 5


def test_one_missed_day_is_frozen_once_per_iso_week() -> None:
    state = StreakState(streak=4, best_streak=4, last_study_day=MONDAY)
    # Missed Tuesday, studied Wednesday: the week's freeze keeps the streak.
    state, event = record_study(state, now=at(MONDAY + timedelta(days=2)), tz=UTC_TZ)
    assert (state.streak, event) == (5, StreakEvent.FROZEN)
    assert state.freeze_used_week == iso_week(MONDAY) == "2026-W48"
    # Missed Thursday too: the freeze is spent for this week, so the streak restarts.
    state, event = record_study(state, now=at(MONDAY + timedelta(days=4)), tz=UTC_TZ)
    assert (state.streak, state.best_streak, event) == (1, 5, StreakEvent.STARTED)


def test_the_freeze_comes_back_next_week() -> None:
    spent_last_week = iso_week(MONDAY - timedelta(days=7))
    state = StreakState(streak=3, best_streak=3, last_study_day=MONDAY,
                        freeze_used_week=spent_last_week)  # fmt: skip
    state, event = record_study(state, now=at(MONDAY + timedelta(days=2)), tz=UTC_TZ)
    assert event is StreakEvent.FROZEN and state.streak == 4
    # ...but a day missed on Sunday belongs to last week, whose freeze is spent.
    late = StreakState(streak=3, best_streak=3, last_study_day=MONDAY - timedelta(days=2),
                       freeze_used_week=spent_last_week)  # fmt: skip
    assert record_study(late, now=at(MONDAY), tz=UTC_TZ)[1] is StreakEvent.STARTED


def test_two_missed_days_break_the_streak() -> None:
    state = StreakState(streak=9, best_streak=9, last_study_day=MONDAY)
    state, event = record_study(state, now=at(MONDAY + timedelta(days=3)), tz=UTC_TZ)
    assert (state.streak, state.best_streak, event) == (1, 9, StreakEvent.STARTED)


def test_the_day_is_the_students_local_day() -> None:
    # 23:30 in Kolkata on Monday is 18:00 UTC; 00:30 Tuesday there is 19:00 UTC Monday.
    state, _ = record_study(
        StreakState(), now=datetime(2026, 11, 23, 18, 0, tzinfo=UTC), tz="Asia/Kolkata"
    )
    state, event = record_study(
        state, now=datetime(2026, 11, 23, 19, 0, tzinfo=UTC), tz="Asia/Kolkata"
    )
    assert (state.streak, event) == (2, StreakEvent.EXTENDED)
    # The same two moments are one day in UTC.
    utc_state, _ = record_study(
        StreakState(), now=datetime(2026, 11, 23, 18, tzinfo=UTC), tz="UTC"
    )
    utc_state, event = record_study(
        utc_state, now=datetime(2026, 11, 23, 19, tzinfo=UTC), tz="UTC"
    )
    assert (utc_state.streak, event) == (1, StreakEvent.SAME_DAY)


def test_current_streak_shows_zero_once_it_cannot_be_saved() -> None:
    state = StreakState(streak=6, best_streak=6, last_study_day=MONDAY)
    assert current_streak(state, now=at(MONDAY + timedelta(days=1)), tz=UTC_TZ) == 6
    assert current_streak(state, now=at(MONDAY + timedelta(days=2)), tz=UTC_TZ) == 6  # freeze
    assert current_streak(state, now=at(MONDAY + timedelta(days=3)), tz=UTC_TZ) == 0
    assert current_streak(StreakState(), now=at(MONDAY), tz=UTC_TZ) == 0


@given(st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=60))
def test_best_streak_is_never_below_the_streak(gaps: list[int]) -> None:
    state, day = StreakState(), MONDAY
    for gap in gaps:
        day += timedelta(days=gap)
        state, _ = record_study(state, now=at(day), tz=UTC_TZ)
        assert 1 <= state.streak <= state.best_streak
        assert state.last_study_day == day
