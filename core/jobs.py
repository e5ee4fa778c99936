"""In-process background jobs: at most `slots` run at once, the rest wait in line, in order.

A job is a key and a coroutine factory whose state lives in SQL (a generation_runs row), so
the same job functions can later be handed to a queue library running a separate worker
process (the scale issue); only this runner would change.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

Work = Callable[[], Awaitable[None]]
# Told how many jobs are still ahead whenever the line moves.
Moved = Callable[[int], Awaitable[None]]


@dataclass
class _Job:
    key: str
    work: Work
    moved: Moved | None


class JobQueue:
    """Runs submitted jobs on this event loop, `slots` at a time, first come first served."""

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError("a job queue needs at least one slot")
        self.slots = slots
        self._waiting: deque[_Job] = deque()
        self._running: dict[str, asyncio.Task[None]] = {}
        self._notes: set[asyncio.Task[None]] = set()

    def submit(self, key: str, work: Work, *, moved: Moved | None = None) -> int:
        """Queues `work`; returns how many jobs wait ahead of it (0 with a free slot)."""
        if key in self._running or any(job.key == key for job in self._waiting):
            raise ValueError(f"job {key} is already queued")
        job = _Job(key, work, moved)
        if len(self._running) < self.slots:
            self._start(job)
            return 0
        self._waiting.append(job)
        return len(self._waiting)

    def would_wait(self) -> int:
        """What `submit` would return right now."""
        return len(self._waiting) + 1 if len(self._running) >= self.slots else 0

    def ahead_of(self, key: str) -> int | None:
        """Jobs that start before this one (0 once it runs); None for an unknown key."""
        if key in self._running:
            return 0
        for position, job in enumerate(self._waiting, start=1):
            if job.key == key:
                return position
        return None

    @property
    def busy(self) -> bool:
        return bool(self._running or self._waiting)

    async def idle(self) -> None:
        """Returns once no job is running or waiting (jobs a job submits included)."""
        while self._running or self._waiting or self._notes:
            await asyncio.gather(*self._running.values(), *self._notes, return_exceptions=True)

    async def close(self) -> None:
        """Cancels what runs and forgets what waits (their rows are recovered at start-up)."""
        self._waiting.clear()
        tasks = [*self._running.values(), *self._notes]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _start(self, job: _Job) -> None:
        self._running[job.key] = asyncio.create_task(self._run(job), name=f"job {job.key}")

    async def _run(self, job: _Job) -> None:
        try:
            await job.work()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("job %s failed", job.key)
        finally:
            self._running.pop(job.key, None)
            self._advance()

    def _advance(self) -> None:
        while self._waiting and len(self._running) < self.slots:
            self._start(self._waiting.popleft())
        for position, job in enumerate(self._waiting, start=1):
            if job.moved is not None:
                self._note(job.moved, position)

    def _note(self, moved: Moved, position: int) -> None:
        async def tell() -> None:
            try:
                await moved(position)
            except Exception:
                log.warning("queue position note failed", exc_info=True)

        task = asyncio.create_task(tell())
        self._notes.add(task)
        task.add_done_callback(self._notes.discard)
