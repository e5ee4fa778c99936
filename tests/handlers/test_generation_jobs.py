"""Questions written in the background: /quiz answers at once, nobody waits on a lock, the
quiz starts by itself, a dead process's run is picked up or closed, the limits speak plainly."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from core.generation_jobs import STALE_AFTER, GenerationJobs
from core.offload import Offload, ProcessOffload
from core.settings import Settings
from core.texts.commands import GENERIC_FAILURE
from handlers import generation
from handlers.context import Services
from handlers.router import Router
from handlers.types import (
    Actor,
    ChatRef,
    Document,
    EventKind,
    Incoming,
    Reply,
    SentMessage,
    Tone,
)
from scheduler.rounds import RoundTimers
from storage.db import Database
from storage.enums import ChatKind, Platform, RunStatus
from storage.files import FileStore
from storage.models import Chat, GenerationRun, User
from storage.repos.chats import personal_scope
from storage.vector_index import VectorIndexes
from tests.materials_support import CHAPTER, EXCERPT, HashingEmbedder
from tests.rounds_support import FakeClock, RecordingNotifier, TimerDriver, paused_scheduler

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class GatedEmbedder:
    """Embeds like `inner`, but once armed the next call waits for `go`: the job is then in
    the middle of writing questions."""

    def __init__(self, inner: Any = None) -> None:
        self.inner = inner or HashingEmbedder()
        self.name, self.dim = self.inner.name, self.inner.dim
        self.armed = False
        self.waiting = asyncio.Event()
        self.go = asyncio.Event()

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        if self.armed:
            self.armed = False
            self.waiting.set()
            await self.go.wait()
        return await self.inner.embed(texts)


@dataclass
class RecordingOutbox:
    """What background jobs posted, per chat."""

    posted: list[tuple[str, Reply]] = field(default_factory=list)

    async def post(self, chat_address: str, replies: Sequence[Reply]) -> None:
        self.posted.extend((chat_address, reply) for reply in replies)

    def texts(self) -> list[str]:
        return [reply.text for _, reply in self.posted]


@dataclass
class Rig:
    router: Router
    services: Services
    jobs: GenerationJobs
    outbox: RecordingOutbox
    embedder: GatedEmbedder
    now: datetime = T0

    def event(self, who: str, kind: EventKind, **fields: object) -> Incoming:
        return Incoming(
            platform=Platform.CONSOLE, user=Actor(who, who.title()),
            chat=ChatRef(who, ChatKind.PRIVATE), kind=kind, received_at=self.now,
            **fields,  # type: ignore[arg-type]
        )  # fmt: skip

    async def command(self, who: str, command: str, *args: str) -> list[Reply]:
        return await self.router.route(
            self.event(who, EventKind.COMMAND, command=command, args=tuple(args))
        )

    async def upload(self, who: str, data: bytes) -> None:
        async def read() -> bytes:
            return data

        document = Document(filename="heart.pdf", size=len(data), read=read)
        replies = await self.router.route(self.event(who, EventKind.DOCUMENT, document=document))
        assert replies[0].tone is Tone.GOOD, replies[0].text

    async def delivered(self, reply: Reply, ref: str = "status-1") -> None:
        """What an adapter does once the status message is in the chat."""
        await self.router.message_sent(SentMessage(reply.track, ref, self.now))


async def _rig(
    db: Database, settings: Settings, inner: Any = None, offload: Offload | None = None
) -> Rig:
    embedder = GatedEmbedder(inner)
    rig_now = {"now": T0}
    services = Services(
        settings=settings, db=db, clock=lambda: rig_now["now"], embedder=embedder,
        indexes=VectorIndexes(settings.data_dir, dim=embedder.dim),
        files=FileStore(settings.data_dir),
    )  # fmt: skip
    jobs = GenerationJobs.build(
        db=db, settings=settings, embedder=embedder, indexes=services.indexes,
        clock=services.clock, offload=offload,
    )  # fmt: skip
    jobs.resume = lambda row: generation.resume(services, row)
    jobs.abandoned = lambda row: generation.abandoned(services, row)
    jobs.reports_for = lambda row: generation.reports_for(services, row)
    services.jobs = jobs
    outbox = RecordingOutbox()
    services.outboxes[Platform.CONSOLE] = outbox
    return Rig(Router(services), services, jobs, outbox, embedder)


@pytest.fixture
async def rig(db: Database, settings: Settings, shared_data: Path) -> Rig:
    made = await _rig(db, settings)
    await made.upload("ann", (shared_data / CHAPTER).read_bytes())
    return made


async def _runs(db: Database) -> list[GenerationRun]:
    async with db.session() as session:
        return list(await session.scalars(select(GenerationRun).order_by(GenerationRun.id)))


async def test_quiz_answers_at_once_and_starts_by_itself_when_the_questions_are_written(
    rig: Rig, db: Database
) -> None:
    rig.embedder.armed = True
    [status] = await rig.command("ann", "quiz", "3")
    assert status.text.startswith("Writing 3 new questions from your material")
    assert "your quiz starts by itself" in status.text
    # The request committed a running run and returned; the job waits mid-generation.
    await rig.embedder.waiting.wait()
    assert db.engine.pool.checkedout() == 0, "no connection is held while the job thinks"  # type: ignore[attr-defined]
    [run] = await _runs(db)
    assert run.status is RunStatus.RUNNING and run.triggered_by == "quiz"
    await rig.delivered(status)

    # Another student writes while the job thinks: no lock is held, nothing fails.
    other = await rig.command("bea", "settings")
    assert other and other[0].text != GENERIC_FAILURE

    rig.embedder.go.set()
    await rig.jobs.idle()
    [run] = await _runs(db)
    assert run.status is RunStatus.COMPLETED and run.inserted == 3
    assert run.completed_at is not None
    done, question = rig.outbox.posted
    assert done[1].edit_of == "status-1" and done[1].text == "Wrote 3 new questions."
    assert question[1].title.startswith("Question 1 of 3")
    assert question[1].flat_buttons, "the quiz's first question, with its answer buttons"


async def test_questions_written_in_a_worker_process_report_progress_and_start_the_quiz(
    db: Database, settings: Settings, shared_data: Path
) -> None:
    pool = ProcessOffload(HashingEmbedder(), workers=1)
    rig = await _rig(db, settings, offload=pool)
    try:
        await rig.upload("ann", (shared_data / CHAPTER).read_bytes())
        [status] = await rig.command("ann", "quiz", "6")
        await rig.delivered(status)
        here = rig.embedder.inner.calls
        await rig.jobs.idle()
    finally:
        await pool.close()
    assert rig.embedder.inner.calls == here, "the offline generator ran in the worker"
    [run] = await _runs(db)
    assert run.status is RunStatus.COMPLETED and run.inserted == 6
    texts = rig.outbox.texts()
    assert texts[0].startswith("Writing 6 new questions"), "the status message is edited"
    assert "Wrote 6 new questions." in texts
    assert any(reply.title.startswith("Question 1 of 6") for _, reply in rig.outbox.posted)


async def test_a_topic_that_runs_short_says_how_many_and_why_and_offers_the_whole_material(
    db: Database, settings: Settings, shared_data: Path, embedder: Any
) -> None:
    rig = await _rig(db, settings, embedder)  # the real model: topic hits need meaning
    await rig.upload("ann", (shared_data / EXCERPT).read_bytes())
    [status] = await rig.command("ann", "quiz", "heart", "development", "20")
    assert "Writing 20 new questions" in status.text
    await rig.jobs.idle()
    [run] = await _runs(db)
    assert 0 < run.inserted < 20, (run.error, rig.outbox.texts())
    texts = rig.outbox.texts()
    note = next(reply for _, reply in rig.outbox.posted if "I could write" in reply.text)
    assert f"I could write {run.inserted} of the 20 new questions you asked for." in note.text
    assert run.error and run.error in note.text
    assert [b.label for b in note.flat_buttons] == ["Quiz the whole material"]
    assert any(text.startswith("Question") for text in [r.title for _, r in rig.outbox.posted])
    assert not any("Writing 20" in text for text in texts[1:]), "never claims 20 at the end"


async def test_a_second_quiz_while_writing_waits_for_the_first(rig: Rig) -> None:
    rig.embedder.armed = True
    await rig.command("ann", "quiz", "3")
    await rig.embedder.waiting.wait()
    [again] = await rig.command("ann", "quiz", "3")
    assert "still writing your questions" in again.text
    rig.embedder.go.set()
    await rig.jobs.idle()


async def _stale_run(db: Database, *, pickups: int) -> int:
    async with db.session() as session:
        user = await session.scalar(select(User).where(User.external_id == "ann"))
        chat = await session.scalar(select(Chat).where(Chat.external_id == "ann"))
        assert user is not None and chat is not None
        scope = await personal_scope(session, user)
        row = GenerationRun(
            scope_id=scope.id, requested_by=user.id, chat_id=chat.id, status=RunStatus.RUNNING,
            generator="offline", model="rounds-offline", requested=2, triggered_by="quiz",
            worker="old-host:1:dead", heartbeat_at=T0 - STALE_AFTER - timedelta(seconds=1),
            status_ref="old-status", follow_up={"quiz": {"n": 2}, "pickups": pickups},
        )  # fmt: skip
        session.add(row)
        await session.flush()
        return row.id


async def test_a_run_left_running_by_a_dead_process_is_picked_up_and_the_quiz_starts(
    rig: Rig, db: Database
) -> None:
    run_id = await _stale_run(db, pickups=0)
    picked, closed = await rig.jobs.beat()
    assert [row.id for row in picked] == [run_id] and closed == []
    await rig.jobs.idle()
    [run] = await _runs(db)
    assert run.status is RunStatus.COMPLETED and run.inserted == 2
    posted = rig.outbox.posted
    assert posted[0][1].edit_of == "old-status" and "picking up again" in posted[0][1].text
    assert any(reply.title.startswith("Question 1 of 2") for _, reply in posted)


async def test_a_run_already_picked_up_once_is_closed_and_the_student_is_told(
    rig: Rig, db: Database
) -> None:
    await _stale_run(db, pickups=1)
    picked, closed = await rig.jobs.beat()
    assert picked == [] and len(closed) == 1
    [run] = await _runs(db)
    assert run.status is RunStatus.FAILED and "restarted" in run.error
    assert run.completed_at == T0
    [(address, stopped), (_, told)] = rig.outbox.posted
    assert address == "ann" and stopped.edit_of == "old-status"
    assert "Send /quiz to try again" in told.text


async def test_a_live_process_keeps_its_runs(rig: Rig, db: Database) -> None:
    """Its own runs are never taken for a dead process's, however long they take."""
    rig.embedder.armed = True
    await rig.command("ann", "quiz", "3")
    await rig.embedder.waiting.wait()
    picked, closed = await rig.jobs.beat()
    assert picked == [] and closed == []
    rig.embedder.go.set()
    await rig.jobs.idle()


