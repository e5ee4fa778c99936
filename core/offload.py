"""CPU-heavy work (offline question writing, reading and embedding an upload) away from the
event loop: in a small pool of worker processes, or in this process's threads.

With a pool the embedding model lives only in the workers: the process answering clicks
embeds through `PooledEmbedder` and never imports torch (hundreds of MB it would otherwise
hold for the occasional query).

Pure-Python work in a thread holds the GIL and stalls every student's click behind it; in a
worker process it only shares the cores. The pool is made once (spawn: no copy of the event
loop's threads, sockets or connections), its workers run at a lower priority than the
process that answers clicks, and each loads the embedding model once. A job reports progress
with `ctx.tell(note)`; the notes reach the waiting coroutine through one queue.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from core.memory import give_back_freed_memory, map_large_blocks

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

log = logging.getLogger(__name__)

T = TypeVar("T")
Job = Callable[..., Coroutine[Any, Any, T]]
Notes = Callable[[Any], Awaitable[None]]
# Added to the workers' nice value: when cores are short, a click goes before a textbook.
WORKER_NICENESS = 10
# A job that ran this long (an upload, a batch of questions) freed far more than it keeps:
# the worker hands the freed memory back. A query embedding (ms) skips the cost.
GIVE_BACK_AFTER_S = 1.0


@dataclass(frozen=True)
class WorkerContext:
    """What a job gets besides its arguments: the embedder and a progress channel (`tell`
    may be called from any thread of the job)."""

    embedder: Any
    tell: Callable[[Any], None]


class Offload:
    """Runs `await fn(ctx, *args)` here, on the event loop (its blocking parts in threads):
    the contract of ProcessOffload without the processes (tests, ROUNDS_CPU_WORKERS=0)."""

    def __init__(self, embedder: Any) -> None:
        self.embedder = embedder
        self._inboxes: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Queue[Any]]] = {}
        self._ids = itertools.count(1)

    @property
    def in_processes(self) -> bool:
        return False

    async def run(self, fn: Job[T], *args: Any, notes: Notes | None = None) -> T:
        """`fn`'s result (or its exception); its notes go to `notes`, in order, meanwhile.
        Notes still on their way when `fn` returns are dropped: they are decoration."""
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue[Any] = asyncio.Queue()
        job = next(self._ids)
        self._inboxes[job] = (loop, inbox)
        try:
            work: asyncio.Future[T] = asyncio.ensure_future(self._start(job, fn, args))
            while not work.done():
                note = asyncio.ensure_future(inbox.get())
                await asyncio.wait({work, note}, return_when=asyncio.FIRST_COMPLETED)
                if note.done():
                    if notes is not None:
                        await notes(note.result())
                else:
                    note.cancel()
            return work.result()
        finally:
            self._inboxes.pop(job, None)

    def deliver(self, job: int, note: Any) -> None:
        """Hands a note to the job's coroutine; callable from any thread."""
        found = self._inboxes.get(job)
        if found is not None:
            loop, inbox = found
            loop.call_soon_threadsafe(inbox.put_nowait, note)

    async def _start(self, job: int, fn: Job[T], args: tuple[Any, ...]) -> T:
        context = WorkerContext(self.embedder, lambda note: self.deliver(job, note))
        return await fn(context, *args)

    async def close(self) -> None:
        return None


class ProcessOffload(Offload):
    """`workers` processes made on first use; the embedder is pickled to each once."""

    def __init__(self, embedder: Any, *, workers: int) -> None:
        if workers < 1:
            raise ValueError("a process pool needs at least one worker")
        super().__init__(embedder)
        self.workers = workers
        self._spawn = multiprocessing.get_context("spawn")
        self._notes: Any = None
        self._pool: Executor | None = None
        self._listener: threading.Thread | None = None

    @property
    def in_processes(self) -> bool:
        return True

    def _executor(self) -> Executor:
        if self._pool is None:
            self._notes = self._spawn.Queue()
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=self._spawn,
                initializer=_start_worker,
                initargs=(self.embedder, self._notes),
            )
            self._listener = threading.Thread(
                target=self._listen, args=(self._notes,), name="offload notes", daemon=True
            )
            self._listener.start()
        return self._pool

    def _listen(self, notes: Any) -> None:
        while (message := notes.get()) is not None:
            job, note = message
            self.deliver(job, note)

    async def _start(self, job: int, fn: Job[T], args: tuple[Any, ...]) -> T:
        future = self._executor().submit(_in_worker, job, fn, args)
        return await asyncio.wrap_future(future)

    async def close(self) -> None:
        """Waits for running jobs, then stops the workers and the note listener."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)
        self._notes.put(None)
        if self._listener is not None:
            await asyncio.to_thread(self._listener.join)
        self._notes.close()


def offload_for(embedder: Any, *, workers: int) -> Offload:
    """ROUNDS_CPU_WORKERS worker processes, or threads of this process for 0."""
    return ProcessOffload(embedder, workers=workers) if workers else Offload(embedder)


class PooledEmbedder:
    """An Embedder that encodes in the worker pool, where the model is loaded; the texts and
    vectors cross a pipe (a query: ~1 ms more than encoding it here)."""

    def __init__(self, offload: Offload) -> None:
        self.offload = offload
        self.name: str = offload.embedder.name
        self.dim: int = offload.embedder.dim

    async def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return await self.offload.run(_embed, list(texts))


def embedder_here(offload: Offload) -> Any:
    """The embedder for this process's own use: the pool's when there is one."""
    return PooledEmbedder(offload) if offload.in_processes else offload.embedder


async def _embed(context: WorkerContext, texts: list[str]) -> NDArray[np.float32]:
    vectors: NDArray[np.float32] = await context.embedder.embed(texts)
    return vectors


# --- inside a worker process -------------------------------------------------------------
# A pool worker's state lives in its module: the initializer runs once per process and each
# job then reads it (this module's only state, and only ever set in a worker process).
_worker: dict[str, Any] = {}


def _start_worker(embedder: Any, notes: Any) -> None:
    try:
        os.nice(WORKER_NICENESS)
    except OSError:  # not allowed here: the worker runs at the normal priority
        log.info("worker process keeps its priority")
    map_large_blocks()
    _worker["embedder"], _worker["notes"] = embedder, notes


def _in_worker(job: int, fn: Job[T], args: tuple[Any, ...]) -> T:
    notes = _worker["notes"]
    context = WorkerContext(_worker["embedder"], lambda note: notes.put((job, note)))
    started = time.monotonic()
    try:
        return asyncio.run(fn(context, *args))
    finally:
        if time.monotonic() - started >= GIVE_BACK_AFTER_S:
            give_back_freed_memory()
