"""/quiz, /review, /skip, /stop and the study buttons: answer, confidence, quiz-a-topic, review.

Buttons: `ans:<token>:<i>` (the i-th option as shown), `conf:<token>:<1-5>`, `qt:<question_id>`
(a quiz on that question's topic, used by /weak), `rv` (start the due review, used by the
reminder). Every check lives in core.study; a refused click raises a RoundsError, so the
router rolls the event back and answers with one short message.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from core import limits, study
from core.buttons import Button, MalformedPayload, Payload, decode, encode
from core.circulation import ReportSource
from core.errors import RoundsError
from core.generate.flaws import names_an_option
from core.srs import local_day
from handlers import generation
from handlers.context import Services, Turn
from handlers.reports import report_button
from handlers.types import Reply, SentMessage, Tone
from storage.enums import Confidence, SessionKind, SessionState
from storage.models import GenerationRun, Question, QuizSession, User
from storage.repos import runs as runs_repo

# A delivered question reports back as `quiz:<token>` (see ON_SENT).
TRACK_PREFIX = "quiz:"
CONFIDENCE_LABELS = {
    Confidence.GUESSING: "Guessing",
    Confidence.UNSURE: "Unsure",
    Confidence.FAIRLY_SURE: "Fairly sure",
    Confidence.SURE: "Sure",
    Confidence.CERTAIN: "Certain",
}


# --- commands ------------------------------------------------------------------------------


async def quiz(turn: Turn) -> list[Reply]:
    """`/quiz [topic] [n]`: resumes a quiz in progress, else starts one (default 10)."""
    topic, n = parse_quiz_args(turn.incoming.args)
    return await _quiz_on(turn, topic=topic, n=n, exact=False)


async def review(turn: Turn) -> list[Reply]:
    """`/review`: the cards due now (resumes a review in progress; a quiz waits if none are)."""
    current = await study.active_session(turn.session, turn.user)
    if current is not None and current.kind is SessionKind.REVIEW:
        resumed = await _resume(turn, current)
        if resumed:
            return resumed
    if not await study.due_count(turn.session, turn.user, now=turn.now):
        nothing = await _nothing_due(turn)
        if current is not None and current.state is SessionState.ACTIVE:
            nothing = replace(nothing, text=f"{nothing.text} Your quiz is still open: /quiz.")
        return [nothing]
    replies: list[Reply] = []
    if current is not None and current.state is SessionState.ACTIVE:
        replies += await _set_aside(turn, current)
    session = await study.start_review(
        turn.session, user=turn.user, scope_id=turn.scope.id, chat_id=turn.chat.id, now=turn.now
    )
    if session is None:
        return [*replies, await _nothing_due(turn)]
    return [*replies, *await _next(turn, session)]


async def skip(turn: Turn) -> list[Reply]:
    """`/skip`: moves past the current question (an answer already given still counts)."""
    reveal, session = await study.skip(turn.session, user=turn.user, now=turn.now)
    first = reveal_reply(reveal, now=turn.now) if reveal else Reply("Skipped.")
    return [first, *await _next(turn, session)]


async def stop(turn: Turn) -> list[Reply]:
    """`/stop`: ends the quiz in progress and shows its summary."""
    reveal, summary = await study.stop(turn.session, user=turn.user, now=turn.now)
    replies = [reveal_reply(reveal, now=turn.now)] if reveal else []
    return [*replies, summary_reply(summary)]


# --- buttons -------------------------------------------------------------------------------


async def answer_button(turn: Turn) -> list[Reply]:
    token, index = _token_and_int(decode(turn.incoming.payload))
    awaiting = await study.answer(
        turn.session, user=turn.user, token=token, shown_index=index, now=turn.now
    )
    # Drawn over the pressed question (edit_of), so answering adds no message to the chat.
    return [replace(confidence_reply(awaiting), edit_of=turn.incoming.message_ref)]


async def confidence_button(turn: Turn) -> list[Reply]:
    token, confidence = _token_and_int(decode(turn.incoming.payload))
    reveal, session = await study.confide(
        turn.session, user=turn.user, token=token, confidence=confidence, now=turn.now
    )
    revealed = replace(reveal_reply(reveal, now=turn.now), edit_of=turn.incoming.message_ref)
    return [revealed, *await _next(turn, session)]


async def quiz_topic_button(turn: Turn) -> list[Reply]:
    payload = decode(turn.incoming.payload)
    if len(payload.parts) != 1:
        raise MalformedPayload(reason="qt takes one question id")
    question = await turn.session.get(Question, payload.int_part(0))
    # Only a question of the scope this chat sees: never another student's material.
    if question is None or question.scope_id != turn.scope.id:
        raise study.StaleButton("That topic is no longer in your material. Try /topics.")
    return await _quiz_on(turn, topic=question.topic, n=study.DEFAULT_QUIZ_LENGTH, exact=True)


async def quiz_all_button(turn: Turn) -> list[Reply]:
    """`qa:<n>`: a quiz over the whole material (offered when a topic ran short)."""
    payload = decode(turn.incoming.payload)
    if len(payload.parts) != 1:
        raise MalformedPayload(reason="qa takes a number")
    n = max(1, min(study.MAX_QUIZ_LENGTH, payload.int_part(0)))
    return await _quiz_on(turn, topic="", n=n, exact=False)


async def review_button(turn: Turn) -> list[Reply]:
    if decode(turn.incoming.payload).parts:
        raise MalformedPayload(reason="rv takes no parts")
    return await review(turn)


async def on_sent(services: Services, sent: SentMessage) -> None:
    """Stores when a tracked question reached the student: the answer timer starts there."""
    if not sent.track.startswith(TRACK_PREFIX):
        return
    async with services.db.session() as session:
        await study.mark_delivered(
            session,
            sent.track.removeprefix(TRACK_PREFIX),
            message_ref=sent.message_ref,
            sent_at=sent.sent_at,
        )


# --- the flow ------------------------------------------------------------------------------


def parse_quiz_args(args: tuple[str, ...]) -> tuple[str, int]:
    """`[topic words...] [n]` -> (topic, n); n defaults to 10 and is kept within limits."""
    words = list(args)
    n = study.DEFAULT_QUIZ_LENGTH
    if words and words[-1].isdigit():
        n = max(1, min(study.MAX_QUIZ_LENGTH, int(words.pop())))
    return " ".join(words).strip(), n


async def _quiz_on(turn: Turn, *, topic: str, n: int, exact: bool) -> list[Reply]:
    replies: list[Reply] = []
    current = await study.active_session(turn.session, turn.user)
    if current is not None:
        same_topic = not topic or topic.casefold() == current.topic.casefold()
        if current.kind is SessionKind.QUIZ and same_topic:
            resumed = await _resume(turn, current)
            if resumed:
                return resumed
        else:
            replies += await _set_aside(turn, current)
    supply: study.QuestionSupply | None = None
    if turn.services.jobs is not None and turn.services.embedder is not None:
        missing, level = await study.unseen_shortfall(
            turn.session, user=turn.user, scope_id=turn.scope.id, topic=topic,
            exact_topic=exact, n=n,
        )  # fmt: skip
        if missing and await study.has_material(turn.session, turn.scope.id):
            notes, queued = await _write_then_quiz(turn, topic=topic, n=n, exact=exact,
                                                   missing=missing, level=level)  # fmt: skip
            if queued:
                return [*replies, *notes]
            replies += notes
    else:
        supply = _supply(turn, topic)  # no job runner (tests, tools): written inline
    session = await study.start_quiz(
        turn.session, user=turn.user, scope_id=turn.scope.id, chat_id=turn.chat.id,
        now=turn.now, topic=topic, exact_topic=exact, n=n, supply=supply,
    )  # fmt: skip
    return [*replies, *await _next(turn, session)]


async def _write_then_quiz(
    turn: Turn, *, topic: str, n: int, exact: bool, missing: int, level: int
) -> tuple[list[Reply], bool]:
    """Queues the missing questions (the quiz starts when they are written): (replies, True).
    When the student's limit leaves nothing to write: (the limit's message, False)."""
    if await runs_repo.running_for(turn.session, turn.user.id):
        return [Reply("I'm still writing your questions; your quiz starts by itself when "
                      "they're ready.")], True  # fmt: skip
    allowance = await limits.question_allowance(
        turn.session, user_id=turn.user.id, settings=turn.services.settings, now=turn.now
    )
    if allowance.questions <= 0:
        return [Reply(allowance.refusal(now=turn.now).user_message, tone=Tone.WARNING)], False
    notes: list[Reply] = []
    if allowance.questions < missing:
        resets = allowance.resets_at
        more = f" (more {limits.wait_phrase(resets, now=turn.now)})" if resets else ""
        notes.append(Reply(
            f"Your limit of {allowance.limit} new questions {allowance.window} leaves room for "
            f"{allowance.questions} now{more}.", tone=Tone.WARNING,
        ))  # fmt: skip
        missing = allowance.questions
    status = await generation.start(
        turn, topic=topic, n=missing, difficulty=level, triggered_by="quiz",
        follow_up={"quiz": {"n": n, "topic": topic, "exact": exact}}, what="your quiz",
    )  # fmt: skip
    return [*notes, status], True


async def after_generation(
    services: Services, row: GenerationRun, error: RoundsError | None
) -> list[Reply]:
    """A finished run for a quiz: the quiz starts, saying how many are new and, when fewer
    were written than asked, why and what broader quiz could give more."""
    wanted = row.follow_up.get("quiz", {})
    n, topic, exact = (
        int(wanted.get("n", row.requested)),
        str(wanted.get("topic", "")),
        bool(wanted.get("exact", False)),
    )
    now = services.clock()
    async with services.db.session() as db_session:
        user = await db_session.get(User, row.requested_by) if row.requested_by else None
        if user is None:
            return []
        current = await study.active_session(db_session, user)
        if current is not None:
            noun = "review" if current.kind is SessionKind.REVIEW else "quiz"
            return [Reply(f"Your {row.inserted} new questions are ready; send /quiz when your "
                          f"{noun} is done.")]  # fmt: skip
        missing, _ = await study.unseen_shortfall(
            db_session, user=user, scope_id=row.scope_id, topic=topic, exact_topic=exact, n=n
        )
        try:
            quiz_session = await study.start_quiz(
                db_session, user=user, scope_id=row.scope_id, chat_id=row.chat_id, now=now,
                topic=topic, exact_topic=exact, n=n,
            )  # fmt: skip
        except RoundsError as failure:
            shown = error if error is not None else failure
            if not topic:
                raise shown from failure
            return [Reply(f"{shown.user_message} The whole material may have more.",
                          tone=Tone.WARNING, buttons=((_whole_material(n),),))]  # fmt: skip
        replies: list[Reply] = []
        if row.inserted < row.requested:
            total = len(quiz_session.plan)
            replies.append(_shortfall_reply(row, error, total=total,
                                            new=min(total, n - missing), topic=topic))  # fmt: skip
        step = await study.current_step(db_session, quiz_session, now=now)
        if step is not None:
            replies.append(step_reply(step))
        return replies


def _shortfall_reply(
    row: GenerationRun, error: RoundsError | None, *, total: int, new: int, topic: str
) -> Reply:
    """'I could write 3 of the 7 new questions: <why>. This quiz has 10 questions: 3 new,
    7 you have answered before.' and, for a topic, a broader quiz to try."""
    why = row.error or (error.user_message if error else "")
    lines = [
        f"I could write {row.inserted} of the {row.requested} new questions you asked for."
        + (f" {why}" if why else "")
    ]
    seen = total - new
    if new <= 0:
        lines.append(f"This quiz has {total} questions, all ones you have answered before.")
    elif seen > 0:
        lines.append(f"This quiz has {total} questions: {new} new, {seen} you have answered "
                     "before.")  # fmt: skip
    else:
        lines.append(f"This quiz has {total} new question{'s' if total != 1 else ''}.")
    buttons: tuple[tuple[Button, ...], ...] = ()
    if topic:
        lines.append("Quizzing the whole material gives me more to write from.")
        buttons = ((_whole_material(max(total, 1)),),)
    return Reply("\n".join(lines), tone=Tone.WARNING, buttons=buttons)


