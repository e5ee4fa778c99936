"""Group rounds over storage: start, post, answer, close, finish, stop, standings.

Each function is one step inside the caller's unit of work (a handler's session or one
timer tick); none of them sends anything. They return what the group should see
(`Outgoing`), and the caller delivers it after committing, so a click that arrives the
instant a question appears already finds its row, and a late click after a close is
already refused.

A round answer is also real study: it goes through core.grading like a quiz answer, with no
confidence (a timed round has no confidence step), which grades and pays as "fairly sure".
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core import grading, rounds
from core.buttons import Button, ButtonRows, new_token
from core.errors import RoundsError
from core.generate.errors import NoMaterial, NothingOnTopic
from core.rounds import (
    AnswerRecord,
    Fastest,
    ItemTiming,
    QuestionResult,
    RoundRequest,
    ShownQuestion,
    Standing,
    Step,
    StepKind,
)
from core.texts import rounds as round_texts
from core.texts.reports import REPORT_LABEL
from storage.enums import AttemptSource, RoundState
from storage.models import Chat, GroupRound, Question, RoundAnswer, RoundItem, User
from storage.repos import rounds as repo
from storage.repos.chats import is_member

# A new round prefers questions not posted in this chat's last this-many round questions.
FRESH_WINDOW = 200

# Called as top_up(how_many) when the group scope lacks questions; it writes them into the
# scope (the generator) and may raise a RoundsError when it cannot.
QuestionTopUp = Callable[[int], Awaitable[object]]


# --- what a member can get wrong -----------------------------------------------------------


class GroupOnly(RoundsError):
    user_message = "Rounds are for group chats: add me to your study group and /round there."


class RoundAlreadyRunning(RoundsError):
    user_message = "A round is already running in this chat. Wait for it to end, or /stop_round."


class NoRoundQuestions(RoundsError):
    user_message = (
        "This group has no questions yet. Send a PDF here (the group's own material) and "
        "try /round again."
    )


class NoRoundOnTopic(RoundsError):
    user_message = (
        "I found no questions on that topic in this group's material. Try another topic, "
        "or /round without one."
    )


class NoOpenRound(RoundsError):
    user_message = "There is no round running in this chat. Start one with /round."


class NotStarterOrAdmin(RoundsError):
    user_message = "Only the member who started the round or a chat admin can stop it."


class UnknownRoundQuestion(RoundsError):
    user_message = "That round question is not valid any more."


class NotARoundMember(RoundsError):
    user_message = "Only members of the group running this round can answer it."


class QuestionClosed(RoundsError):
    user_message = "Too late: this question has closed. Get ready for the next one!"


class AlreadyAnsweredRound(RoundsError):
    user_message = "You already answered this one; your first tap counts."


# --- what the group sees -------------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    """One message for the round's chat: new, or an edit of `edit_ref` when set."""

    text: str
    buttons: ButtonRows = ()
    edit_ref: str = ""
    # The round item this message is (set for posted questions, to store the message ref).
    item_id: int | None = None
    # True for a closed question's edit (sent as a new message when the post never arrived).
    is_edit: bool = False


@dataclass(frozen=True)
class Started:
    round: GroupRound
    text: str
    first_step_at: datetime


@dataclass(frozen=True)
class Answered:
    letter: str
    correct: bool
    points: int


# --- starting ------------------------------------------------------------------------------


async def start_round(
    session: AsyncSession,
    *,
    chat: Chat,
    scope_id: int,
    starter: User,
    request: RoundRequest,
    now: datetime,
    top_up: QuestionTopUp | None = None,
    rng: random.Random | None = None,
) -> Started:
    """Plans a round from the group scope's questions (the generator fills a shortfall).

    Refuses a second open round in the chat: the chat row is locked (PostgreSQL) before the
    check, so two /round commands at the same moment cannot both start one.
    """
    rng = rng or random.Random()
    await repo.lock_chat(session, chat.id)
    if await repo.open_round_in_chat(session, chat.id) is not None:
        raise RoundAlreadyRunning()
    plan = await _plan(session, chat.id, scope_id, request, rng)
    top_up_error: RoundsError | None = None
    if len(plan) < request.questions and top_up is not None:
        try:
            await top_up(request.questions - len(plan))
        except RoundsError as error:  # keep what exists; report only if there is nothing
            top_up_error = error
        plan = await _plan(session, chat.id, scope_id, request, rng)
    if not plan:
        if request.topic and await repo.round_candidates(session, scope_id, "", limit=1):
            raise NoRoundOnTopic()
        # The generator's "no material" wording speaks to one student; a group gets its own.
        if top_up_error is not None and not isinstance(top_up_error, (NoMaterial, NothingOnTopic)):
            raise top_up_error
        raise NoRoundQuestions()
    group_round = await repo.add_round(
        session,
        GroupRound(
            chat_id=chat.id,
            scope_id=scope_id,
            started_by=starter.id,
            topic=request.topic,
            question_count=len(plan),
            seconds_per_question=request.seconds,
            state=RoundState.COUNTDOWN,
            plan=plan,
            position=0,
            started_at=now,
        ),
    )
    text = round_texts.countdown_text(
        topic=request.topic,
        questions=len(plan),
        seconds=request.seconds,
        requested=request.questions,
    )
    step = rounds.next_step(started_at=now, planned=len(plan), last=None)
    return Started(round=group_round, text=text, first_step_at=step.at)


