"""Question generation as a background job, and the runs a dead process left behind.

A request adds a `running` generation_runs row and returns; once it commits, the job reads
what it needs in one session, closes it, writes questions with no transaction or pooled
connection held, then stores the results in one short transaction. Each process stamps its
running rows with a heartbeat; a `running` row whose heartbeat is stale belonged to a process
that died: it is picked up again (once) or closed as failed, and the student is told.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import RoundsError
from core.generate.errors import GenerationError
from core.generate.pipeline import (
    new_run,
    raise_if_empty,
    read_sources,
    save_run,
    write_offline,
    write_questions,
)
from core.jobs import JobQueue
from core.offload import Offload
from core.pg_jobs import ProcrastinateJobs, is_postgres
from core.settings import Settings
from core.study import student_level_for
from storage.db import Database
from storage.enums import RunStatus
from storage.models import GenerationRun, User
from storage.repos import runs as run_repo

log = logging.getLogger(__name__)

HEARTBEAT_S = 30.0
# A running row not stamped for this long belongs to a process that is gone.
STALE_AFTER = timedelta(minutes=2)
# A run picked up this many times already (it may be what kills the process) is closed.
MAX_PICKUPS = 1
INTERRUPTED = "Interrupted: the bot restarted while writing these questions."

Progress = Callable[[str], Awaitable[None]]
# Told the stored run and, when nothing could be written, the friendly error.
Finished = Callable[[GenerationRun, RoundsError | None], Awaitable[None]]
RunHook = Callable[[GenerationRun], Awaitable[None]]
# How a run reports, rebuilt from its row (a job deferred by another or an earlier process).
ReportsFor = Callable[[GenerationRun], Awaitable[tuple[Progress, Finished] | None]]


def _worker_name() -> str:
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(4)}"


async def _ignore(_run: GenerationRun) -> None:
    return None


async def _no_reports(_run: GenerationRun) -> tuple[Progress, Finished] | None:
    return None


@dataclass
class GenerationJobs:
    """This process's generation jobs: a queue of `max_generation_jobs` slots and a shared
    limit of `max_llm_calls` calls in flight."""

    db: Database
    settings: Settings
    embedder: Any
    indexes: Any
    clock: Callable[[], datetime]
    queue: JobQueue
    llm_slots: asyncio.Semaphore
    # Where the offline generator thinks: worker processes (ROUNDS_CPU_WORKERS) or threads.
    offload: Offload
    worker: str = field(default_factory=_worker_name)
    # Set by the wiring (bot/app.py): what happens to a dead process's runs.
    resume: RunHook = _ignore
    abandoned: RunHook = _ignore
    reports_for: ReportsFor = _no_reports
    # On PostgreSQL: the runs are procrastinate jobs (`queue` then stays empty).
    deferred: ProcrastinateJobs | None = None
    # Status message ids reported by the adapters, until they are stored on the row.
    status_refs: dict[int, str] = field(default_factory=dict)
    # Reporters of the runs this process deferred, until its worker takes them.
    _reports: dict[int, tuple[Progress, Finished]] = field(default_factory=dict)
    _beating: asyncio.Task[None] | None = None

    @classmethod
    def build(
        cls,
        *,
        db: Database,
        settings: Settings,
        embedder: Any,
        indexes: Any,
        clock: Callable[[], datetime],
        offload: Offload | None = None,
        procrastinate: bool | None = None,
    ) -> GenerationJobs:
        """`procrastinate`: None chooses by database (PostgreSQL yes, SQLite no)."""
        jobs = cls(
            db=db,
            settings=settings,
            embedder=embedder,
            indexes=indexes,
            clock=clock,
            queue=JobQueue(settings.max_generation_jobs),
            llm_slots=asyncio.Semaphore(settings.max_llm_calls),
            offload=offload or Offload(embedder),
        )
        if procrastinate if procrastinate is not None else is_postgres(db.url):
            jobs.deferred = ProcrastinateJobs(
                db.url, slots=settings.max_generation_jobs, run_job=jobs.run_deferred
            )
        return jobs

    async def request(
        self,
        session: AsyncSession,
        *,
        scope_id: int,
        topic: str,
        n: int,
        difficulty: int,
        requested_by: int | None,
        chat_id: int | None,
        triggered_by: str,
        follow_up: dict[str, Any],
    ) -> GenerationRun:
        """Adds the `running` row in the caller's transaction; `submit` it after the commit."""
        row = new_run(
            self.settings, scope_id=scope_id, topic=topic, material_id=None, n=n,
            difficulty=difficulty, requested_by=requested_by, triggered_by=triggered_by,
        )  # fmt: skip
        row.chat_id = chat_id
        row.follow_up = follow_up
        row.worker = self.worker
        row.created_at = row.heartbeat_at = self.clock()
        return await run_repo.start_run(session, row)

    def submit(
        self,
        run_id: int,
        *,
        progress: Progress,
        finished: Finished,
        moved: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        """Queues the run's job (`moved` hears its place in line, in the in-process queue)."""
        if self.deferred is not None:
            self._reports[run_id] = (progress, finished)
            self.deferred.defer_soon(run_id)
            return
        self.queue.submit(
            f"run:{run_id}",
            lambda: self.run(run_id, progress=progress, finished=finished),
            moved=moved,
        )

    async def would_wait(self) -> int:
        """How many jobs a run submitted now would wait behind."""
        if self.deferred is not None:
            return await self.deferred.would_wait()
        return self.queue.would_wait()

    async def idle(self) -> None:
        """Returns once no generation job waits or runs."""
        if self.deferred is not None:
            await self.deferred.idle()
        await self.queue.idle()

    async def run_deferred(self, run_id: int) -> None:
        """A procrastinate job: the run, reported by whoever deferred it in this process, or
        else as its row says (deferred elsewhere or before a restart)."""
        reports = self._reports.pop(run_id, None)
        if reports is None:
            async with self.db.session() as session:
                row = await session.get(GenerationRun, run_id)
            if row is None or row.status is not RunStatus.RUNNING:
                return
            reports = await self.reports_for(row) or (_silent, _unheard)
        progress, finished = reports
        await self.run(run_id, progress=progress, finished=finished)

    async def run(self, run_id: int, *, progress: Progress, finished: Finished) -> None:
        """The job: read (session) -> write questions (no session) -> save (session)."""
        failure: RoundsError | None = None
        try:
            async with self.db.session() as session:
                row = await session.get(GenerationRun, run_id)
                if row is None or row.status is not RunStatus.RUNNING:
                    return
                # Reads only: a write here would hold SQLite's lock while the sources load.
                found = await read_sources(
                    session, row, embedder=self.embedder, indexes=self.indexes,
                    settings=self.settings,
                )  # fmt: skip
                # The writer is told how the student has been doing (prompt v2).
                student = await session.get(User, row.requested_by) if row.requested_by else None
                level = await student_level_for(session, student, row.topic) if student else None
            await progress(_writing(0, row.requested))

            async def counted(done: int, total: int) -> None:
                await progress(_writing(done, total))

            if row.generator == "llm":
                # Waiting on a model's answers: this process's LLM-call slots pace it.
                run = await write_questions(
                    row, found, embedder=self.embedder, settings=self.settings,
                    llm_slots=self.llm_slots, progress=counted, level=level,
                )  # fmt: skip
                written = run.written()
            else:

                async def noted(note: tuple[int, int]) -> None:
                    await counted(*note)

                written = await self.offload.run(
                    write_offline, row, found, self.settings, level, notes=noted
                )
            written.row.completed_at = self.clock()
            async with self.db.session() as session:
                row = await save_run(session, written)
            try:
                raise_if_empty(row)
            except GenerationError as error:
                failure = error
        except GenerationError as error:  # nothing to read: no material, nothing on topic
            failure = error
            row = await self._close(run_id, error=error.reason or type(error).__name__)
        except Exception:
            log.exception("generation run %s failed", run_id)
            failure = GenerationError()
            row = await self._close(run_id, error="Internal error while writing questions.")
        await finished(row, failure)

    async def _close(self, run_id: int, *, error: str) -> GenerationRun:
        async with self.db.session() as session:
            row = await session.get(GenerationRun, run_id)
            assert row is not None
            row.status, row.error, row.completed_at = RunStatus.FAILED, error, self.clock()
            return row

    async def note_status(self, run_id: int, message_ref: str) -> None:
        """Remembers the message a run edits as it goes (also on the row, for a restart)."""
        self.status_refs[run_id] = message_ref
        async with self.db.session() as session:
            await run_repo.set_status_ref(session, run_id, message_ref)

    # --- liveness ---------------------------------------------------------------------------

    async def start(self, *, work: bool = True) -> None:
        """Starts the heartbeat (stamps this process's runs, recovers a dead one's) and, on
        PostgreSQL with `work`, the procrastinate worker (jobs deferred before a restart run
        now); without it this process only defers, for `python -m bot worker` to run."""
        if self.deferred is not None:
            await self.deferred.open(work=work)
        if self._beating is None:
            self._beating = asyncio.create_task(self._keep_beating(), name="generation heartbeat")

    async def close(self) -> None:
        if self._beating is not None:
            self._beating.cancel()
            await asyncio.gather(self._beating, return_exceptions=True)
            self._beating = None
        if self.deferred is not None:
            await self.deferred.close()
        await self.queue.close()

    async def _keep_beating(self) -> None:
        while True:
            # Sleeps first: the adapters register their outboxes after start-up, and a run
            # picked up before then would have nowhere to report.
            await asyncio.sleep(HEARTBEAT_S)
            try:
                await self.beat()
            except Exception:
                log.warning("generation heartbeat failed", exc_info=True)

    async def beat(self) -> tuple[list[GenerationRun], list[GenerationRun]]:
        """Stamps this process's running rows; picks up or closes stale ones of dead
        processes. Returns (picked up, closed)."""
        now = self.clock()
        picked: list[GenerationRun] = []
        closed: list[GenerationRun] = []
        async with self.db.session() as session:
            await run_repo.stamp_heartbeat(session, self.worker, now)
            stale = await run_repo.claim_stale_runs(
                session, worker=self.worker, stamped_before=now - STALE_AFTER
            )
            for row in stale:
                pickups = int(row.follow_up.get("pickups", 0))
                if pickups < MAX_PICKUPS and row.chat_id is not None:
                    row.follow_up = {**row.follow_up, "pickups": pickups + 1}
                    row.worker, row.heartbeat_at = self.worker, now
                    picked.append(row)
                else:
                    row.status, row.error, row.completed_at = RunStatus.FAILED, INTERRUPTED, now
                    closed.append(row)
        for row in picked:
            log.info("picking up generation run %s left by a stopped process", row.id)
            await self.resume(row)
        for row in closed:
            log.info("closed generation run %s left by a stopped process", row.id)
            await self.abandoned(row)
        return picked, closed


async def _silent(_text: str) -> None:
    return None


async def _unheard(run: GenerationRun, _error: RoundsError | None) -> None:
    log.info("generation run %s finished with no chat to tell", run.id)


def _writing(done: int, total: int) -> str:
    noun = "question" if total == 1 else "questions"
    if not done:
        return f"Writing {total} new {noun} from your material…"
    return f"Writing {total} new {noun} from your material… {done} of {total} done"