async def _limited_rig(db: Database, settings: Settings, shared_data: Path, limit: int) -> Rig:
    rig = await _rig(db, settings.model_copy(update={"max_questions_per_hour": limit}))
    await rig.upload("ann", (shared_data / CHAPTER).read_bytes())
    rig.now = T0 - timedelta(minutes=20)
    rig.services.clock = rig.jobs.clock = lambda: rig.now
    await rig.command("ann", "quiz", "3")
    await rig.jobs.idle()
    [run] = await _runs(db)
    assert run.inserted == 3
    await rig.command("ann", "stop")
    rig.now = T0
    return rig


async def test_a_quiz_near_the_hourly_limit_writes_only_what_the_limit_leaves(
    db: Database, settings: Settings, shared_data: Path
) -> None:
    rig = await _limited_rig(db, settings, shared_data, limit=5)
    # 3 unseen questions, 4 missing, room for 2.
    note, status = await rig.command("ann", "quiz", "7")
    assert note.text == (
        "Your limit of 5 new questions per hour leaves room for 2 now (more in 40 minutes)."
    )
    assert status.text.startswith("Writing 2 new questions")
    await rig.jobs.idle()


async def test_the_hourly_question_limit_names_itself_and_when_it_frees_up(
    db: Database, settings: Settings, shared_data: Path
) -> None:
    rig = await _limited_rig(db, settings, shared_data, limit=3)
    refusal, question = await rig.command("ann", "quiz", "10")
    assert refusal.text.startswith("You have reached your limit of 3 new questions per hour.")
    assert "I can write more for you in 40 minutes" in refusal.text
    assert question.title.startswith("Question 1 of 3"), "the quiz goes on with what exists"
    assert [run.requested for run in await _runs(db)] == [3], "nothing more was asked for"


