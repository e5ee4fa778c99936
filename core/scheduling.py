"""The student's card scheduler (SM-2 or FSRS), the card row <-> state mapping, and the
replay of the attempt log that reschedules every card when the student switches.

Both schedulers take a `CardState` and an SM-2 quality and return the next state and a
`ReviewLog` (py-fsrs style); `recall` is each one's own prediction of the chance the student
still knows the card, which the retention panel and the simulation bench score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from typing import Protocol
from zoneinfo import ZoneInfo

from fsrs import Scheduler
from sqlalchemy.ext.asyncio import AsyncSession

from core import fsrs_scheduler, srs
from core.srs import CardState, ReviewLog
from storage.enums import CardStatus, SchedulerKind
from storage.models import Card, User
from storage.repos.attempts import answer_log
from storage.repos.cards import cards_of


class CardScheduler(Protocol):
    @property
    def kind(self) -> SchedulerKind: ...

    def review(
        self, state: CardState, quality: int, *, now: datetime, tz: str | ZoneInfo
    ) -> tuple[CardState, ReviewLog]: ...

    def recall(self, state: CardState, now: datetime) -> float | None: ...


@dataclass(frozen=True)
class Sm2:
    """SM-2 as published (core.srs): the default."""

    kind: SchedulerKind = SchedulerKind.SM2

    def review(
        self, state: CardState, quality: int, *, now: datetime, tz: str | ZoneInfo
    ) -> tuple[CardState, ReviewLog]:
        return srs.review(state, quality, now=now, tz=tz)

    def recall(self, state: CardState, now: datetime) -> float | None:
        return srs.sm2_recall(state, now)


@dataclass(frozen=True)
class Fsrs:
    """FSRS through py-fsrs (core.fsrs_scheduler), at the student's retention and with their
    fitted parameters when they have some."""

    retention: float = fsrs_scheduler.DEFAULT_RETENTION
    parameters: tuple[float, ...] = field(default=())
    kind: SchedulerKind = SchedulerKind.FSRS

    @cached_property
    def _scheduler(self) -> Scheduler:
        return fsrs_scheduler.scheduler(self.retention, self.parameters or None)

    def review(
        self, state: CardState, quality: int, *, now: datetime, tz: str | ZoneInfo
    ) -> tuple[CardState, ReviewLog]:
        return fsrs_scheduler.review(state, quality, now=now, tz=tz, fsrs=self._scheduler)

    def recall(self, state: CardState, now: datetime) -> float | None:
        return fsrs_scheduler.fsrs_recall(state, now, self._scheduler)


def scheduler_for(user: User) -> CardScheduler:
    """The scheduler the student chose (/settings scheduler), SM-2 unless they chose FSRS."""
    if user.scheduler is SchedulerKind.FSRS:
        parameters = tuple(float(p) for p in user.fsrs_parameters or ())
        return Fsrs(retention=float(user.desired_retention), parameters=parameters)
    return Sm2()


def card_state(card: Card, now: datetime) -> CardState:
    """The state of a stored card (a row not yet flushed has no defaults: `now` stands in)."""
    return CardState(
        due_at=card.due_at or now,
        ease_factor=card.ease_factor if card.ease_factor is not None else srs.INITIAL_EASE,
        interval_days=card.interval_days or 0,
        repetitions=card.repetitions or 0,
        lapses=card.lapses or 0,
        status=card.status or CardStatus.NEW,
        last_reviewed_at=card.last_reviewed_at,
        stability=card.stability,
        difficulty=card.difficulty,
    )


def store_state(card: Card, state: CardState) -> None:
    """Writes `state` onto the card row."""
    card.ease_factor, card.interval_days = state.ease_factor, state.interval_days
    card.repetitions, card.lapses, card.status = state.repetitions, state.lapses, state.status
    card.due_at, card.last_reviewed_at = state.due_at, state.last_reviewed_at
    card.stability, card.difficulty = state.stability, state.difficulty


@dataclass(frozen=True)
class Replayed:
    quality: int
    answered_at: datetime


def replay(
    scheduler: CardScheduler,
    answers: Sequence[Replayed],
    *,
    created_at: datetime,
    tz: str | ZoneInfo,
    suspended: bool = False,
) -> CardState:
    """The card a scheduler would have made of these answers, oldest first. Pure."""
    state = srs.new_card(created_at)
    if suspended:
        state = replace(state, status=CardStatus.SUSPENDED)
    for answer in answers:
        state, _ = scheduler.review(state, answer.quality, now=answer.answered_at, tz=tz)
    return state


async def switch_scheduler(
    session: AsyncSession, user: User, kind: SchedulerKind, *, tz: str | ZoneInfo
) -> int:
    """Makes `kind` the student's scheduler and reschedules every card they have by
    replaying their attempt log through it; the log itself is untouched. Returns the number
    of cards rescheduled."""
    user.scheduler = kind
    return await reschedule_all(session, user, tz=tz)


async def reschedule_all(session: AsyncSession, user: User, *, tz: str | ZoneInfo) -> int:
    """Recomputes every card of the student from their attempt log under their scheduler."""
    scheduler = scheduler_for(user)
    by_question: dict[int, list[Replayed]] = {}
    for attempt in await answer_log(session, user.id):
        if attempt.question_id is not None:
            by_question.setdefault(attempt.question_id, []).append(
                Replayed(int(attempt.quality), attempt.answered_at)
            )
    cards = await cards_of(session, user.id)
    for card in cards:
        answers = by_question.get(card.question_id, [])
        if not answers:
            continue
        state = replay(
            scheduler, answers, created_at=answers[0].answered_at, tz=tz,
            suspended=card.status is CardStatus.SUSPENDED,
        )  # fmt: skip
        store_state(card, state)
    return len(cards)
