"""The router's own promises: one turn per event, and what an event says about the student."""

from __future__ import annotations

from datetime import UTC, datetime

from core.settings import Settings
from handlers.context import Services
from handlers.router import Router
from handlers.types import Actor, ChatRef, EventKind, Incoming
from storage.db import Database
from storage.enums import ChatKind, Platform
from storage.repos.users import get_or_create_user

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _command(external_id: str, command: str) -> Incoming:
    return Incoming(
        platform=Platform.TELEGRAM,
        user=Actor(external_id, "Priya"),
        chat=ChatRef(external_id, ChatKind.PRIVATE),
        kind=EventKind.COMMAND,
        received_at=NOW,
        command=command,
    )


async def test_a_student_who_writes_again_is_reachable_again(
    settings: Settings, db: Database
) -> None:
    async with db.session() as session:
        user = await get_or_create_user(session, Platform.TELEGRAM, "77", "Priya")
        user.unreachable = True  # a reminder failed with 403: the bot was blocked
    router = Router(Services(settings=settings, db=db))
    replies = await router.route(_command("77", "help"))
    assert replies and "/start" in replies[0].text
    async with db.session() as session:
        user = await get_or_create_user(session, Platform.TELEGRAM, "77")
        assert user.unreachable is False


async def test_unknown_commands_are_explained_and_change_nothing(
    settings: Settings, db: Database
) -> None:
    router = Router(Services(settings=settings, db=db))
    replies = await router.route(_command("78", "frobnicate"))
    assert replies[0].text.startswith("I don't know /frobnicate")
