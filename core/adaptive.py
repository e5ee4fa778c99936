"""Adaptive difficulty: the last N answers of a student in a topic move the level of new
questions up or down.

The window holds the newest WINDOW answers (correct?, difficulty). With fewer than
MIN_SAMPLES answers there is not enough evidence and the default level stands. Otherwise
the level is the window's mean difficulty, rounded, then one step up when accuracy is at
least STEP_UP_ACCURACY and one step down when it is below STEP_DOWN_ACCURACY, clamped
to 1-5. Because old answers slide out of the window, a student who keeps succeeding keeps
climbing and one who starts failing comes back down within a few questions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WINDOW = 8
MIN_SAMPLES = 4
STEP_UP_ACCURACY = 0.8
STEP_DOWN_ACCURACY = 0.5
DEFAULT_DIFFICULTY = 3
EASIEST, HARDEST = 1, 5


@dataclass(frozen=True)
class AnswerSample:
    correct: bool
    difficulty: int


def target_difficulty(
    newest_first: Sequence[AnswerSample], *, default: int = DEFAULT_DIFFICULTY
) -> int:
    """The difficulty (1-5) to ask next, from the student's newest answers first."""
    window = list(newest_first[:WINDOW])
    if len(window) < MIN_SAMPLES:
        return _clamp(default)
    accuracy = sum(sample.correct for sample in window) / len(window)
    level = round(sum(_clamp(sample.difficulty) for sample in window) / len(window))
    if accuracy >= STEP_UP_ACCURACY:
        level += 1
    elif accuracy < STEP_DOWN_ACCURACY:
        level -= 1
    return _clamp(level)


def _clamp(level: int) -> int:
    return max(EASIEST, min(HARDEST, level))


@dataclass(frozen=True)
class StudentLevel:
    """How a student is doing in a topic, for whoever writes their next questions: the
    number of recent answers (at most WINDOW) and the share of them that were right."""

    answered: int = 0
    accuracy: float | None = None

    @property
    def band(self) -> str:
        """ "new" (too few answers to tell), "struggling", "progressing" or "strong"; the
        same cut points that move adaptive difficulty down or up."""
        if self.accuracy is None or self.answered < MIN_SAMPLES:
            return "new"
        if self.accuracy < STEP_DOWN_ACCURACY:
            return "struggling"
        return "strong" if self.accuracy >= STEP_UP_ACCURACY else "progressing"


def student_level(newest_first: Sequence[AnswerSample]) -> StudentLevel:
    """The student's level from their newest answers first (the same window as difficulty)."""
    window = list(newest_first[:WINDOW])
    if not window:
        return StudentLevel()
    return StudentLevel(len(window), sum(s.correct for s in window) / len(window))
