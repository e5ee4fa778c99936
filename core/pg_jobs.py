"""Generation jobs on PostgreSQL through procrastinate: each run is a job row in the database,
run by a procrastinate worker inside this process (`max_generation_jobs` at a time).

A job carries only its run id; everything else it needs (chat, status message, what follows)
is on the run row, so the same task can run in any process that has the wiring — later a
separate `python -m bot worker`. Jobs deferred before a restart are still in the table and
run when a worker starts again. procrastinate applies its own schema (not an Alembic
migration of ours) the first time it finds none.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import procrastinate
from procrastinate import jobs as procrastinate_jobs
from procrastinate.exceptions import ConnectorException
from psycopg import errors as pg_errors
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

QUEUE = "generation"
TASK = "rounds.generate_questions"
# How often `idle` looks at the queue, and procrastinate's fallback poll (LISTEN/NOTIFY
# wakes the worker at once; the poll only covers a missed notification).
IDLE_POLL_S = 0.2
FETCH_POLL_S = 2.0
# procrastinate's own pool: the worker's LISTEN connection, fetches, deferrals.
POOL_MAX = 4

RunJob = Callable[[int], Awaitable[None]]


def conninfo(database_url: str) -> str:
    """A libpq connection string for psycopg from the SQLAlchemy URL of the database."""
    return (
        make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )


def is_postgres(database_url: str) -> bool:
    return make_url(database_url).get_backend_name() == "postgresql"


class ProcrastinateJobs:
    """Defers runs as procrastinate jobs and works them off in this process."""

    def __init__(self, database_url: str, *, slots: int, run_job: RunJob) -> None:
        self.slots = slots
        self.app = procrastinate.App(
            connector=procrastinate.PsycopgConnector(
                conninfo=conninfo(database_url), min_size=1, max_size=POOL_MAX
            )
        )

        @self.app.task(name=TASK, queue=QUEUE)
        async def generate_questions(run_id: int) -> None:
            await run_job(run_id)

        self.task = generate_questions
        self._worker: asyncio.Task[None] | None = None
        self._opened = False
        self._deferring: set[asyncio.Task[Any]] = set()

    async def open(self, *, work: bool = True) -> None:
        """Connects, applies procrastinate's schema if the database has none, and (with
        `work`) starts the worker: jobs left from before a restart run now."""
        if not self._opened:
            await self.app.open_async()
            self._opened = True
            try:
                await self.app.job_manager.list_jobs_async(queue=QUEUE, status="todo")
            except ConnectorException as error:
                if not isinstance(error.__cause__, pg_errors.UndefinedTable):
                    raise
                await self.app.schema_manager.apply_schema_async()
                log.info("applied procrastinate's schema")
            await self._close_stalled()
        if work and self._worker is None:
            self._worker = asyncio.create_task(
                self.app.run_worker_async(
                    queues=[QUEUE],
                    concurrency=self.slots,
                    install_signal_handlers=False,
                    fetch_job_polling_interval=FETCH_POLL_S,
                    name="rounds",
                ),
                name="procrastinate worker",
            )

    async def _close_stalled(self) -> None:
        """Jobs a dead worker was running end as failed: their runs are picked up (or
        closed, with a message) from the run rows by the generation heartbeat."""
        manager = self.app.job_manager
        await manager.prune_stalled_workers(seconds_since_heartbeat=30)
        for job in await manager.get_stalled_jobs():
            await manager.finish_job(
                job, status=procrastinate_jobs.Status.FAILED, delete_job=False
            )

    async def defer(self, run_id: int) -> int:
        return await self.task.defer_async(run_id=run_id)

    def defer_soon(self, run_id: int) -> None:
        """Defers from synchronous code (a commit hook); the job row is written at once."""
        task = asyncio.create_task(self.defer(run_id), name=f"defer run {run_id}")
        self._deferring.add(task)
        task.add_done_callback(self._deferring.discard)

    async def waiting(self) -> tuple[int, int]:
        """(jobs waiting, jobs running) in the generation queue, over every worker."""
        manager = self.app.job_manager
        todo = await manager.list_jobs_async(queue=QUEUE, status="todo")
        doing = await manager.list_jobs_async(queue=QUEUE, status="doing")
        return len(list(todo)), len(list(doing))

    async def would_wait(self) -> int:
        """Jobs that would start before a job deferred now (0 when a slot is free)."""
        todo, doing = await self.waiting()
        return todo + 1 if todo + doing >= self.slots else 0

    async def idle(self) -> None:
        """Returns once no generation job waits or runs."""
        while self._deferring:
            await asyncio.gather(*self._deferring, return_exceptions=True)
        # The jobs live in the database, maybe worked by another process: it is asked.
        while True:
            if not any(await self.waiting()):
                return
            await asyncio.sleep(IDLE_POLL_S)

    async def close(self) -> None:
        """Stops the worker (a running job is cancelled; its run is recovered by the
        heartbeat of the next process) and closes the connections."""
        for task in [*self._deferring]:
            with contextlib.suppress(Exception):
                await task
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
            self._worker = None
        if self._opened:
            await self.app.close_async()
            self._opened = False
