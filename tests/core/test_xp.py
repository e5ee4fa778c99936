"""XP rewards knowing and knowing that you know; levels add up."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.xp import level_for, level_threshold, progress, xp_for_answer


def test_sure_and_right_earns_more_than_a_lucky_guess() -> None:
    guess = xp_for_answer(correct=True, difficulty=3, confidence=1)
    sure = xp_for_answer(correct=True, difficulty=3, confidence=4)
    certain = xp_for_answer(correct=True, difficulty=3, confidence=5)
    assert guess < sure < certain
    assert (guess, sure, certain) == (10, 25, 30)


def test_sure_and_wrong_earns_nothing_but_honest_doubt_earns_a_little() -> None:
    assert xp_for_answer(correct=False, difficulty=5, confidence=5) == 0
    assert xp_for_answer(correct=False, difficulty=5, confidence=4) == 0
    assert xp_for_answer(correct=False, difficulty=5, confidence=1) == 2
    assert xp_for_answer(correct=False, difficulty=1, confidence=3) == 1


def test_harder_questions_are_worth_more() -> None:
    earned = [xp_for_answer(correct=True, difficulty=d, confidence=3) for d in range(1, 6)]
    assert earned == [10, 15, 20, 25, 30]


def test_missing_confidence_counts_as_fairly_sure() -> None:
    assert xp_for_answer(correct=True, difficulty=2, confidence=None) == 15


@pytest.mark.parametrize(
    ("xp", "level"), [(0, 1), (99, 1), (100, 2), (299, 2), (300, 3), (600, 4), (10_000, 14)]
)
def test_levels_start_at_documented_thresholds(xp: int, level: int) -> None:
    assert level_for(xp) == level


def test_progress_to_next_level() -> None:
    assert progress(130) == progress(130).__class__(
        level=2, xp=130, xp_into_level=30, xp_for_next=170
    )


@given(st.integers(min_value=0, max_value=10_000_000))
def test_level_is_consistent_with_thresholds(xp: int) -> None:
    level = level_for(xp)
    assert level_threshold(level) <= xp < level_threshold(level + 1)


@given(st.booleans(), st.integers(min_value=1, max_value=5), st.integers(min_value=1, max_value=5))
def test_xp_is_never_negative(correct: bool, difficulty: int, confidence: int) -> None:
    assert xp_for_answer(correct=correct, difficulty=difficulty, confidence=confidence) >= 0