async def round_shortfall(
    session: AsyncSession, *, chat: Chat, scope_id: int, request: RoundRequest
) -> int:
    """How many questions a round of `request` lacks in the group scope. Refuses a second
    open round in the chat, as start_round does."""
    if await repo.open_round_in_chat(session, chat.id) is not None:
        raise RoundAlreadyRunning()
    plan = await _plan(session, chat.id, scope_id, request, random.Random(0))
    return request.questions - len(plan)


async def _plan(
    session: AsyncSession, chat_id: int, scope_id: int, request: RoundRequest, rng: random.Random
) -> list[int]:
    """Question ids for the round: ones this chat has not played recently first, shuffled."""
    candidates = [q.id for q in await repo.round_candidates(session, scope_id, request.topic)]
    recent = await repo.recent_round_question_ids(session, chat_id, FRESH_WINDOW)
    fresh = [qid for qid in candidates if qid not in recent]
    played = [qid for qid in candidates if qid in recent]
    rng.shuffle(fresh)
    rng.shuffle(played)
    return (fresh + played)[: request.questions]


# --- the timeline --------------------------------------------------------------------------


async def due_step(session: AsyncSession, group_round: GroupRound) -> Step | None:
    """The round's next step (None when it is over), derived from its rows alone."""
    if group_round.state not in repo.OPEN_STATES:
        return None
    last = await repo.last_item(session, group_round.id)
    timing = None if last is None else ItemTiming(last.position, last.closes_at, last.closed_at)
    return rounds.next_step(
        started_at=group_round.started_at, planned=len(group_round.plan), last=timing
    )


async def perform(
    session: AsyncSession, group_round: GroupRound, step: Step, *, now: datetime
) -> list[Outgoing]:
    """Performs one due step; stale steps (the bot was down too long) end the round."""
    if now - step.at > rounds.STALE_AFTER:
        return await stop(session, group_round, now=now, reason="I was offline too long")
    match step.kind:
        case StepKind.POST:
            return [await post_question(session, group_round, step.position, now=now)]
        case StepKind.CLOSE:
            return await close_question(session, group_round, step.position, now=now)
        case StepKind.FINISH:
            return [await finish(session, group_round, now=now)]
    return []


async def post_question(
    session: AsyncSession,
    group_round: GroupRound,
    position: int,
    *,
    now: datetime,
) -> Outgoing:
    """Creates the round item for `position` (open for `seconds_per_question` from now).

    Options keep their stored order: the generator already shuffled them and kept "all of
    the above" last, and every member must see the same letters.
    """
    question_id = int(group_round.plan[position])
    question = await session.get(Question, question_id)
    if question is None or question.retired_at is not None:
        # Deleted with its material, or retired, after the round was planned: take the next
        # unplayed one the scope still has, so the round keeps its length when it can.
        question = None
        replacement = await _replacement(session, group_round)
        if replacement is not None:
            question = replacement
            group_round.plan = [
                *group_round.plan[:position],
                replacement.id,
                *group_round.plan[position + 1 :],
            ]
    order = list(range(len(question.options))) if question is not None else []
    item = await repo.add_item(
        session,
        RoundItem(
            round_id=group_round.id,
            question_id=question.id if question is not None else None,
            position=position,
            token=new_token(),
            option_order=order,
            posted_at=now,
            closes_at=now + timedelta(seconds=group_round.seconds_per_question),
        ),
    )
    group_round.state = RoundState.RUNNING
    group_round.position = position
    if question is None:
        # Nothing to ask: the item closes at once and the round moves on.
        item.closed_at = now
        item.closes_at = now
        return Outgoing(text=f"Question {position + 1}/{len(group_round.plan)} was removed.")
    shown = _shown(group_round, item, question)
    buttons = tuple(
        Button(label, rounds.answer_payload(item.token, i))
        for i, label in enumerate(rounds.option_labels(shown))
    )
    return Outgoing(text=round_texts.question_text(shown), buttons=(buttons,), item_id=item.id)