async def test_a_job_done_before_its_status_message_arrives_still_closes_that_message(
    rig: Rig,
) -> None:
    [status] = await rig.command("ann", "quiz", "3")
    await rig.jobs.idle()
    assert rig.outbox.posted[0][1].title.startswith("Question 1 of 3")
    await rig.delivered(status, ref="late-status")
    address, closing = rig.outbox.posted[-1]
    assert (address, closing.edit_of, closing.text) == (
        "ann", "late-status", "Wrote 3 new questions."
    )  # fmt: skip


async def test_a_round_with_no_questions_writes_them_then_starts_by_itself(
    db: Database, settings: Settings, shared_data: Path
) -> None:
    clock = FakeClock(T0)
    notifier = RecordingNotifier()
    scheduler = await paused_scheduler()
    rig = await _rig(db, settings)
    rig.services.clock = rig.jobs.clock = clock
    timers = RoundTimers(
        db=db, notifiers={notifier.platform: notifier}, clock=clock, scheduler=scheduler
    )
    rig.services.round_timers = timers
    rig.services.outboxes[notifier.platform] = rig.outbox
    driver = TimerDriver(scheduler, clock)

    def in_group(who: str, kind: EventKind, **fields: object) -> Incoming:
        return Incoming(
            platform=notifier.platform, user=Actor(who, who.title()),
            chat=ChatRef("-100500", ChatKind.GROUP, "Study group"), kind=kind,
            received_at=clock(), **fields,  # type: ignore[arg-type]
        )  # fmt: skip

    data = (shared_data / CHAPTER).read_bytes()

    async def read() -> bytes:
        return data

    document = Document(filename="heart.pdf", size=len(data), read=read)
    [added] = await rig.router.route(in_group("bea", EventKind.DOCUMENT, document=document))
    assert added.tone is Tone.GOOD
    [status] = await rig.router.route(
        in_group("ann", EventKind.COMMAND, command="round", args=("3", "5"))
    )
    assert status.text.startswith("Writing 3 new questions")
    assert "the round starts by itself" in status.text
    await rig.jobs.idle()
    [(address, countdown)] = rig.outbox.posted
    assert address == "-100500"
    assert "Round starting in 5 s: 3 questions, 5 s each." in countdown.text
    [run] = await _runs(db)
    assert run.triggered_by == "round" and run.inserted == 3
    await driver.advance(5)
    assert notifier.messages[0].text.startswith("Question 1/3 · 5 s")
    scheduler.shutdown(wait=False)


