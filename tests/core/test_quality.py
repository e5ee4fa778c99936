"""The quality score, observed difficulty and retirement thresholds (core/quality.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import quality
from core.quality import Usage


@st.composite
def usages(draw: st.DrawFn) -> Usage:
    answers = draw(st.integers(0, 500))
    rated = draw(st.integers(0, answers))
    return Usage(
        answers=answers,
        right=draw(st.integers(0, answers)),
        rated=rated,
        confidently_wrong=draw(st.integers(0, rated)),
        time_ratio=draw(st.none() | st.floats(0, 100, allow_nan=False)),
        students=draw(st.integers(0, 300)),
        reports=draw(st.integers(0, 300)),
    )


@given(usages())
def test_quality_is_between_0_and_1(usage: Usage) -> None:
    assert 0.0 <= quality.quality(usage) <= 1.0


@given(usages(), st.integers(1, 50))
def test_more_reports_never_raise_quality(usage: Usage, more: int) -> None:
    reported = Usage(**{**usage.__dict__, "reports": usage.reports + more})
    assert quality.quality(reported) <= quality.quality(usage)


@given(usages())
def test_more_confidently_wrong_answers_never_raise_quality(usage: Usage) -> None:
    if usage.confidently_wrong < usage.rated:
        worse = Usage(**{**usage.__dict__, "confidently_wrong": usage.confidently_wrong + 1})
        assert quality.quality(worse) <= quality.quality(usage)


@given(usages())
def test_observed_difficulty_is_1_to_5_and_only_with_enough_answers(usage: Usage) -> None:
    observed = quality.observed_difficulty(usage)
    if usage.answers < quality.OBSERVED_MIN_ANSWERS:
        assert observed is None
    else:
        assert observed is not None and 1.0 <= observed <= 5.0


def test_items_inside_the_target_band_score_best() -> None:
    inside = Usage(answers=20, right=12, rated=20, confidently_wrong=0, time_ratio=0.8)
    everyone_right = Usage(answers=20, right=20, rated=20, time_ratio=0.8)
    everyone_wrong = Usage(answers=20, right=0, rated=20, time_ratio=0.8)
    assert quality.quality(inside) == pytest.approx(1.0)
    assert quality.quality(everyone_right) == pytest.approx(0.65)
    assert quality.quality(everyone_wrong) == pytest.approx(0.65)


def test_a_misleading_slow_item_falls_under_the_floor_only_after_enough_answers() -> None:
    misleading = Usage(answers=20, right=0, rated=20, confidently_wrong=20, time_ratio=1.0)
    assert quality.quality(misleading) == pytest.approx(0.40)
    assert quality.below_floor(misleading)
    young = Usage(answers=19, right=0, rated=19, confidently_wrong=19, time_ratio=1.0)
    assert not quality.below_floor(young)
    everyone_right = Usage(answers=40, right=40, rated=40, time_ratio=0.5)
    assert not quality.below_floor(everyone_right)


def test_slow_answers_lower_the_timing_score_down_to_zero_at_three_budgets() -> None:
    assert quality.timing_score(Usage(time_ratio=1.0)) == 1.0
    assert quality.timing_score(Usage(time_ratio=2.0)) == pytest.approx(0.5)
    assert quality.timing_score(Usage(time_ratio=3.5)) == 0.0


@pytest.mark.parametrize(
    ("students", "needed"),
    [(1, 1), (2, 2), (3, 2), (4, 3), (10, 3), (30, 3), (31, 4), (50, 5), (200, 20)],
)
def test_reports_needed_to_retire(students: int, needed: int) -> None:
    assert quality.reports_needed(students) == needed
    assert quality.retired_by_reports(reports=needed, students=students)
    assert not quality.retired_by_reports(reports=needed - 1, students=students)


def test_observed_difficulty_follows_the_share_of_right_answers() -> None:
    easy = quality.observed_difficulty(Usage(answers=18, right=17))
    hard = quality.observed_difficulty(Usage(answers=18, right=2))
    middling = quality.observed_difficulty(Usage(answers=18, right=9))
    assert easy is not None and hard is not None and middling == pytest.approx(3.0)
    assert easy == pytest.approx(1.4) and hard == pytest.approx(4.4)


def test_impossible_usage_is_refused() -> None:
    with pytest.raises(ValueError):
        Usage(answers=3, right=4)
    with pytest.raises(ValueError):
        Usage(answers=3, rated=1, confidently_wrong=2)