def _supply(turn: Turn, topic: str) -> study.QuestionSupply | None:
    services = turn.services
    embedder = getattr(services, "embedder", None)
    indexes = getattr(services, "indexes", None)
    if embedder is None or indexes is None:
        return None

    async def write_questions(missing: int, difficulty: int) -> None:
        from core.generate import generate

        await turn.incoming.progress(
            f"Writing {missing} new question{'s' if missing != 1 else ''} from your material…"
        )
        level = await study.student_level_for(turn.session, turn.user, topic)
        await generate(
            turn.session, scope_id=turn.scope.id, topic=topic or None, n=missing,
            difficulty=difficulty, embedder=embedder, indexes=indexes,
            settings=services.settings, requested_by=turn.user.id, level=level,
        )  # fmt: skip

    return write_questions


def _whole_material(n: int) -> Button:
    return Button("Quiz the whole material", encode("qa", n))


async def _resume(turn: Turn, session: QuizSession) -> list[Reply]:
    step = await study.current_step(turn.session, session, now=turn.now)
    if step is None:
        return []
    note = Reply(f"Picking up where you left off ({_noun(session.kind)} {step.position + 1} "
                 f"of {step.total}).")  # fmt: skip
    return [note, step_reply(step)]


async def _set_aside(turn: Turn, session: QuizSession) -> list[Reply]:
    """Stops a session the student moved away from; its answers are kept."""
    _, summary = await study.stop(turn.session, user=turn.user, now=turn.now)
    kind = "review" if session.kind is SessionKind.REVIEW else "quiz"
    return [Reply(f"Your earlier {kind} is closed ({summary.correct}/{summary.answered} right); "
                  "its answers are saved.")]  # fmt: skip


