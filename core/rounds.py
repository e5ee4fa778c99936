"""Group quiz rounds, the pure part: limits, scoring, ranking, the timeline and the texts.

Scoring (one answer to one question of a round, window T = the question's seconds):

    wrong or no answer  -> 0 points, and the member's streak resets to 0
    right after t ms    -> BASE_POINTS + round(SPEED_POINTS x (1 - t / T))
                           + STREAK_STEP x min(streak_before, STREAK_CAP)

with BASE_POINTS = 500, SPEED_POINTS = 500, STREAK_STEP = 100, STREAK_CAP = 5 and t clamped
to [0, T]. So a right answer is worth 500-1,000 before the streak: an instant answer 1,000,
one at the buzzer 500 (being right always beats being fast). `streak_before` counts the
member's right answers in a row on the questions just before this one in the same round
(an unanswered question breaks it), so the 2nd right answer in a row earns +100, the 3rd
+200, up to +500 from the 6th on. The highest score for one answer is 1,500.

Example with 5-second questions: right in 1.0 s with no streak = 500 + 400 = 900; the next
right in 2.5 s = 500 + 250 + 100 = 850; a wrong one then scores 0 and the streak restarts.

Ranking: total score, then number right, then less total time on the right answers, then
name. Members with equal score and equal number right share a rank (1, 1, 3).
Accuracy is right / answered.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from core.buttons import encode
from core.errors import RoundsError

DEFAULT_QUESTIONS = 10
DEFAULT_SECONDS = 30
MIN_QUESTIONS = 1
MAX_QUESTIONS = 20
MIN_SECONDS = 5
MAX_SECONDS = 120
# The "get ready" message stands this long before the first question.
COUNTDOWN_SECONDS = 5
# A closed question shows its key this long before the next one is posted.
REVEAL_SECONDS = 3
# A step overdue by more than this (the bot was down) ends the round instead of resuming
# it: nobody is still sitting in front of a question posted ten minutes ago.
STALE_AFTER = timedelta(minutes=10)

BASE_POINTS = 500
SPEED_POINTS = 500
STREAK_STEP = 100
STREAK_CAP = 5

# The button action a round question's options carry: `ra:<item token>:<option index>`.
ANSWER_ACTION = "ra"
LETTERS = "ABCDEFGH"
UNNAMED = "member"


class RoundTimer(Protocol):
    """Wakes a round at `at` (scheduler/rounds.py books a date job); wired in bot/app.py."""

    def wake(self, round_id: int, at: datetime) -> None: ...


class RoundLimitError(RoundsError):
    user_message = (
        f"A round is /round [topic] [questions {MIN_QUESTIONS}-{MAX_QUESTIONS}] "
        f"[seconds {MIN_SECONDS}-{MAX_SECONDS}], e.g. /round cardiology 10 30."
    )


@dataclass(frozen=True)
class RoundRequest:
    topic: str = ""
    questions: int = DEFAULT_QUESTIONS
    seconds: int = DEFAULT_SECONDS


_SECONDS_TOKEN = re.compile(r"^(\d+)\s*(s|sec|secs|seconds?)$", re.IGNORECASE)


def parse_round_request(args: Sequence[str]) -> RoundRequest:
    """`[topic words...] [n] [seconds]` -> RoundRequest; limits broken -> RoundLimitError.

    Trailing whole numbers are the counts (one number = questions; two = questions then
    seconds); "20s" is always seconds. Everything before them is the topic.
    """
    words = [word for arg in args for word in arg.split()]
    seconds: int | None = None
    numbers: list[int] = []
    while words:
        last = words[-1]
        if seconds is None and not numbers and (match := _SECONDS_TOKEN.match(last)):
            seconds = int(match.group(1))
        elif last.isdigit() and len(numbers) < (1 if seconds is not None else 2):
            numbers.insert(0, int(last))
        else:
            break
        words.pop()
    if seconds is None and len(numbers) == 2:
        questions, seconds = numbers
    else:
        questions = numbers[0] if numbers else DEFAULT_QUESTIONS
    seconds = DEFAULT_SECONDS if seconds is None else seconds
    if not MIN_QUESTIONS <= questions <= MAX_QUESTIONS:
        raise RoundLimitError(
            f"A round has {MIN_QUESTIONS} to {MAX_QUESTIONS} questions; you asked for "
            f"{questions}. Try /round {' '.join(words) + ' ' if words else ''}10 30.",
            reason="questions out of range",
        )
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        raise RoundLimitError(
            f"Each question runs {MIN_SECONDS} to {MAX_SECONDS} seconds; you asked for "
            f"{seconds}. Try /round {' '.join(words) + ' ' if words else ''}{questions} 30.",
            reason="seconds out of range",
        )
    return RoundRequest(topic=" ".join(words)[:255], questions=questions, seconds=seconds)


def answer_points(*, correct: bool, time_ms: int, window_ms: int, streak_before: int) -> int:
    """Points for one answer (the formula is in the module docstring). Never negative."""
    if not correct:
        return 0
    if window_ms <= 0:
        raise ValueError("a question's window must be positive")
    speed = 1.0 - min(max(time_ms, 0), window_ms) / window_ms
    bonus = STREAK_STEP * min(max(streak_before, 0), STREAK_CAP)
    return BASE_POINTS + round(SPEED_POINTS * speed) + bonus


def streak_before(results: Sequence[bool | None]) -> int:
    """Right answers in a row at the end of `results` (one entry per earlier question, in
    order: True right, False wrong, None not answered)."""
    count = 0
    for result in reversed(results):
        if result is not True:
            break
        count += 1
    return count


@dataclass(frozen=True)
class AnswerRecord:
    """One stored answer, as the ranking needs it."""

    user_id: int
    name: str
    correct: bool
    score: int
    time_ms: int


@dataclass(frozen=True)
class Standing:
    rank: int
    user_id: int
    name: str
    score: int
    correct: int
    answered: int
    # Total time spent on the right answers: the tie-break between equal scores.
    correct_time_ms: int = 0

    @property
    def accuracy(self) -> float:
        return self.correct / self.answered if self.answered else 0.0


def rank_standings(records: Iterable[AnswerRecord]) -> list[Standing]:
    """Aggregates answers per member and ranks them (order rules in the module docstring)."""
    totals: dict[int, list] = {}
    for record in records:
        entry = totals.setdefault(record.user_id, [record.name, 0, 0, 0, 0])
        entry[1] += record.score
        entry[2] += 1 if record.correct else 0
        entry[3] += 1
        entry[4] += record.time_ms if record.correct else 0
    ordered = sorted(
        totals.items(),
        key=lambda kv: (-kv[1][1], -kv[1][2], kv[1][4], kv[1][0].casefold(), kv[0]),
    )
    standings: list[Standing] = []
    for position, (user_id, (name, score, correct, answered, correct_ms)) in enumerate(ordered):
        previous = standings[-1] if standings else None
        tied = previous is not None and (previous.score, previous.correct) == (score, correct)
        rank = previous.rank if tied and previous else position + 1
        standings.append(Standing(rank, user_id, name, score, correct, answered, correct_ms))
    return standings


# --- the timeline -------------------------------------------------------------------------


class StepKind(StrEnum):
    POST = "post"  # post the question at `position`
    CLOSE = "close"  # close the question at `position`: show the key and the counts
    FINISH = "finish"  # every question closed: post the final leaderboard


@dataclass(frozen=True)
class ItemTiming:
    """What the timeline needs of the last posted question."""

    position: int
    closes_at: datetime
    closed_at: datetime | None = None


@dataclass(frozen=True)
class Step:
    kind: StepKind
    at: datetime
    position: int = 0


def next_step(*, started_at: datetime, planned: int, last: ItemTiming | None) -> Step:
    """What an open round does next and when, from its stored state alone.

    Countdown -> post 0 -> close 0 -> (reveal pause) post 1 -> ... -> close n-1 -> finish.
    Because it is derived from the rows, a restarted process resumes at the right step.
    """
    if last is None:
        return Step(StepKind.POST, started_at + timedelta(seconds=COUNTDOWN_SECONDS), 0)
    if last.closed_at is None:
        return Step(StepKind.CLOSE, last.closes_at, last.position)
    if last.position + 1 < planned:
        return Step(
            StepKind.POST, last.closed_at + timedelta(seconds=REVEAL_SECONDS), last.position + 1
        )
    return Step(StepKind.FINISH, last.closed_at, last.position)


# --- what the group sees ------------------------------------------------------------------


def display_name(name: str, user_id: int) -> str:
    return name.strip() or f"{UNNAMED} {user_id}"


REPORT_ACTION = "rp"


def report_payload(token: str) -> str:
    """The "Report a problem" button of a closed round question (`rp:r:<token>`)."""
    return encode(REPORT_ACTION, "r", token)


def answer_payload(token: str, option: int) -> str:
    """The button payload for choosing `option` (as shown) on the round item `token`."""
    return encode(ANSWER_ACTION, token, option)


@dataclass(frozen=True)
class ShownQuestion:
    """A round question as posted: its options in the order shown."""

    position: int
    total: int
    seconds: int
    stem: str
    options: tuple[str, ...]
    # Index (in shown order) of the key.
    key: int
    topic: str = ""


def option_labels(question: ShownQuestion) -> list[str]:
    return [LETTERS[i] for i in range(len(question.options))]


@dataclass(frozen=True)
class Fastest:
    name: str
    time_ms: int


@dataclass(frozen=True)
class QuestionResult:
    question: ShownQuestion
    # How many chose each option (shown order).
    counts: tuple[int, ...]
    fastest: Fastest | None
    standings: tuple[Standing, ...] = field(default=())
