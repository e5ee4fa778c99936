"""How good a stored question has proved in use: its quality score, its observed difficulty,
and the rules that take it out of circulation. Pure functions over a usage summary.

Quality (0..1) is a weighted sum of four scores, each in [0, 1]:

    quality = 0.35 * success + 0.25 * calibration + 0.15 * timing + 0.25 * reports

- success: the share of right answers p against the target band [0.30, 0.85]. Inside the
  band it is 1; below it falls linearly to 0 at p = 0 (p / 0.30), above it to 0 at p = 1
  ((1 - p) / 0.15). An item everyone gets right, or everyone gets wrong, tells the
  students nothing about what they know.
- calibration: 1 minus the share of confidently wrong answers (confidence 4-5 and wrong)
  among answers that carried a confidence. Many sure-and-wrong students flag a misleading
  item or a wrong key. No rated answer yet: 1 (no evidence against it).
- timing: the median answer time over the item's reading budget (core.srs.answer_budget_ms).
  Within the budget it is 1; it falls linearly to 0 at SLOW_FACTOR (3) budgets: an item
  that takes three times the reading time to answer is confusing. No answer yet: 1.
- reports: 1 - 5 x (reports / students who answered), floored at 0: a 10% report share
  (the retirement line) halves it, 20% zeroes it. Never increases with more reports.

The weights sum to 1, so quality stays in [0, 1].

Observed difficulty (1..5) replaces the generator's prediction once OBSERVED_MIN_ANSWERS
answers exist: 1 + 4 x (1 - p'), with p' = (right + 1) / (answers + 2) (Laplace-smoothed so a
short run of one outcome does not pin it to an end). p' = 0.9 gives 1.4, 0.5 gives 3.0.

Retirement: by reports, when reports >= ceil(10% of the students who answered) and either
at least MIN_REPORTS (3) reported or more than half of those students did. The second arm
is what lets a small group (two of three members) or a private question (its only student)
retire an item; in a large group the 10% share with at least three reports decides. By
quality, when quality < QUALITY_FLOOR (0.45) after at least FLOOR_MIN_ANSWERS (20) answers:
two bad signals are needed (e.g. everyone wrong and sure of it scores 0.40; an item everyone
gets right still scores 0.65 and stays, only ranked below better ones).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.srs import SLOW_FACTOR

W_SUCCESS = 0.35
W_CALIBRATION = 0.25
W_TIMING = 0.15
W_REPORTS = 0.25

TARGET_LOW = 0.30
TARGET_HIGH = 0.85
CONFIDENT = 4  # Confidence.SURE and above
REPORT_PENALTY = 5.0

OBSERVED_MIN_ANSWERS = 8
QUALITY_FLOOR = 0.45
FLOOR_MIN_ANSWERS = 20
REPORT_SHARE = 0.10
MIN_REPORTS = 3
# A stored item nobody has answered yet ranks as if it scored this (between the floor and 1).
UNRATED_QUALITY = 0.6


@dataclass(frozen=True)
class Usage:
    """How a question has been answered so far (all students, all sources)."""

    answers: int = 0
    right: int = 0
    # Answers that carried a confidence rating, and the wrong ones among them rated 4-5.
    rated: int = 0
    confidently_wrong: int = 0
    # Median answer time over the item's reading budget; None without answers.
    time_ratio: float | None = None
    students: int = 0
    reports: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.right <= self.answers:
            raise ValueError("right answers must be between 0 and the answers")
        if not 0 <= self.confidently_wrong <= self.rated:
            raise ValueError("confidently wrong answers must be among the rated ones")
        if self.students < 0 or self.reports < 0:
            raise ValueError("counts cannot be negative")


def success_score(usage: Usage) -> float:
    if usage.answers == 0:
        return 1.0
    p = usage.right / usage.answers
    if p < TARGET_LOW:
        return p / TARGET_LOW
    if p > TARGET_HIGH:
        return (1 - p) / (1 - TARGET_HIGH)
    return 1.0


def calibration_score(usage: Usage) -> float:
    if usage.rated == 0:
        return 1.0
    return 1 - usage.confidently_wrong / usage.rated


def timing_score(usage: Usage) -> float:
    ratio = usage.time_ratio
    if ratio is None or ratio <= 1:
        return 1.0
    return max(0.0, (SLOW_FACTOR - ratio) / (SLOW_FACTOR - 1))


def reports_score(usage: Usage) -> float:
    if usage.reports == 0:
        return 1.0
    share = usage.reports / max(usage.students, usage.reports, 1)
    return max(0.0, 1 - REPORT_PENALTY * share)


def quality(usage: Usage) -> float:
    """The item's quality in [0, 1] (formula and weights in the module docstring)."""
    score = (
        W_SUCCESS * success_score(usage)
        + W_CALIBRATION * calibration_score(usage)
        + W_TIMING * timing_score(usage)
        + W_REPORTS * reports_score(usage)
    )
    return min(1.0, max(0.0, score))


def observed_difficulty(usage: Usage) -> float | None:
    """1 (easy) .. 5 (hard) from the share of right answers; None with too few answers."""
    if usage.answers < OBSERVED_MIN_ANSWERS:
        return None
    smoothed = (usage.right + 1) / (usage.answers + 2)
    return round(1 + 4 * (1 - smoothed), 2)


def reports_needed(students: int) -> int:
    """How many reports retire a question that `students` students answered."""
    share = max(1, math.ceil(REPORT_SHARE * students))
    majority = students // 2 + 1
    return max(share, min(MIN_REPORTS, majority))


def retired_by_reports(*, reports: int, students: int) -> bool:
    return reports > 0 and reports >= reports_needed(max(students, reports))


def below_floor(usage: Usage) -> bool:
    return usage.answers >= FLOOR_MIN_ANSWERS and quality(usage) < QUALITY_FLOOR
