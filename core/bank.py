"""The question bank a student (or a group) manages: list and search its questions with how
they have done, open one whole, delete, retire or restore it.

Only questions of the chat's own scope are ever found: a forged id of another student's
question is "not in your bank". In a group, changes are for the member who uploaded the
question's material or a chat admin (asked of the platform afresh, as for materials).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core import srs
from core.errors import RoundsError
from core.study import LETTERS, source_line
from storage.enums import RetiredBecause
from storage.models import Question, Scope, User
from storage.repos import bank as repo
from storage.repos import reports as reports_repo

PAGE_SIZE = 5

RETIRED_WHY = {
    RetiredBecause.REPORTS: "retired after reports",
    RetiredBecause.LOW_QUALITY: "retired: low quality",
    RetiredBecause.BY_OWNER: "retired by hand",
}


class NotInBank(RoundsError):
    user_message = "That question is not in this bank any more. Send /bank to see it."


class NotYourBank(RoundsError):
    user_message = (
        "Only the member who uploaded this material or a chat admin can open or change its "
        "questions: their answers are not shown to the whole group."
    )


class NothingOnThatPage(RoundsError):
    user_message = "There is no such page. Send /bank to start from the first."


@dataclass(frozen=True)
class Entry:
    question_id: int
    stem: str
    topic: str
    predicted: int
    observed: float | None
    quality: float | None
    answered: int
    status: str


@dataclass(frozen=True)
class Page:
    entries: list[Entry]
    number: int  # from 0
    pages: int
    total: int


@dataclass(frozen=True)
class Opened:
    entry: Entry
    options: list[str]
    key_letter: str
    explanation: str
    source: str
    retired: bool


def status_of(question: Question) -> str:
    if question.retired_at is None:
        return "in use"
    if question.retired_because is None:
        return "retired"
    return RETIRED_WHY[question.retired_because]


def _entry(question: Question) -> Entry:
    return Entry(
        question_id=question.id, stem=question.stem, topic=question.topic,
        predicted=question.difficulty, observed=question.observed_difficulty,
        quality=question.quality, answered=question.times_answered, status=status_of(question),
    )  # fmt: skip


async def page(session: AsyncSession, scope: Scope, *, words: list[str], number: int) -> Page:
    """One page of the bank (newest first), filtered by `words` (all must match)."""
    if number < 0:
        raise NothingOnThatPage(reason="negative page")
    found = await repo.page_of(
        session, scope.id, words=words, offset=number * PAGE_SIZE, limit=PAGE_SIZE
    )
    pages = max(1, math.ceil(found.total / PAGE_SIZE))
    if number >= pages:
        raise NothingOnThatPage(reason="page past the end")
    return Page([_entry(q) for q in found.questions], number, pages, found.total)


async def opened(
    session: AsyncSession, scope: Scope, question_id: int, *, user: User, is_admin: bool
) -> Opened:
    """The question whole, key included: in a group, only for those who may manage it (a
    key shown to the group would spoil its next round)."""
    question = await _manageable(session, scope, question_id, user=user, is_admin=is_admin)
    options = [str(option) for option in question.options]
    return Opened(
        entry=_entry(question),
        options=options,
        key_letter=LETTERS[question.correct_index],
        explanation=question.explanation,
        source=await source_line(session, question),
        retired=question.retired_at is not None,
    )


async def delete(
    session: AsyncSession, scope: Scope, question_id: int, *, user: User, is_admin: bool
) -> str:
    """Deletes the question for good (its cards too; answers stay in history). Its stem."""
    question = await _manageable(session, scope, question_id, user=user, is_admin=is_admin)
    stem = question.stem
    await repo.delete_question(session, question)
    return stem


async def retire(
    session: AsyncSession,
    scope: Scope,
    question_id: int,
    *,
    user: User,
    is_admin: bool,
    now: datetime,
) -> Question:
    question = await _manageable(session, scope, question_id, user=user, is_admin=is_admin)
    await reports_repo.retire(session, question, because=RetiredBecause.BY_OWNER, now=now)
    return question


async def restore(
    session: AsyncSession, scope: Scope, question_id: int, *, user: User, is_admin: bool
) -> Question:
    """Back in circulation; its suspended cards resume where their SM-2 state left them."""
    question = await _manageable(session, scope, question_id, user=user, is_admin=is_admin)
    question.retired_at, question.retired_because = None, None
    for card in await repo.suspended_cards(session, question.id):
        card.status = srs.status_in_play(
            repetitions=card.repetitions, reviewed=card.last_reviewed_at is not None
        )
    return question


async def _in_bank(session: AsyncSession, scope: Scope, question_id: int) -> Question:
    question = await repo.question_in_scope(session, scope.id, question_id)
    if question is None:
        raise NotInBank(reason="question not in this scope")
    return question


async def _manageable(
    session: AsyncSession, scope: Scope, question_id: int, *, user: User, is_admin: bool
) -> Question:
    question = await _in_bank(session, scope, question_id)
    in_group = scope.chat_id is not None
    if in_group and not is_admin and await repo.uploader_of(session, question) != user.id:
        raise NotYourBank(reason="group question of another member's material")
    return question