async def _replacement(session: AsyncSession, group_round: GroupRound) -> Question | None:
    candidates = await repo.round_candidates(session, group_round.scope_id, group_round.topic)
    used = {int(qid) for qid in group_round.plan}
    return next((q for q in candidates if q.id not in used), None)


async def set_message_ref(session: AsyncSession, item_id: int, message_ref: str) -> None:
    item = await session.get(RoundItem, item_id)
    if item is not None:
        item.message_ref = message_ref[:64]


async def close_question(
    session: AsyncSession, group_round: GroupRound, position: int, *, now: datetime
) -> list[Outgoing]:
    """Closes the open question: the edit shows the key, votes per option, fastest right.

    When it was the last question, the final leaderboard follows in the same step.
    """
    item = await repo.last_item(session, group_round.id)
    if item is None or item.position != position or item.closed_at is not None:
        return []
    item.closed_at = now
    await session.flush()
    out = [await _closed_message(session, group_round, item)]
    if position + 1 >= len(group_round.plan):
        out.append(await finish(session, group_round, now=now))
    return out


async def _closed_message(
    session: AsyncSession, group_round: GroupRound, item: RoundItem
) -> Outgoing:
    question = None if item.question_id is None else await session.get(Question, item.question_id)
    if question is None:
        return Outgoing(
            text="(This question was removed.)", edit_ref=item.message_ref, is_edit=True
        )
    shown = _shown(group_round, item, question)
    answers = await repo.answers_to(session, item.id)
    order = [int(i) for i in item.option_order]
    counts = [0] * len(order)
    for answer in answers:
        if answer.choice in order:
            counts[order.index(answer.choice)] += 1
    fastest = next((a for a in answers if a.correct), None)
    fastest_name = ""
    if fastest is not None:
        user = await session.get(User, fastest.user_id)
        fastest_name = rounds.display_name(user.display_name if user else "", fastest.user_id)
    result = QuestionResult(
        question=shown,
        counts=tuple(counts),
        fastest=Fastest(fastest_name, fastest.time_ms) if fastest is not None else None,
        standings=tuple(await round_standings(session, group_round.id)),
    )
    # Only members who answered can use it (checked on press); what they say goes private.
    report = (Button(REPORT_LABEL, rounds.report_payload(item.token)),)
    return Outgoing(
        text=round_texts.closed_text(result), buttons=(report,), edit_ref=item.message_ref,
        is_edit=True,
    )  # fmt: skip


async def finish(session: AsyncSession, group_round: GroupRound, *, now: datetime) -> Outgoing:
    """Marks the round finished; the final ranked leaderboard."""
    group_round.state = RoundState.FINISHED
    group_round.finished_at = now
    standings = await round_standings(session, group_round.id)
    return Outgoing(
        text=round_texts.final_text(
            standings, total=len(group_round.plan), topic=group_round.topic
        )
    )


async def stop(
    session: AsyncSession, group_round: GroupRound, *, now: datetime, reason: str
) -> list[Outgoing]:
    """Ends an open round now: closes the open question (answers so far count) and posts
    the standings. Idempotent: a round already over yields nothing."""
    if group_round.state not in repo.OPEN_STATES:
        return []
    out: list[Outgoing] = []
    item = await repo.last_item(session, group_round.id)
    if item is not None and item.closed_at is None:
        item.closed_at = now
        await session.flush()
        out.append(await _closed_message(session, group_round, item))
    group_round.state = RoundState.STOPPED
    group_round.finished_at = now
    standings = await round_standings(session, group_round.id)
    played = 0 if item is None else item.position + 1
    out.append(
        Outgoing(
            text=round_texts.final_text(
                standings, total=played, topic=group_round.topic, stopped=reason
            )
        )
    )
    return out


async def stop_in_chat(
    session: AsyncSession, *, chat: Chat, user: User, is_admin: bool, now: datetime
) -> tuple[GroupRound, list[Outgoing]]:
    """`/stop_round`: only the starter or an admin may stop the chat's open round."""
    group_round = await repo.open_round_in_chat(session, chat.id)
    if group_round is None:
        raise NoOpenRound()
    if group_round.started_by != user.id and not is_admin:
        raise NotStarterOrAdmin()
    name = rounds.display_name(user.display_name, user.id)
    return group_round, await stop(session, group_round, now=now, reason=f"by {name}")


