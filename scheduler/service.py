"""The scheduler process-side: APScheduler's AsyncIOScheduler running the push tick every
minute, and the election that lets exactly one process push.

APScheduler 3.11 (not 4.x): 4.0 is still a pre-release with a changing API, while 3.11 is the
maintained stable line and its AsyncIOScheduler runs coroutine jobs on our event loop. Only
its in-memory job store is used: the durable state is the deliveries table, and the tick is
idempotent, so a restart loses nothing and a missed minute is simply caught up.

Election: on PostgreSQL each process tries `pg_try_advisory_lock` on a dedicated connection
held for the scheduler's lifetime (a session-level lock dies with the connection, so a
crashed leader is replaced on the next tick). On SQLite there is one process by design.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncConnection

from core.fsrs_fit import fit_all_due
from scheduler.notifier import Notifier
from scheduler.pacing import Pacer
from scheduler.reminders import TickReport, run_tick
from storage.db import Database
from storage.enums import Platform
from storage.repos.locks import advisory_unlock, still_connected, try_advisory_lock

log = logging.getLogger(__name__)

TICK_SECONDS = 60
# pg advisory lock key naming "the Rounds push scheduler" (b"Rounds" + 0x0001 as an int8).
SCHEDULER_LOCK_KEY = 0x526F756E64730001
# How long stop() lets an in-flight tick finish its current sends before cancelling it.
STOP_GRACE_SECONDS = 30.0
JOB_ID = "push-tick"
# FSRS parameter fits (core.fsrs_fit): seconds of CPU per student, so a few times a day.
FIT_JOB_ID = "fsrs-fit"
FIT_EVERY_SECONDS = 6 * 3600


class HasDbAndClock(Protocol):
    """What the scheduler needs from handlers' Services (it must not import handlers)."""

    @property
    def db(self) -> Database: ...

    @property
    def clock(self) -> Callable[[], datetime]: ...


class Election:
    """Holds the PostgreSQL advisory lock that makes this process the one that pushes."""

    def __init__(self, db: Database, key: int = SCHEDULER_LOCK_KEY) -> None:
        self._db = db
        self._key = key
        self._connection: AsyncConnection | None = None

    @property
    def holds_lock(self) -> bool:
        return self._db.is_sqlite or self._connection is not None

    async def is_leader(self) -> bool:
        """True if this process may push now; tries to take over a vacant lock."""
        if self._db.is_sqlite:
            return True
        if self._connection is not None:
            try:
                await still_connected(self._connection)
                await self._connection.commit()
                return True
            except Exception:  # the connection died, and the lock with it
                log.warning("lost the scheduler lock connection; re-electing")
                await self._discard()
        connection = await self._db.engine.connect()
        try:
            won = await try_advisory_lock(connection, self._key)
            # End the transaction: a session-level lock outlives it, an idle transaction
            # would only hold back vacuum.
            await connection.commit()
        except BaseException:
            await connection.invalidate()
            raise
        if won:
            self._connection = connection
            log.info("this process is the push scheduler")
            return True
        await connection.close()
        return False

    async def release(self) -> None:
        if self._connection is None:
            return
        try:
            await advisory_unlock(self._connection, self._key)
            await self._connection.commit()
            await self._connection.close()
        except Exception:
            await self._discard()
        self._connection = None

    async def _discard(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            # Never hand a connection that may still hold the lock back to the pool.
            try:
                await connection.invalidate()
            except Exception:
                log.debug("discarding a dead lock connection failed", exc_info=True)


class PushScheduler:
    """The every-minute push tick, elected, paced, and stopped gracefully."""

    def __init__(
        self,
        db: Database,
        notifiers: Mapping[Platform, Notifier],
        *,
        clock: Callable[[], datetime],
        pacer: Pacer | None = None,
        tick_seconds: float = TICK_SECONDS,
    ) -> None:
        self.db = db
        # A live view: adapters that register after start are picked up on the next tick.
        self.notifiers = notifiers
        self.clock = clock
        self.pacer = pacer or Pacer()
        self.election = Election(db)
        self.tick_seconds = tick_seconds
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.last_report: TickReport | None = None
        self._stopping = asyncio.Event()
        self._tick_lock = asyncio.Lock()

    async def tick(self) -> TickReport | None:
        """The job function. Returns None when another process is the scheduler."""
        async with self._tick_lock:
            if self._stopping.is_set() or not await self.election.is_leader():
                return None
            report = await run_tick(
                self.db,
                dict(self.notifiers),
                self.pacer,
                now=self.clock(),
                clock=self.clock,
                stopping=self._stopping,
            )
            self.last_report = report
            if report.outcomes:
                log.info("push tick: %s", {k.value: dict(v) for k, v in report.outcomes.items()})
            return report

    def start(self) -> None:
        self.scheduler.add_job(
            self.tick,
            IntervalTrigger(seconds=self.tick_seconds, timezone=UTC),
            id=JOB_ID,
            # Run at once: a restart catches up on reminders whose time passed while down.
            next_run_time=datetime.now(UTC),
            max_instances=1,
            coalesce=True,
            misfire_grace_time=int(self.tick_seconds),
        )
        self.scheduler.add_job(
            self.fit,
            IntervalTrigger(seconds=FIT_EVERY_SECONDS, timezone=UTC),
            id=FIT_JOB_ID,
            max_instances=1,
            coalesce=True,
        )
        self.scheduler.start()

    async def fit(self) -> int | None:
        """Fits FSRS parameters for students with enough new reviews; the elected scheduler
        only, never in a click's path. Returns None when another process is the scheduler."""
        if self._stopping.is_set() or not await self.election.is_leader():
            return None
        fitted = await fit_all_due(self.db)
        if fitted:
            log.info("fitted FSRS parameters for %d students", fitted)
        return fitted

    async def stop(self, grace_seconds: float = STOP_GRACE_SECONDS) -> None:
        """No new ticks; the running one finishes its in-flight sends; the lock is freed."""
        self._stopping.set()
        if self.scheduler.running:
            self.scheduler.remove_all_jobs()
        try:
            await asyncio.wait_for(self._tick_lock.acquire(), grace_seconds)
            self._tick_lock.release()
        except TimeoutError:
            log.warning("push tick still running after %.0f s; cancelling it", grace_seconds)
        if self.scheduler.running:
            # AsyncIOScheduler shuts down on the loop's next turn; give it that turn.
            self.scheduler.shutdown(wait=False)
            await asyncio.sleep(0)
        await self.election.release()


async def start_scheduler(
    services: HasDbAndClock,
    notifiers: Mapping[Platform, Notifier] | Mapping[Platform, object],
    *,
    pacer: Pacer | None = None,
    tick_seconds: float = TICK_SECONDS,
) -> PushScheduler:
    """Starts the push tick on the running loop; `await handle.stop()` ends it."""
    handle = PushScheduler(
        services.db,
        notifiers,  # type: ignore[arg-type]
        clock=services.clock,
        pacer=pacer,
        tick_seconds=tick_seconds,
    )
    handle.start()
    return handle
