"""Test data for the study loop: a student with one ready PDF and questions inserted directly
(no ingest or generation), so quiz tests run in milliseconds; and a student driving the real
router the way an adapter would."""

from __future__ import annotations

import asyncio
import itertools
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.settings import Settings
from handlers.context import Services
from handlers.router import Router
from handlers.types import Actor, ChatRef, Document, EventKind, Incoming, Reply, SentMessage
from storage.db import Database
from storage.enums import ChatKind, MaterialStatus, Platform
from storage.models import Chunk, Material, Question, User
from storage.repos.chats import personal_scope
from storage.repos.users import get_or_create_user

T0 = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
HEADING = "19.5 Heart Development"
FILENAME = "heart.pdf"


@dataclass(frozen=True)
class Seeded:
    user_id: int
    scope_id: int
    material_id: int
    question_ids: list[int]


def question_row(scope_id: int, material_id: int, chunk_id: int, index: int,
                 *, topic: str, difficulty: int = 3) -> Question:  # fmt: skip
    return Question(
        scope_id=scope_id,
        material_id=material_id,
        stem=f"Q{index}: Which embryonic structure becomes part {index} of the heart?",
        stem_hash=f"{topic}-{index}-{material_id}",
        options=[f"right {index}", f"wrong a{index}", f"wrong b{index}", f"wrong c{index}"],
        correct_index=0,
        explanation=f"Because structure {index} forms there (p. 3).",
        topic=topic,
        difficulty=difficulty,
        source_chunk_ids=[chunk_id],
        source_pages=[3],
    )


async def add_questions(
    session: AsyncSession,
    user: User,
    count: int,
    *,
    topic: str = "Heart development",
    difficulty: int = 3,
    start: int = 0,
) -> list[int]:
    """Adds `count` questions (key = option 0) on `topic` to the student's scope."""
    scope = await personal_scope(session, user)
    material = Material(
        scope_id=scope.id, filename=FILENAME, title="Heart",
        sha256=f"{topic}{start}".ljust(64, "0"), size_bytes=10,
        status=MaterialStatus.READY, pages=4,
    )  # fmt: skip
    session.add(material)
    await session.flush()
    chunk = Chunk(material_id=material.id, ordinal=0, page_start=3, page_end=3,
                  heading=HEADING, text="The heart develops from ...")  # fmt: skip
    session.add(chunk)
    await session.flush()
    rows = [
        question_row(scope.id, material.id, chunk.id, start + i, topic=topic,
                     difficulty=difficulty)
        for i in range(count)
    ]  # fmt: skip
    session.add_all(rows)
    await session.flush()
    return [row.id for row in rows]


async def seed_student(
    db: Database,
    *,
    external_id: str = "ada",
    count: int = 3,
    topic: str = "Heart development",
    platform: Platform = Platform.CONSOLE,
) -> Seeded:
    async with db.session() as session:
        user = await get_or_create_user(session, platform, external_id, external_id.title())
        ids = await add_questions(session, user, count, topic=topic)
        scope = await personal_scope(session, user)
        question = await session.get(Question, ids[0]) if ids else None
        material_id = question.material_id if question and question.material_id else 0
        return Seeded(user.id, scope.id, material_id, ids)


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@dataclass
class Student:
    """One student typing and clicking in a private chat, like an adapter would send it."""

    router: Router
    clock: Clock
    external_id: str = "ada"
    refs: itertools.count = field(default_factory=lambda: itertools.count(1))
    seen: list[Reply] = field(default_factory=list)

    def _incoming(self, kind: EventKind, **fields: object) -> Incoming:
        return Incoming(
            platform=Platform.CONSOLE, user=Actor(self.external_id, self.external_id.title()),
            chat=ChatRef(self.external_id, ChatKind.PRIVATE), kind=kind,
            received_at=self.clock.now, **fields,  # type: ignore[arg-type]
        )  # fmt: skip

    async def _deliver(self, replies: list[Reply]) -> list[Reply]:
        for reply in replies:
            if reply.track:
                sent = SentMessage(reply.track, str(next(self.refs)), self.clock.now)
                await self.router.message_sent(sent)
        self.seen += replies
        return replies

    async def say(self, line: str) -> list[Reply]:
        command, *args = line.lstrip("/").split()
        incoming = self._incoming(EventKind.COMMAND, command=command, args=tuple(args), text=line)
        return await self._deliver(await self.router.route(incoming))

    async def click(self, payload: str) -> list[Reply]:
        incoming = self._incoming(EventKind.BUTTON, payload=payload, message_ref="1")
        return await self._deliver(await self.router.route(incoming))

    async def upload(self, path: Path) -> list[Reply]:
        async def read() -> bytes:
            return await asyncio.to_thread(path.read_bytes)

        size = await asyncio.to_thread(os.path.getsize, path)
        document = Document(filename=path.name, size=size, read=read)
        incoming = self._incoming(EventKind.DOCUMENT, document=document)
        return await self._deliver(await self.router.route(incoming))


def router_for(settings: Settings, db: Database, clock: Clock, **services: Any) -> Router:
    """A router over `db`; `services` adds collaborators (embedder, indexes, files)."""
    return Router(Services(settings=settings, db=db, clock=clock, **services))
