"""Whether a stored question stays in circulation: students' reports, the quality score
recomputed after every answer, and retirement (rules and formula in core/quality.py).

A retired question is never posed again (quiz plans, reviews and rounds skip it) and its
cards are suspended, not deleted, so every student's history stays whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from core import quality, srs
from core.errors import RoundsError
from storage.enums import ItemState, ReportReason, RetiredBecause
from storage.models import Question, QuestionReport, User
from storage.repos import reports as repo
from storage.repos.study import item_with_session

REASON_LABELS = {
    ReportReason.WRONG_KEY: "Wrong answer key",
    ReportReason.SEVERAL_RIGHT: "More than one right answer",
    ReportReason.UNCLEAR: "Unclear",
    ReportReason.NOT_IN_MATERIAL: "Not in my material",
    ReportReason.DUPLICATE: "Duplicate",
    ReportReason.OTHER: "Other",
}


class ReportSource(StrEnum):
    """Where the reported question was revealed; the button carries that place's token."""

    QUIZ = "q"  # a private quiz or review item (quiz_items.token)
    ROUND = "r"  # a group round question (round_items.token)


class ReportRefused(RoundsError):
    user_message = "That report button is not valid any more."


class NotSeenYet(RoundsError):
    user_message = "You can report a question once you have answered it and seen its key."


class NotYourReport(RoundsError):
    user_message = "You can only report questions you answered yourself."


@dataclass(frozen=True)
class ReportOutcome:
    """What a report did: stored (False: this student had reported it already), whether it
    retired the question now, and the earlier reporters still to be told about that."""

    recorded: bool
    retired_now: bool = False
    was_retired: bool = False
    others_to_tell: tuple[User, ...] = ()


async def reported_question(
    session: AsyncSession, *, user: User, source: str, token: str
) -> Question:
    """The question a report button names, if this student answered it and saw its key.

    The same checks as an answer button: the token must exist, belong to the student (a
    private item) or to a round question they answered, and be past its reveal.
    """
    if source == ReportSource.QUIZ:
        found = await item_with_session(session, token)
        if found is None:
            raise ReportRefused(reason="unknown quiz token")
        item, quiz_session, question = found
        if quiz_session.user_id != user.id:
            raise NotYourReport(reason="quiz item of another student")
        if item.state is not ItemState.REVEALED:
            raise NotSeenYet(reason="quiz item not revealed")
    elif source == ReportSource.ROUND:
        round_item = await repo.round_item_by_token(session, token)
        if round_item is None:
            raise ReportRefused(reason="unknown round token")
        if not await repo.answered_round_item(session, user.id, round_item.id):
            raise NotSeenYet(reason="round question not answered by this member")
        if round_item.closed_at is None:
            raise NotSeenYet(reason="round question still open")
        question = (
            None
            if round_item.question_id is None
            else await session.get(Question, round_item.question_id)
        )
    else:
        raise ReportRefused(reason="unknown report source")
    if question is None:
        raise ReportRefused("That question was deleted already; thanks all the same.")
    if not await repo.has_answered(session, user.id, question.id):
        raise NotSeenYet(reason="no attempt on the question")
    return question


async def report(
    session: AsyncSession, *, user: User, question: Question, reason: ReportReason, now: datetime
) -> ReportOutcome:
    """Records one report per student per question; retires the question once enough of
    the students who answered it reported it (quality.retired_by_reports)."""
    stored = await repo.add_report(
        session,
        QuestionReport(question_id=question.id, user_id=user.id, reason=reason, created_at=now),
    )
    if not stored:
        return ReportOutcome(recorded=False, was_retired=question.retired_at is not None)
    if question.retired_at is not None:
        await repo.mark_told(session, question.id, user.id, now)
        return ReportOutcome(recorded=True, was_retired=True)
    usage = await usage_of(session, question)
    if quality.retired_by_reports(reports=usage.reports, students=usage.students):
        await repo.retire(session, question, because=RetiredBecause.REPORTS, now=now)
        await repo.mark_told(session, question.id, user.id, now)
        others = await repo.untold_reporters(session, question.id)
        return ReportOutcome(recorded=True, retired_now=True, others_to_tell=tuple(others))
    question.quality = quality.quality(usage)
    return ReportOutcome(recorded=True)


async def mark_told(session: AsyncSession, question: Question, user: User, now: datetime) -> bool:
    """Records that a reporter heard their report retired the question (they hear it once)."""
    return await repo.mark_told(session, question.id, user.id, now)


async def rescore(session: AsyncSession, question: Question, *, now: datetime) -> None:
    """After an answer: the question's quality and observed difficulty from all its answers;
    an item that stays under the quality floor after enough answers is retired."""
    usage = await usage_of(session, question)
    question.quality = round(quality.quality(usage), 4)
    question.observed_difficulty = quality.observed_difficulty(usage)
    if question.retired_at is None and quality.below_floor(usage):
        await repo.retire(session, question, because=RetiredBecause.LOW_QUALITY, now=now)


async def usage_of(session: AsyncSession, question: Question) -> quality.Usage:
    stats = await repo.answer_stats(session, question.id, confident_from=quality.CONFIDENT)
    chars = len(question.stem) + sum(len(str(option)) for option in question.options)
    budget = srs.answer_budget_ms(chars)
    return quality.Usage(
        answers=stats.answers,
        right=stats.right,
        rated=stats.rated,
        confidently_wrong=stats.confidently_wrong,
        time_ratio=None if stats.median_time_ms is None else stats.median_time_ms / budget,
        students=stats.students,
        reports=stats.reports,
    )


def effective_difficulty(question: Question) -> int:
    """The observed difficulty once there is one, else the generator's prediction."""
    if question.observed_difficulty is None:
        return int(question.difficulty)
    return max(1, min(5, round(question.observed_difficulty)))