# --- answering -----------------------------------------------------------------------------


async def record_answer(
    session: AsyncSession, *, token: str, shown_index: int, user: User, chat: Chat, now: datetime
) -> Answered:
    """A member's tap on an option. First tap counts; everything else records nothing.

    Checked server-side: the token must name a question of a round in *this* chat and the
    user must be a member of it, the question must still be open, and the member must not
    have answered it yet. Membership is the platform's say-so: Telegram and Discord deliver a
    button press only to someone who sees that chat's message, so a tap *from the round's
    chat* is a member's; the same payload replayed from any other chat is refused, even by
    someone who once was a member (a stored membership row is not enough).
    """
    item = await repo.item_by_token(session, token, for_update=True)
    if item is None:
        raise UnknownRoundQuestion(reason="unknown round token")
    group_round = await repo.get_round(session, item.round_id)
    if group_round is None or group_round.chat_id != chat.id:
        raise NotARoundMember(reason="round token used outside its chat")
    if not await is_member(session, user.id, group_round.chat_id):
        raise NotARoundMember(reason="not a member of the round's chat")
    if (
        group_round.state not in repo.OPEN_STATES
        or item.closed_at is not None
        or now >= item.closes_at
    ):
        raise QuestionClosed(reason="late click")
    if not 0 <= shown_index < len(item.option_order):
        raise UnknownRoundQuestion(reason="option index out of range")
    question = None if item.question_id is None else await session.get(Question, item.question_id)
    if question is None:
        raise UnknownRoundQuestion("That question was removed from the group's material.")
    choice = int(item.option_order[shown_index])
    correct = choice == question.correct_index
    time_ms = max(0, round((now - item.posted_at).total_seconds() * 1000))
    streak = rounds.streak_before(
        await repo.member_results(session, group_round.id, user.id, item.position)
    )
    points = rounds.answer_points(
        correct=correct,
        time_ms=time_ms,
        window_ms=group_round.seconds_per_question * 1000,
        streak_before=streak,
    )
    stored = await repo.add_answer(
        session,
        RoundAnswer(
            round_item_id=item.id,
            user_id=user.id,
            choice=choice,
            correct=correct,
            time_ms=time_ms,
            score=points,
            answered_at=now,
        ),
    )
    if not stored:  # the unique (item, member) row is the one check for a second tap
        raise AlreadyAnsweredRound(reason="second click")
    # Also the member's own study (core.grading): card, attempt, XP and streak.
    await grading.record_answer(
        session,
        user,
        grading.Answer(
            question=question, choice=choice, confidence=None, time_ms=time_ms,
            source=AttemptSource.ROUND, answered_at=now, round_id=group_round.id,
        ),
    )  # fmt: skip
    return Answered(letter=rounds.LETTERS[shown_index], correct=correct, points=points)


# --- standings -----------------------------------------------------------------------------


async def round_standings(session: AsyncSession, round_id: int) -> list[Standing]:
    rows = await repo.answers_in_round(session, round_id)
    return rounds.rank_standings(_records(rows))


# /leaderboard's periods and how the title names them.
LEADERBOARD_PERIODS = {"week": "past 7 days", "all": "all time"}


async def leaderboard(session: AsyncSession, *, chat: Chat, period: str, now: datetime) -> str:
    """The chat's standings over the past 7 days (`week`) or ever (`all`)."""
    since = now - timedelta(days=7) if period == "week" else None
    rows, round_count = await repo.answers_in_chat_since(session, chat.id, since)
    standings = rounds.rank_standings(_records(rows))
    return round_texts.leaderboard_text(
        standings, period=LEADERBOARD_PERIODS.get(period, period), rounds=round_count
    )


def _records(rows: list[repo.AnswerRow]) -> list[AnswerRecord]:
    return [
        AnswerRecord(
            user_id=row.user_id,
            name=rounds.display_name(row.display_name, row.user_id),
            correct=row.correct,
            score=row.score,
            time_ms=row.time_ms,
        )
        for row in rows
    ]


# --- helpers -------------------------------------------------------------------------------


def _shown(group_round: GroupRound, item: RoundItem, question: Question) -> ShownQuestion:
    order = [int(i) for i in item.option_order]
    options = tuple(str(question.options[i]) for i in order)
    return ShownQuestion(
        position=item.position,
        total=len(group_round.plan),
        seconds=group_round.seconds_per_question,
        stem=question.stem,
        options=options,
        key=order.index(question.correct_index),
        topic=question.topic,
    )
