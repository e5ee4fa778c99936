"""Adaptive difficulty follows the student's last answers in a topic."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core.adaptive import WINDOW, AnswerSample, student_level, target_difficulty


def answers(pattern: str, difficulty: int) -> list[AnswerSample]:
    """'1' = right, '0' = wrong, newest first."""
    return [AnswerSample(ch == "1", difficulty) for ch in pattern]


def test_too_few_answers_keep_the_default() -> None:
    assert target_difficulty(answers("111", 5)) == 3
    assert target_difficulty(answers("111", 5), default=2) == 2


def test_doing_well_moves_up_and_struggling_moves_down() -> None:
    assert target_difficulty(answers("11111", 3)) == 4
    assert target_difficulty(answers("00010", 3)) == 2
    assert target_difficulty(answers("11010", 3)) == 3  # 60%: stay


def test_bounds_hold_at_both_ends() -> None:
    assert target_difficulty(answers("1" * 8, 5)) == 5
    assert target_difficulty(answers("0" * 8, 1)) == 1


def test_only_the_window_counts() -> None:
    recent_good = answers("1" * WINDOW, 3) + answers("0" * 20, 3)
    assert target_difficulty(recent_good) == 4


def test_a_student_who_keeps_succeeding_keeps_climbing() -> None:
    history: list[AnswerSample] = []
    level = 3
    for _ in range(30):
        level = target_difficulty(history)
        history.insert(0, AnswerSample(True, level))
    assert level == 5


@given(st.lists(st.tuples(st.booleans(), st.integers(min_value=-3, max_value=9)), max_size=20))
def test_always_a_valid_level(samples: list[tuple[bool, int]]) -> None:
    level = target_difficulty([AnswerSample(c, d) for c, d in samples])
    assert 1 <= level <= 5


def test_the_students_level_reads_the_same_window_as_difficulty() -> None:
    assert student_level([]).band == "new"
    assert student_level(answers("111", 3)).band == "new"  # too few answers to tell
    struggling = student_level(answers("00100", 3))
    assert (struggling.answered, struggling.accuracy, struggling.band) == (5, 0.2, "struggling")
    assert student_level(answers("10110", 3)).band == "progressing"
    # Only the newest WINDOW answers count: old failures slide out.
    strong = student_level(answers("1" * WINDOW + "0" * 20, 3))
    assert (strong.answered, strong.accuracy, strong.band) == (WINDOW, 1.0, "strong")