async def test_a_student_whose_job_must_wait_is_told_their_place_in_line(
    db: Database, settings: Settings, shared_data: Path
) -> None:
    rig = await _rig(db, settings.model_copy(update={"max_generation_jobs": 1}))
    data = (shared_data / CHAPTER).read_bytes()
    await rig.upload("ann", data)
    await rig.upload("bea", data)
    await rig.upload("cy", data)
    rig.embedder.armed = True
    [first] = await rig.command("ann", "quiz", "3")
    assert "ahead of you" not in first.text
    await rig.embedder.waiting.wait()
    [second] = await rig.command("bea", "quiz", "3")
    [third] = await rig.command("cy", "quiz", "3")
    assert "1 ahead of you in the queue" in second.text
    assert "2 ahead of you in the queue" in third.text
    await rig.delivered(third, ref="cy-status")
    rig.embedder.go.set()
    await rig.jobs.idle()
    moved = [r.text for a, r in rig.outbox.posted if a == "cy" and r.edit_of == "cy-status"]
    assert moved[0] == (
        "Waiting to write your questions… 1 ahead of you in the queue; I'll start as soon as "
        "a slot frees up."
    )
    assert moved[-1] == "Wrote 3 new questions."
    assert sum(r.title.startswith("Question 1 of 3") for _, r in rig.outbox.posted) == 3


