"""What a group sees of a quiz round: the question, the closed question, the countdown, the
final board and /leaderboard."""

from __future__ import annotations

from collections.abc import Sequence

from core.rounds import COUNTDOWN_SECONDS, LETTERS, QuestionResult, ShownQuestion, Standing

MEDALS = ("🥇", "🥈", "🥉")


# A board lists this many members (a message must stay readable, and under 4,096 chars).
MAX_LISTED = 20


def question_text(question: ShownQuestion) -> str:
    head = f"Question {question.position + 1}/{question.total} · {question.seconds} s"
    lines = [head, "", question.stem, ""]
    lines += [f"{LETTERS[i]}. {option}" for i, option in enumerate(question.options)]
    return "\n".join(lines)


def closed_text(result: QuestionResult) -> str:
    """The question edited after it closed: key, counts per option, fastest right answer."""
    question = result.question
    head = f"Question {question.position + 1}/{question.total} · closed"
    lines = [head, "", question.stem, ""]
    for i, option in enumerate(question.options):
        mark = " ✅" if i == question.key else ""
        count = result.counts[i] if i < len(result.counts) else 0
        lines.append(f"{LETTERS[i]}. {option}{mark} · {_plural(count, 'vote')}")
    lines.append("")
    lines.append(f"Answer: {LETTERS[question.key]}. {question.options[question.key]}")
    answered = sum(result.counts)
    if result.fastest is not None:
        lines.append(f"Fastest right: {result.fastest.name} ({_seconds(result.fastest.time_ms)})")
    elif answered:
        lines.append("Nobody got this one.")
    else:
        lines.append("Nobody answered.")
    if result.standings:
        top = " · ".join(f"{s.rank}. {s.name} {s.score:,}" for s in result.standings[:5])
        lines.append(f"Standings: {top}")
    return "\n".join(lines)


def countdown_text(*, topic: str, questions: int, seconds: int, requested: int) -> str:
    about = f" on {topic}" if topic else ""
    lines = [
        f"Round starting in {COUNTDOWN_SECONDS} s: {_plural(questions, 'question')}{about}, "
        f"{seconds} s each.",
        "Everyone here can play: tap your answer; your first tap counts. Right answers score "
        "500-1,000 points (faster = more), plus a streak bonus for right answers in a row.",
    ]
    if questions < requested:
        lines.append(f"(I have {questions} of the {requested} questions you asked for.)")
    return "\n".join(lines)


def final_text(
    standings: Sequence[Standing], *, total: int, topic: str = "", stopped: str = ""
) -> str:
    """The final ranked leaderboard of one round."""
    about = f" · {topic}" if topic else ""
    head = f"Round over{about}" if not stopped else f"Round stopped{about} ({stopped})"
    lines = [head, ""]
    if not standings:
        lines.append("Nobody answered this time.")
    lines += [_standing_line(standing) for standing in standings[:MAX_LISTED]]
    if len(standings) > MAX_LISTED:
        lines.append(f"… and {len(standings) - MAX_LISTED} more")
    lines.append("")
    lines.append(f"{_plural(total, 'question')}. Your answers also went into your own reviews.")
    return "\n".join(lines)


def leaderboard_text(standings: Sequence[Standing], *, period: str, rounds: int) -> str:
    """`/leaderboard`: the group's standings over a period ("this week", "all time")."""
    head = f"Leaderboard · {period}"
    if not standings:
        return f"{head}\n\nNo round answers yet. Start one with /round [topic] [n] [seconds]."
    lines = [f"{head} · {_plural(rounds, 'round')}", ""]
    lines += [_standing_line(standing) for standing in standings[:MAX_LISTED]]
    if len(standings) > MAX_LISTED:
        lines.append(f"… and {len(standings) - MAX_LISTED} more")
    return "\n".join(lines)


def _standing_line(standing: Standing) -> str:
    medal = MEDALS[standing.rank - 1] if standing.rank <= len(MEDALS) else f"{standing.rank}."
    return (
        f"{medal} {standing.name} · {standing.score:,} pts · {standing.correct}/"
        f"{standing.answered} right ({round(100 * standing.accuracy)}%)"
    )


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _seconds(time_ms: int) -> str:
    return f"{time_ms / 1000:.1f} s"
