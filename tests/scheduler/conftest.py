"""Helpers for scheduler tests: a recording notifier, a fake monotonic clock, seeded users."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from core.buttons import Button
from scheduler.notifier import RecipientUnreachable
from scheduler.pacing import Pacer
from storage.db import Database
from storage.enums import Platform, ScopeKind
from storage.models import Card, Question, Scope, User


class Crash(BaseException):
    """Stands in for the process dying mid-send: nothing after it runs."""


@dataclass
class Sent:
    address: str
    text: str
    buttons: Sequence[Sequence[Button]]


@dataclass
class RecordingNotifier:
    """A platform that records what it was asked to send (the 'user's phone')."""

    platform: Platform = Platform.TELEGRAM
    sent: list[Sent] = field(default_factory=list)
    unreachable: set[str] = field(default_factory=set)
    failures: list[BaseException] = field(default_factory=list)

    async def send(self, address: str, text: str, buttons: Sequence[Sequence[Button]] = ()) -> str:
        if self.failures:
            raise self.failures.pop(0)
        if address in self.unreachable:
            raise RecipientUnreachable(address, "Forbidden: bot was blocked by the user")
        self.sent.append(Sent(address, text, buttons))
        return str(len(self.sent))

    async def edit(self, address: str, message_ref: str, text: str, buttons=()) -> None:  # type: ignore[no-untyped-def]
        return None

    def to(self, address: str) -> list[Sent]:
        return [message for message in self.sent if message.address == address]


class FakeTime:
    """A monotonic clock whose sleep advances time instantly: pacing tests never wait."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def pacer(fake_time: FakeTime) -> Pacer:
    return Pacer(monotonic=fake_time.monotonic, sleep=fake_time.sleep)


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


async def add_user(
    db: Database,
    external_id: str,
    *,
    tz: str = "UTC",
    hour: int = 19,
    minute: int = 0,
    due_cards: int = 0,
    due_at: datetime | None = None,
    later_cards: int = 0,
    platform: Platform = Platform.TELEGRAM,
    **fields: object,
) -> int:
    """A user with `due_cards` cards due at `due_at` (long ago by default) and some due later."""
    async with db.session() as session:
        user = User(
            platform=platform,
            external_id=external_id,
            tz=tz,
            reminder_hour=hour,
            reminder_minute=minute,
            **fields,
        )
        session.add(user)
        await session.flush()
        scope = Scope(kind=ScopeKind.USER, user_id=user.id)
        session.add(scope)
        await session.flush()
        past = due_at or utc(2020, 1, 1)
        future = utc(2100, 1, 1)
        for index in range(due_cards + later_cards):
            question = Question(
                scope_id=scope.id,
                stem=f"Question {index} for {external_id}?",
                stem_hash=f"{external_id}-{index}",
                options=["a", "b", "c", "d"],
                correct_index=0,
            )
            session.add(question)
            await session.flush()
            when = past if index < due_cards else future
            session.add(Card(user_id=user.id, question_id=question.id, due_at=when))
        await session.flush()
        return user.id