async def _next(turn: Turn, session: QuizSession) -> list[Reply]:
    step = await study.current_step(turn.session, session, now=turn.now)
    if step is not None:
        return [step_reply(step)]
    return [summary_reply(await study.summary_of(turn.session, session, turn.user, now=turn.now))]


async def _nothing_due(turn: Turn) -> Reply:
    upcoming = await study.next_due_at(turn.session, turn.user)
    if upcoming is None:
        return Reply("You have no cards yet. Send /quiz to start; answered questions come back "
                     "here when they are due.")  # fmt: skip
    when = due_phrase(upcoming, now=turn.now, tz=study.user_zone(turn.user))
    return Reply(f"Nothing is due right now. Your next review is {when}.", tone=Tone.GOOD)


# --- rendering -----------------------------------------------------------------------------


def step_reply(step: study.Step) -> Reply:
    if isinstance(step, study.AwaitingConfidence):
        return confidence_reply(step)
    return question_reply(step)


def question_reply(step: study.Asked) -> Reply:
    letters = study.LETTERS
    options = "\n".join(f"{letters[i]}. {text}" for i, text in enumerate(step.options))
    title = f"{_noun(step.kind).title()} {step.position + 1} of {step.total}"
    # The section's name stays hidden until the reveal when it names an option: a case under
    # "Giardiasis" would be answered by its title.
    if step.topic and not names_an_option(step.topic, step.options):
        title += f" · {step.topic}"
    buttons = tuple(
        Button(letters[i], encode("ans", step.token, i)) for i in range(len(step.options))
    )
    return Reply(
        f"{step.stem}\n\n{options}",
        title=title,
        buttons=(buttons,),
        track=f"{TRACK_PREFIX}{step.token}",
    )


