"""Test helpers for group rounds: a hand-moved clock, a driver that runs the round timers'
APScheduler jobs at their due times on that clock, a notifier that records what a chat
would see, and a seeded study group (group chat, members, group-scope questions)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import select

from core.settings import Settings
from handlers.context import Services
from handlers.router import Router
from handlers.types import Actor, ChatRef, EventKind, Incoming, Reply
from scheduler.notifier import Button
from scheduler.rounds import JOB_PREFIX, RoundTimers
from storage.db import Database
from storage.enums import ChatKind, MaterialStatus, Platform
from storage.models import Chunk, Material, Question, RoundItem
from storage.repos.chats import ensure_membership, get_or_create_chat, group_scope
from storage.repos.users import get_or_create_user

T0 = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)


class FakeClock:
    """The injected clock: time moves only when a test moves it."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = max(self.now, moment)

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


async def paused_scheduler() -> AsyncIOScheduler:
    """A real AsyncIOScheduler that books jobs but never fires them on its own."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.start(paused=True)
    return scheduler


class TimerDriver:
    """Runs the round jobs of a paused scheduler in due order as the fake clock passes them,
    like the real scheduler would, without sleeping."""

    def __init__(self, scheduler: AsyncIOScheduler, clock: FakeClock) -> None:
        self.scheduler = scheduler
        self.clock = clock

    def pending(self) -> list[Any]:
        jobs = [job for job in self.scheduler.get_jobs() if job.id.startswith(JOB_PREFIX)]
        return sorted(jobs, key=lambda job: job.next_run_time)

    async def run_due(self) -> int:
        ran = 0
        while True:
            due = [job for job in self.pending() if job.next_run_time <= self.clock.now]
            if not due:
                return ran
            job = due[0]
            # Removed before it runs, as APScheduler does with a date job: the tick books
            # its successor under the same id.
            self.scheduler.remove_job(job.id)
            await job.func(*job.args, **job.kwargs)
            ran += 1

    async def advance(self, seconds: float) -> None:
        """Moves the clock forward, running each job at its own due time on the way."""
        target = self.clock.now + timedelta(seconds=seconds)
        while True:
            upcoming = [job for job in self.pending() if job.next_run_time <= target]
            if not upcoming:
                break
            self.clock.set(upcoming[0].next_run_time)
            await self.run_due()
        self.clock.set(target)
        await self.run_due()

    def next_wake(self) -> datetime | None:
        jobs = self.pending()
        return jobs[0].next_run_time if jobs else None


@dataclass
class Sent:
    ref: str
    address: str
    text: str
    buttons: list[list[Button]]
    edits: list[str] = field(default_factory=list)


class RecordingNotifier:
    """What a group chat would see, recorded: each message with its later edits."""

    def __init__(self, platform: Platform = Platform.TELEGRAM) -> None:
        self._platform = platform
        self.messages: list[Sent] = []

    @property
    def platform(self) -> Platform:
        return self._platform

    async def send(self, address: str, text: str, buttons: Sequence[Sequence[Button]] = ()) -> str:
        ref = str(1000 + len(self.messages))
        self.messages.append(Sent(ref, address, text, [list(row) for row in buttons]))
        return ref

    async def edit(
        self,
        address: str,
        message_ref: str,
        text: str,
        buttons: Sequence[Sequence[Button]] = (),
    ) -> None:
        for message in self.messages:
            if message.ref == message_ref:
                message.text = text
                message.buttons = [list(row) for row in buttons]
                message.edits.append(text)
                return
        raise LookupError(message_ref)

    def by_ref(self, ref: str) -> Sent:
        return next(message for message in self.messages if message.ref == ref)


@dataclass(frozen=True)
class Group:
    chat_id: int
    chat_external_id: str
    scope_id: int
    member_ids: dict[str, int]
    question_ids: list[int]


def group_question(
    scope_id: int, material_id: int | None, chunk_id: int, index: int, topic: str
) -> Question:
    """Question `index` of the group: its key is option index % 4."""
    key = index % 4
    options = [f"wrong {index}.{i}" for i in range(4)]
    options[key] = f"right {index}"
    return Question(
        scope_id=scope_id,
        material_id=material_id,
        stem=f"G{index}: Which structure of the heart is described as number {index}?",
        stem_hash=f"group-{topic}-{index}-{material_id}",
        options=options,
        correct_index=key,
        explanation=f"Structure {index}.",
        topic=topic,
        difficulty=3,
        source_chunk_ids=[chunk_id],
        source_pages=[3],
    )


async def seed_group(
    db: Database,
    *,
    platform: Platform = Platform.TELEGRAM,
    chat_external_id: str = "-100500",
    members: Sequence[str] = ("ann", "bea", "cy"),
    admins: Sequence[str] = (),
    questions: int = 3,
    topic: str = "Heart valves",
) -> Group:
    """A study group chat with members and `questions` questions in the group's scope."""
    async with db.session() as session:
        chat = await get_or_create_chat(
            session, platform, chat_external_id, ChatKind.GROUP, "Study group"
        )
        scope = await group_scope(session, chat)
        ids: dict[str, int] = {}
        for name in members:
            user = await get_or_create_user(session, platform, f"u-{name}", name.title())
            await ensure_membership(session, user, chat, is_admin=name in admins)
            ids[name] = user.id
        material = Material(
            scope_id=scope.id,
            filename="heart.pdf",
            title="Heart",
            sha256=f"group{chat_external_id}".ljust(64, "0")[:64],
            size_bytes=10,
            status=MaterialStatus.READY,
            pages=4,
        )
        session.add(material)
        await session.flush()
        chunk = Chunk(
            material_id=material.id,
            ordinal=0,
            page_start=3,
            page_end=3,
            heading="19.2 Cardiac Muscle",
            text="The heart has four valves ...",
        )
        session.add(chunk)
        await session.flush()
        rows = [
            group_question(scope.id, material.id, chunk.id, i, topic) for i in range(questions)
        ]
        session.add_all(rows)
        await session.flush()
        return Group(chat.id, chat_external_id, scope.id, ids, [row.id for row in rows])