# --- PostgreSQL: the runs are procrastinate jobs -----------------------------------------


async def test_on_postgresql_a_quiz_is_a_procrastinate_job_and_starts_by_itself(
    pg_db: Database, settings: Settings, shared_data: Path
) -> None:
    rig = await _rig(pg_db, settings)
    assert rig.jobs.deferred is not None, "PostgreSQL runs its jobs through procrastinate"
    await rig.jobs.start()
    try:
        await rig.upload("ann", (shared_data / CHAPTER).read_bytes())
        [status] = await rig.command("ann", "quiz", "3")
        assert status.text.startswith("Writing 3 new questions")
        await rig.delivered(status)
        await rig.jobs.idle()
        [job] = await rig.jobs.deferred.app.job_manager.list_jobs_async(queue="generation")
    finally:
        await rig.jobs.close()
    [run] = await _runs(pg_db)
    assert job.task_kwargs == {"run_id": run.id} and job.status == "succeeded"
    assert run.status is RunStatus.COMPLETED and run.inserted == 3
    texts = rig.outbox.texts()
    assert "Wrote 3 new questions." in texts
    assert any(reply.title.startswith("Question 1 of 3") for _, reply in rig.outbox.posted)


async def test_on_postgresql_a_job_deferred_before_a_restart_runs_when_the_bot_is_back(
    pg_db: Database, settings: Settings, shared_data: Path
) -> None:
    before = await _rig(pg_db, settings)
    assert before.jobs.deferred is not None
    await before.jobs.deferred.open(work=False)  # this process never gets to the job
    await before.upload("ann", (shared_data / CHAPTER).read_bytes())
    [status] = await before.command("ann", "quiz", "3")
    await before.delivered(status)
    for _ in range(100):
        if (await before.jobs.deferred.waiting())[0]:
            break
        await asyncio.sleep(0.05)
    await before.jobs.close()  # the bot stops with the job still waiting

    after = await _rig(pg_db, settings)
    await after.jobs.start()
    try:
        await after.jobs.idle()
    finally:
        await after.jobs.close()
    [run] = await _runs(pg_db)
    assert run.status is RunStatus.COMPLETED and run.inserted == 3
    replies = [reply for _, reply in after.outbox.posted]
    assert all(reply.edit_of == "status-1" for reply in replies[:-1]), "the status is edited"
    assert replies[-2].text == "Wrote 3 new questions."
    assert replies[-1].title.startswith("Question 1 of 3"), "the quiz starts by itself"


async def test_a_quiz_after_the_material_is_asked_out_says_it_does_not_repeat_questions(
    db: Database, settings: Settings, shared_data: Path, embedder: Any
) -> None:
    rig = await _rig(db, settings, embedder)
    await rig.upload("ann", (shared_data / EXCERPT).read_bytes())
    await rig.command("ann", "quiz", "2")
    await rig.jobs.idle()
    await rig.command("ann", "stop")
    await rig.command("ann", "quiz", "20")
    await rig.jobs.idle()
    first, second = await _runs(db)
    assert first.inserted == 2 and 0 < second.inserted < 20, second.error
    note = next(reply for _, reply in rig.outbox.posted if "I could write" in reply.text)
    # The student learns the real reason: what was asked before is not asked again.
    assert "given 2 questions before, and I do not repeat them" in note.text
    assert "passed the checks" not in note.text