def confidence_reply(step: study.AwaitingConfidence) -> Reply:
    buttons = [
        Button(CONFIDENCE_LABELS[c], encode("conf", step.token, int(c))) for c in Confidence
    ]
    return Reply(
        f"You chose {step.chosen_letter}. {step.chosen_text}\nHow sure were you?",
        buttons=(tuple(buttons[:3]), tuple(buttons[3:])),
    )


def reveal_reply(reveal: study.Reveal, *, now: datetime) -> Reply:
    # The stem comes first: on Telegram/Discord the reveal replaces the question message, and
    # scrolling back should still show what was asked.
    lines = [reveal.stem, "", f"Your answer: {reveal.chosen_letter}. {reveal.chosen_text}"]
    if not reveal.correct:
        lines.append(f"Correct answer: {reveal.key_letter}. {reveal.key_text}")
    if reveal.explanation:
        lines.append(reveal.explanation)
    if reveal.source:
        lines.append(f"Source: {reveal.source}")
    days = "day" if reveal.streak == 1 else "days"
    lines.append(
        f"+{reveal.xp} XP · level {reveal.level} ({reveal.total_xp} XP) · "
        f"streak {reveal.streak} {days}"
    )
    if reveal.leveled_up:
        lines.append(f"Level up! You reached level {reveal.level}.")
    lines.append(f"Next review: {due_phrase(reveal.due_at, now=now, tz=ZoneInfo(reveal.tz))}")
    title = "Correct ✓" if reveal.correct else "Not quite ✗"
    buttons = ((report_button(ReportSource.QUIZ, reveal.token),),) if reveal.token else ()
    return Reply(
        "\n".join(lines),
        title=title,
        tone=Tone.GOOD if reveal.correct else Tone.BAD,
        buttons=buttons,
    )


