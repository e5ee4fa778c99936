"""/stats, /weak, /next and /history: how a student is doing and what to study next.

/stats sends the dashboard image (core.charts, rendered in a worker thread) with a two-line
summary under it; /weak and /next offer `qt:<question_id>` buttons (a quiz on that
question's topic, handled by handlers.quiz) and `rv` for the due review.
"""

from __future__ import annotations

import math

from core import charts, recommend, stats
from core.buttons import Button, encode
from core.fsrs_fit import FIT_MIN_REVIEWS
from core.srs import MASTERED_INTERVAL_DAYS, local_day
from core.xp import progress
from handlers.context import Turn
from handlers.types import Reply
from storage.enums import Confidence, SchedulerKind
from storage.repos.retention import INTERVAL_EDGES

CONFIDENCE_WORDS = {
    Confidence.GUESSING: "guessing",
    Confidence.UNSURE: "unsure",
    Confidence.FAIRLY_SURE: "fairly sure",
    Confidence.SURE: "sure",
    Confidence.CERTAIN: "certain",
}
BUTTON_TOPIC_CHARS = 28
STEM_CHARS = 48
NO_ANSWERS = "No answers yet — send /quiz to start, and your progress will show up here."


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    # End on a whole word when one is near; a half word reads like a typo.
    if " " in cut[limit // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:") + "…"


def _answered(n: int, accuracy: float | None) -> str:
    return f"{n} answered, {accuracy:.0%} right" if accuracy is not None else "none answered"


def summary_lines(board: stats.Dashboard) -> str:
    """The two lines under the dashboard: the week against the last, then streak/XP/due."""
    week = board.summary
    first = f"Last 7 days: {_answered(week.answered, week.accuracy)}"
    first += f" (the 7 before: {_answered(week.previous_answered, week.previous_accuracy)})."
    level = progress(board.xp)
    days = "day" if board.streak == 1 else "days"
    second = (
        f"Streak {board.streak} {days} (best {board.best_streak}) · level {level.level}, "
        f"{board.xp:,} XP ({level.xp_for_next:,} to go) · due today {board.due_today}, "
        f"tomorrow {board.due_tomorrow}."
    )
    third = (
        f"Cards: {board.cards} in play, {board.mastered} mastered (next review "
        f"{MASTERED_INTERVAL_DAYS}+ days away)."
    )
    lines = [first, second, third]
    if board.retention is not None:
        lines += retention_lines(board.retention)
    return "\n".join(lines)


def retention_lines(panel: stats.RetentionPanel) -> list[str]:
    """The retention panel as text: predicted against actual recall, recall by interval."""
    name = "FSRS" if panel.scheduler is SchedulerKind.FSRS else "SM-2"
    lines = []
    if panel.scheduler is SchedulerKind.FSRS:
        if panel.fitted_reviews:
            lines.append(f"FSRS is fitted to your own {panel.fitted_reviews} reviews.")
        else:
            lines.append(
                f"FSRS uses its default parameters until you have {FIT_MIN_REVIEWS} reviews; "
                "then it is fitted to your own."
            )
    if not panel.reviews:
        return [*lines, f"Retention ({name}): shows up once you review cards a second time."]
    predicted = " · ".join(
        f"{b.mean_predicted:.0%}→{b.actual:.0%} ({b.reviews})" for b in panel.by_prediction
    )
    by_interval = " · ".join(
        f"{_interval_label(b.lower)} {b.actual:.0%} ({b.reviews})" for b in panel.by_interval
    )
    lines.append(f"Retention ({name}), predicted→actual recall: {predicted}.")
    lines.append(f"Recall by days since the last review: {by_interval}.")
    return lines


def _interval_label(lower: float) -> str:
    edges = list(INTERVAL_EDGES)
    index = edges.index(lower)
    low = math.ceil(lower) if lower else 0
    if index + 1 == len(edges):
        return f"{low}+d"
    high = math.floor(edges[index + 1])
    return f"{low}d" if high == low else f"{low}-{high}d"


async def stats_command(turn: Turn) -> list[Reply]:
    board = await stats.load_dashboard(turn.session, turn.user, turn.now)
    directory = charts.charts_dir(turn.services.settings.data_dir, turn.user.id)
    image = await charts.render_dashboard_file(board, directory, turn.now)
    text = summary_lines(board)
    if not board.total_answered:
        text = f"{text}\n{NO_ANSWERS}"
    return [Reply(text, title="Your progress", image=image)]


def _quiz_button(label: str, topic: str, question_ids: dict[str, int]) -> Button | None:
    question_id = question_ids.get(topic)
    if question_id is None:
        return None
    return Button(f"{label} {_clip(topic, BUTTON_TOPIC_CHARS)}", encode("qt", question_id))


async def weak_command(turn: Turn) -> list[Reply]:
    weak = await stats.weak_topics(turn.session, turn.user.id)
    if not weak:
        answered = await stats.window_summary(turn.session, turn.user.id, turn.now)
        topics = await stats.accuracy_by_topic(turn.session, turn.user.id)
        if not topics and not answered.answered:
            return [Reply(NO_ANSWERS, title="Weak topics")]
        return [
            Reply(
                f"No weak topics right now: every topic with {stats.WEAK_MIN_ATTEMPTS}+ recent "
                f"answers is at {stats.WEAK_BELOW:.0%} or better. /next suggests what to study.",
                title="Weak topics",
            )
        ]
    ids = await recommend.quiz_question_ids(turn.session, turn.scope.id, [t.topic for t in weak])
    lines = [
        f"{rank}. {topic.topic} — {topic.accuracy:.0%} right "
        f"({topic.correct} of your last {topic.attempts})"
        for rank, topic in enumerate(weak, start=1)
    ]
    buttons = [_quiz_button("Quiz", topic.topic, ids) for topic in weak]
    if any(button is None for button in buttons):
        lines.append("Topics without a button have no questions in this chat's material.")
    return [
        Reply(
            "\n".join(lines),
            title="Your weakest topics",
            buttons=tuple((button,) for button in buttons if button is not None),
        )
    ]


async def next_command(turn: Turn) -> list[Reply]:
    signals = await recommend.gather_signals(turn.session, turn.user, turn.scope.id, turn.now)
    picks = recommend.recommend(signals, now=turn.now)
    if not picks:
        return [
            Reply(
                "Nothing to suggest yet: send me a PDF of your notes, then /quiz.",
                title="What to study next",
            )
        ]
    ids = await recommend.quiz_question_ids(turn.session, turn.scope.id, [p.topic for p in picks])
    lines: list[str] = []
    rows: list[tuple[Button, ...]] = []
    for rank, pick in enumerate(picks, start=1):
        line = f"{rank}. {pick.reason}"
        if pick.kind is recommend.Kind.REVIEW:
            rows.append((Button(f"Review {signals.due_now} due", encode("rv")),))
        elif (button := _quiz_button("Quiz", pick.topic, ids)) is not None:
            rows.append((button,))
        else:
            line += f" Send /quiz {pick.topic}"
        lines.append(line)
    return [Reply("\n".join(lines), title="What to study next", buttons=tuple(rows))]


def _history_line(entry: stats.HistoryEntry, turn: Turn) -> str:
    zone = stats.user_zone(turn.user)
    local = entry.answered_at.astimezone(zone)
    when = local.strftime("%H:%M")
    if local_day(entry.answered_at, zone) != local_day(turn.now, zone):
        when = local.strftime("%-d %b %H:%M")
    mark = "✓ right" if entry.correct else "✗ wrong"
    sure = CONFIDENCE_WORDS.get(entry.confidence, "") if entry.confidence else ""  # type: ignore[call-overload]
    seconds = f"{entry.time_ms / 1000:.0f} s"
    start = _clip(entry.stem, STEM_CHARS) if entry.stem else f"({entry.topic or 'deleted'})"
    details = " · ".join(part for part in (mark, sure or "no rating", seconds) if part)
    return f"{when} {details} — {start}"


async def history_command(turn: Turn) -> list[Reply]:
    entries = await stats.history(turn.session, turn.user.id)
    if not entries:
        return [Reply(NO_ANSWERS, title="Your last answers")]
    lines = [_history_line(entry, turn) for entry in entries]
    return [Reply("\n".join(lines), title=f"Your last {len(entries)} answers")]


COMMANDS = {
    "stats": stats_command,
    "weak": weak_command,
    "next": next_command,
    "history": history_command,
}
