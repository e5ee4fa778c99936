"""What the scheduler pushes: the due-review reminder, the weekly digest, the streak nudge."""

from __future__ import annotations

import math

START_REVIEW = "Start review"
# About 30 s per card (read, answer, rate confidence): "12 cards due — about 6 minutes".
SECONDS_PER_CARD = 30


def review_minutes(due_count: int) -> int:
    """Minutes a review of `due_count` cards takes, at least one."""
    return max(1, math.ceil(due_count * SECONDS_PER_CARD / 60))


def reminder_text(due_count: int) -> str:
    minutes = review_minutes(due_count)
    cards = "card" if due_count == 1 else "cards"
    unit = "minute" if minutes == 1 else "minutes"
    return f"{due_count} {cards} due — about {minutes} {unit}"


def due_reviews_text(due: int) -> str:
    return (
        f"{reminder_text(due)}\nReviewing today keeps them fresh. (/settings to change the time)"
    )


def weekly_digest_text(
    *, answered: int, correct: int, streak: int, level: int, xp: int, due: int
) -> str:
    if answered:
        lines = [f"Your week: {answered} answered, {round(100 * correct / answered)}% correct."]
    else:
        lines = ["Your week: no answers yet — a short review gets you going again."]
    lines.append(f"Streak: {streak} day{'s' if streak != 1 else ''} · level {level} · {xp} XP")
    if due:
        lines.append(reminder_text(due))
    return "\n".join(lines)


def streak_nudge_text(*, streak: int, answered: int, goal: int, due: int) -> str:
    head = f"Your {streak}-day streak is at risk"
    if answered:
        head += f": {answered} of your {goal} answered today."
    else:
        head += ": nothing answered yet today."
    tail = reminder_text(due) if due else "Send /quiz for a few new questions."
    return f"{head}\n{tail}"