def summary_reply(summary: study.Summary) -> Reply:
    noun = "Review" if summary.kind is SessionKind.REVIEW else "Quiz"
    ended = "stopped" if summary.state is SessionState.STOPPED else "complete"
    score = f"{summary.correct}/{summary.answered}"
    if summary.answered:
        score += f" ({round(100 * summary.correct / summary.answered)}%)"
    lines = [
        f"Score: {score}" + (f", {summary.skipped} skipped" if summary.skipped else ""),
        f"Time: {duration_phrase(summary.duration)}",
        f"XP: +{summary.xp} (level {summary.level}, {summary.total_xp} XP)",
        f"Streak: {summary.streak} day{'s' if summary.streak != 1 else ''} "
        f"(best {summary.best_streak})",
    ]
    buttons: list[Button] = []
    weakest = summary.weakest
    if weakest is not None:
        lines.append(
            f"Weakest topic: {weakest.topic} ({round(100 * weakest.accuracy)}% of "
            f"{weakest.attempts})"
        )
        if weakest.question_id is not None:
            buttons.append(
                Button(f"Practise {_short(weakest.topic)}", encode("qt", weakest.question_id))
            )
    if summary.due_now:
        buttons.append(Button(f"Review {summary.due_now} due", encode("rv")))
    return Reply(
        "\n".join(lines),
        title=f"{noun} {ended}",
        tone=Tone.NEUTRAL,
        buttons=(tuple(buttons),) if buttons else (),
    )


def due_phrase(due_at: datetime, *, now: datetime, tz: ZoneInfo) -> str:
    """'tomorrow (Tue 24 Nov)', 'in 6 days (Sun 29 Nov)', 'now' — in the student's zone."""
    days = (local_day(due_at, tz) - local_day(now, tz)).days
    label = due_at.astimezone(tz).strftime("%a %d %b").replace(" 0", " ")
    if due_at <= now:
        return "now"
    if days <= 0:
        return f"later today ({due_at.astimezone(tz):%H:%M})"
    if days == 1:
        return f"tomorrow ({label})"
    return f"in {days} days ({label})"


def duration_phrase(duration: timedelta) -> str:
    seconds = max(0, round(duration.total_seconds()))
    minutes, seconds = divmod(seconds, 60)
    if minutes >= 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


def _noun(kind: SessionKind) -> str:
    return "review" if kind is SessionKind.REVIEW else "question"


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _token_and_int(payload: Payload) -> tuple[str, int]:
    if len(payload.parts) != 2:
        raise MalformedPayload(reason=f"{payload.action} takes a token and a number")
    return payload.parts[0], payload.int_part(1)


COMMANDS = {"quiz": quiz, "review": review, "skip": skip, "stop": stop}
BUTTONS = {
    "ans": answer_button,
    "conf": confidence_button,
    "qt": quiz_topic_button,
    "qa": quiz_all_button,
    "rv": review_button,
}
ON_SENT = on_sent
