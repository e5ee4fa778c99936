"""SM-2: the documented quality mapping and the schedule a student lives by."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.srs import (
    MIN_EASE,
    CardState,
    answer_budget_ms,
    due_after,
    local_day,
    new_card,
    quality_from,
    review,
)
from storage.enums import CardStatus

NOW = datetime(2026, 11, 23, 20, 30, tzinfo=UTC)
SHORT = 200  # characters of stem + options: a one-line cloze item


def reviewed(state: CardState, quality: int, **when: Any) -> CardState:
    return review(state, quality, **when)[0]


@pytest.mark.parametrize(
    ("correct", "confidence", "time_ms", "quality"),
    [
        (False, 5, 3_000, 0),  # certain and wrong: a misconception
        (False, 4, 3_000, 0),
        (False, 3, 3_000, 1),
        (False, None, 3_000, 1),
        (False, 2, 3_000, 2),  # knew they did not know
        (False, 1, 3_000, 2),
        (True, 1, 3_000, 3),  # a lucky guess
        (True, 2, 3_000, 3),
        (True, 5, 600_000, 3),  # right but ten minutes: laboured recall
        (True, 3, 3_000, 4),
        (True, None, 3_000, 4),
        (True, 4, 30_000, 4),  # sure but not fast
        (True, 4, 3_000, 5),  # sure and fast
        (True, 5, 3_000, 5),
    ],
)
def test_quality_mapping_is_the_documented_one(
    correct: bool, confidence: int | None, time_ms: int, quality: int
) -> None:
    assert (
        quality_from(correct=correct, confidence=confidence, time_ms=time_ms, question_chars=SHORT)
        == quality
    )


def test_a_long_vignette_earns_more_time_before_it_counts_as_slow() -> None:
    took = 30_000
    short = quality_from(correct=True, confidence=5, time_ms=took, question_chars=SHORT)
    vignette = quality_from(correct=True, confidence=5, time_ms=took, question_chars=1_200)
    assert (short, vignette) == (4, 5)
    assert answer_budget_ms(1_200) > took > answer_budget_ms(SHORT)


def test_confidence_outside_one_to_five_is_refused() -> None:
    with pytest.raises(ValueError):
        quality_from(correct=True, confidence=6, time_ms=1, question_chars=1)


def test_classic_intervals_one_six_then_times_ease() -> None:
    card = new_card(NOW)
    days = []
    moment = NOW
    for _ in range(4):
        card = reviewed(card, 4, now=moment)
        days.append(card.interval_days)
        moment = card.due_at
    assert days == [1, 6, 15, 38]  # EF stays 2.5 at q=4: round(6*2.5)=15, round(15*2.5)=38
    assert card.status is CardStatus.REVIEW
    assert card.ease_factor == pytest.approx(2.5)


def test_a_first_answer_is_due_tomorrow_in_the_students_time_zone() -> None:
    kolkata = ZoneInfo("Asia/Kolkata")
    late_evening = datetime(2026, 11, 23, 17, 45, tzinfo=UTC)  # 23:15 in Kolkata
    card = reviewed(new_card(late_evening), 5, now=late_evening, tz=kolkata)
    assert local_day(card.due_at, kolkata) == date(2026, 11, 24)
    assert card.due_at.astimezone(kolkata).hour == 0  # all of tomorrow counts
    assert card.due_at - late_evening < timedelta(hours=1)


def test_a_lapse_resets_repetitions_and_counts_once_known() -> None:
    card = reviewed(reviewed(new_card(NOW), 5, now=NOW), 5, now=NOW + timedelta(days=1))
    assert card.repetitions == 2 and card.lapses == 0
    lapsed = reviewed(card, 0, now=NOW + timedelta(days=7))
    assert (lapsed.repetitions, lapsed.interval_days, lapsed.lapses) == (0, 1, 1)
    assert lapsed.status is CardStatus.LEARNING
    assert lapsed.ease_factor < card.ease_factor
    # Failing a card never known is not a lapse.
    assert reviewed(new_card(NOW), 1, now=NOW).lapses == 0


def test_review_copies_and_never_mutates() -> None:
    card = new_card(NOW)
    after = reviewed(card, 5, now=NOW)
    assert card == new_card(NOW)
    assert after is not card and after.repetitions == 1


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        new_card(datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        reviewed(new_card(NOW), 4, now=datetime(2026, 1, 1))


def test_due_after_refuses_a_zero_interval() -> None:
    with pytest.raises(ValueError):
        due_after(NOW, 0)


moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
)
zones = st.sampled_from(["UTC", "Asia/Kolkata", "America/New_York", "Pacific/Chatham",
                         "America/Santiago", "Australia/Lord_Howe"])  # fmt: skip
states = st.builds(
    CardState,
    due_at=moments,
    ease_factor=st.floats(min_value=MIN_EASE, max_value=4.0),
    interval_days=st.integers(min_value=0, max_value=3650),
    repetitions=st.integers(min_value=0, max_value=50),
    lapses=st.integers(min_value=0, max_value=50),
)


@given(states, st.integers(min_value=0, max_value=5), moments, zones)
def test_ease_never_below_floor_and_due_always_in_the_future(
    state: CardState, quality: int, now: datetime, tz: str
) -> None:
    after = reviewed(state, quality, now=now, tz=tz)
    assert after.ease_factor >= MIN_EASE
    assert after.due_at > now
    assert after.interval_days >= 1


@given(states, st.integers(min_value=3, max_value=5), moments)
def test_interval_never_shrinks_on_a_pass_after_the_second_review(
    state: CardState, quality: int, now: datetime
) -> None:
    if state.repetitions < 2:
        state = CardState(**{**state.__dict__, "repetitions": 2})
    after = reviewed(state, quality, now=now)
    assert after.interval_days >= state.interval_days
    assert after.repetitions == state.repetitions + 1


@given(st.lists(st.integers(min_value=0, max_value=5), min_size=1, max_size=30), moments, zones)
def test_any_history_of_answers_keeps_the_card_sane(
    qualities: list[int], start: datetime, tz: str
) -> None:
    card = new_card(start)
    now = start
    for quality in qualities:
        card = reviewed(card, quality, now=now, tz=tz)
        assert card.due_at > now and card.ease_factor >= MIN_EASE
        now = card.due_at + timedelta(hours=3)
