"""Experience points per answer and the levels they add up to.

XP rewards knowing and knowing that you know (calibration):
- a right answer earns 5 + 5 x difficulty (10 at difficulty 1, 30 at 5), scaled by how sure
  the student said they were: a guess earns half, "certain" earns one and a half;
- a wrong answer earns a little for honesty (2 when guessing or unsure, 1 when fairly sure)
  and nothing when the student was sure or certain: confident errors are what we want gone.
Levels grow quadratically: level n starts at 50 x n x (n - 1) XP (0, 100, 300, 600, ...).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from storage.enums import Confidence

# Multiplier on a right answer's XP by stated confidence; None = confidence never given.
RIGHT_MULTIPLIER = {
    Confidence.GUESSING: 0.5,
    Confidence.UNSURE: 0.75,
    Confidence.FAIRLY_SURE: 1.0,
    Confidence.SURE: 1.25,
    Confidence.CERTAIN: 1.5,
}
WRONG_XP = {
    Confidence.GUESSING: 2,
    Confidence.UNSURE: 2,
    Confidence.FAIRLY_SURE: 1,
    Confidence.SURE: 0,
    Confidence.CERTAIN: 0,
}
LEVEL_STEP_XP = 50
MAX_DIFFICULTY = 5


def base_xp(difficulty: int) -> int:
    """XP of a right answer at "fairly sure" for a question of this difficulty (1-5)."""
    return 5 + 5 * max(1, min(MAX_DIFFICULTY, difficulty))


def xp_for_answer(*, correct: bool, difficulty: int, confidence: int | None) -> int:
    """XP earned by one answer; never negative."""
    level = Confidence(confidence) if confidence is not None else Confidence.FAIRLY_SURE
    if not correct:
        return WRONG_XP[level]
    return round(base_xp(difficulty) * RIGHT_MULTIPLIER[level])


def level_threshold(level: int) -> int:
    """Total XP at which `level` (>= 1) begins."""
    return LEVEL_STEP_XP * level * (level - 1)


def level_for(xp: int) -> int:
    """The level a total of `xp` reaches (1 for 0 XP)."""
    # Solve 50 n (n - 1) <= xp for the largest n, then correct any float rounding.
    level = max(1, int((1 + math.sqrt(1 + 4 * max(0, xp) / LEVEL_STEP_XP)) / 2))
    while level_threshold(level + 1) <= xp:
        level += 1
    while level > 1 and level_threshold(level) > xp:
        level -= 1
    return level


@dataclass(frozen=True)
class LevelProgress:
    level: int
    xp: int
    xp_into_level: int
    xp_for_next: int  # XP still missing to reach the next level


def progress(xp: int) -> LevelProgress:
    """Where `xp` total sits between its level and the next."""
    level = level_for(xp)
    return LevelProgress(
        level=level,
        xp=xp,
        xp_into_level=xp - level_threshold(level),
        xp_for_next=level_threshold(level + 1) - xp,
    )