@dataclass
class Rig:
    """One running process's worth of round machinery over a shared database."""

    db: Database
    clock: FakeClock
    notifier: RecordingNotifier
    scheduler: AsyncIOScheduler
    timers: RoundTimers
    router: Router
    driver: TimerDriver

    async def command(
        self, member: str, name: str, *args: str, chat: str = "-100500", admin: bool = False
    ) -> list[Reply]:
        return await self.router.route(
            Incoming(
                platform=self.notifier.platform,
                user=Actor(f"u-{member}", member.title(), is_admin=admin),
                chat=ChatRef(chat, ChatKind.GROUP if chat.startswith("-") else ChatKind.PRIVATE),
                kind=EventKind.COMMAND,
                received_at=self.clock(),
                command=name,
                args=args,
            )
        )

    async def click(self, member: str, payload: str, *, chat: str = "-100500") -> list[Reply]:
        return await self.router.route(
            Incoming(
                platform=self.notifier.platform,
                user=Actor(f"u-{member}", member.title()),
                chat=ChatRef(chat, ChatKind.GROUP if chat.startswith("-") else ChatKind.PRIVATE),
                kind=EventKind.BUTTON,
                received_at=self.clock(),
                payload=payload,
            )
        )

    def shutdown(self) -> None:
        """The process dies: its scheduler and every booked job are gone."""
        self.scheduler.shutdown(wait=False)


async def make_rig(
    db: Database, settings: Settings, clock: FakeClock, notifier: RecordingNotifier
) -> Rig:
    scheduler = await paused_scheduler()
    timers = RoundTimers(
        db=db, scheduler=scheduler, notifiers={notifier.platform: notifier}, clock=clock
    )
    services = Services(settings=settings, db=db, clock=clock, round_timers=timers)
    return Rig(
        db, clock, notifier, scheduler, timers, Router(services), TimerDriver(scheduler, clock)
    )


async def key_of(db: Database, payload: str) -> int:
    """The shown index of the right answer for the round question a button belongs to."""
    token = payload.split(":")[1]
    async with db.session() as session:
        item = await session.scalar(select(RoundItem).where(RoundItem.token == token))
        assert item is not None
        question = await session.get(Question, item.question_id)
        assert question is not None
        return [int(i) for i in item.option_order].index(question.correct_index)


def option_payloads(message: Sent) -> list[str]:
    return [button.payload for row in message.buttons for button in row]
