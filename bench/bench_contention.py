"""Click latency while questions are written and a book is read (issue 16).

20 simulated students answer questions through the real router (option click + confidence
click, 0.1 s apart) on a file-backed SQLite database (and on PostgreSQL when
ROUNDS_BENCH_POSTGRES_URL is set). First a quiet phase; then, while they go on clicking,
three other students each ask for a 20-question quiz that must be written from the 59-page
heart chapter and a fourth uploads the 279-page benchmark PDF. Reported per phase: click
p50/p99 and failed clicks (a "something went wrong" reply, e.g. SQLite's lock timeout).

Three wirings: `inline` is the oldest (generation inside the /quiz request's transaction);
`threads` is background generation whose CPU work (offline writer, reading and embedding the
upload) runs in the bot process's threads; `processes` is the bot's wiring, that work in a
worker process (core/offload.py, ROUNDS_CPU_WORKERS). Goal: 0 failed clicks and a busy p99
under twice the quiet one. `python -m bench contention` runs it (several minutes); each run
records the load average before it starts, and the previous results file is kept under
"previous".
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url

from bench.bench_answer import seed_questions
from bench.corpus import shared_data_dir
from core.embed import MiniLMEmbedder
from core.generation_jobs import GenerationJobs
from core.offload import offload_for
from core.settings import Settings
from core.texts.commands import GENERIC_FAILURE
from handlers.context import Services
from handlers.router import Router
from handlers.types import Actor, ChatRef, Document, EventKind, Incoming, Reply
from storage.db import Database
from storage.enums import ChatKind, MaterialStatus, Platform
from storage.files import FileStore
from storage.models import Chunk, Material
from storage.repos.chats import personal_scope
from storage.repos.users import get_or_create_user
from storage.vector_index import VectorIndexes

CORPUS = shared_data_dir()
BOOK = CORPUS / "ap2e_selected_chapters_benchmark.pdf"
CHAPTER = CORPUS / "ap2e_ch19_heart.pdf"
CLICKERS = 20
WRITERS = 3
QUIET_S = 20.0
THINK_S = 0.1
QUESTIONS_EACH = 400
PG_ENV = "ROUNDS_BENCH_POSTGRES_URL"
# e.g. "processes" to measure only the bot's wiring; default all three.
MODES_ENV = "ROUNDS_BENCH_CONTENTION_MODES"
MODES = ("inline", "threads", "processes")

Row = tuple[str, str, Any, str, str]


class NullOutbox:
    """Where background jobs report in the benchmark: counted, not shown."""

    def __init__(self) -> None:
        self.posted = 0

    async def post(self, chat_address: str, replies: Sequence[Reply]) -> None:
        self.posted += len(replies)


def _event(who: str, kind: EventKind, **fields: Any) -> Incoming:
    return Incoming(
        platform=Platform.CONSOLE, user=Actor(who, who), chat=ChatRef(who, ChatKind.PRIVATE),
        kind=kind, received_at=datetime.now(UTC), **fields,
    )  # fmt: skip


async def _copy_material(db: Database, source_scope: int, who: str) -> None:
    """Gives `who` the same ready chapter as the first writer (rows copied, not re-embedded)."""
    async with db.session() as session:
        user = await get_or_create_user(session, Platform.CONSOLE, who, who)
        scope = await personal_scope(session, user)
        original = await session.scalar(select(Material).where(Material.scope_id == source_scope))
        assert original is not None
        copy = Material(scope_id=scope.id, filename=original.filename, title=original.title,
                        sha256=original.sha256, size_bytes=original.size_bytes,
                        status=MaterialStatus.READY, pages=original.pages,
                        file_path=original.file_path)  # fmt: skip
        session.add(copy)
        await session.flush()
        chunks = await session.scalars(select(Chunk).where(Chunk.material_id == original.id))
        session.add_all(
            Chunk(
                material_id=copy.id,
                ordinal=c.ordinal,
                page_start=c.page_start,
                page_end=c.page_end,
                heading=c.heading,
                kind=c.kind,
                text=c.text,
                embedding=c.embedding,
            )
            for c in chunks
        )


def _document(path: Path) -> Document:
    data = path.read_bytes()

    async def read() -> bytes:
        return data

    return Document(filename=path.name, size=len(data), read=read)


class Clicks:
    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = {}
        self.failed: dict[str, int] = {}
        self.phase = "quiet"
        self.phase_started = time.perf_counter()
        # Seconds into its phase at which each failed click started.
        self.failed_at: dict[str, list[float]] = {}

    def begin(self, phase: str) -> None:
        self.phase, self.phase_started = phase, time.perf_counter()

    def add(self, ms: float, ok: bool) -> None:
        self.samples.setdefault(self.phase, []).append(ms)
        self.failed[self.phase] = self.failed.get(self.phase, 0) + (not ok)
        if not ok:
            at = time.perf_counter() - self.phase_started - ms / 1000
            self.failed_at.setdefault(self.phase, []).append(round(at, 1))


async def _clicker(router: Router, who: str, clicks: Clicks, stop: asyncio.Event) -> None:
    replies: list[Reply] = []
    answered = 0
    while not stop.is_set():
        # A question has its answer buttons (a status message while questions are written
        # is tracked too, but has none).
        asked = [r for r in replies if r.track and r.flat_buttons]
        if not asked:
            replies = await router.route(_event(who, EventKind.COMMAND, command="quiz",
                                                args=("20",)))  # fmt: skip
            if not any(r.track and r.flat_buttons for r in replies):
                await asyncio.sleep(THINK_S)
            continue
        option = asked[-1].flat_buttons[answered % 4].payload
        for step in ("answer", "confidence"):
            started = time.perf_counter()
            got = await router.route(_event(who, EventKind.BUTTON, payload=option))
            ok = not any(r.text == GENERIC_FAILURE for r in got)
            clicks.add((time.perf_counter() - started) * 1000, ok)
            if not ok:
                replies = []
                break
            if step == "answer":
                option = got[0].flat_buttons[3].payload
            else:
                replies = got
            await asyncio.sleep(THINK_S)
        answered += 1


async def _watch_loop(stalls: dict[str, float], clicks: Clicks, stop: asyncio.Event) -> None:
    """The longest the event loop went without running this 50 ms ticker, per phase: a
    stall holds up every click, and any write transaction open across it."""
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(0.05)
        late = (time.perf_counter() - started - 0.05) * 1000
        stalls[clicks.phase] = max(stalls.get(clicks.phase, 0.0), late)


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


async def measure(url: str, data_dir: Path, *, mode: str, embedder: Any) -> dict[str, Any]:
    settings = Settings(_env_file=None, data_dir=data_dir, database_url_override=url)  # type: ignore[call-arg]
    db = Database(url)
    await db.migrate()
    services = Services(
        settings=settings, db=db, embedder=embedder,
        indexes=VectorIndexes(settings.data_dir, dim=embedder.dim),
        files=FileStore(settings.data_dir),
    )  # fmt: skip
    outbox = NullOutbox()
    services.outboxes[Platform.CONSOLE] = outbox
    if mode == "processes":
        services.offload = offload_for(embedder, workers=max(1, settings.cpu_workers))
    if mode != "inline":
        services.jobs = GenerationJobs.build(
            db=db, settings=settings, embedder=embedder, indexes=services.indexes,
            clock=lambda: datetime.now(UTC), offload=services.offload,
        )  # fmt: skip
        await services.jobs.start()
    router = Router(services)
    clickers = [f"clicker{i}" for i in range(CLICKERS)]
    writers = [f"writer{i}" for i in range(WRITERS)]
    try:
        for who in clickers:
            await seed_questions(db, QUESTIONS_EACH, who)
        await router.route(_event(writers[0], EventKind.DOCUMENT, document=_document(CHAPTER)))
        async with db.session() as session:
            first = await get_or_create_user(session, Platform.CONSOLE, writers[0], writers[0])
            source_scope = (await personal_scope(session, first)).id
        for who in writers[1:]:
            await _copy_material(db, source_scope, who)
        await embedder.embed(["warm up"])

        clicks, stop = Clicks(), asyncio.Event()
        tasks = [asyncio.create_task(_clicker(router, who, clicks, stop)) for who in clickers]
        stalls: dict[str, float] = {}
        tasks.append(asyncio.create_task(_watch_loop(stalls, clicks, stop)))
        await asyncio.sleep(QUIET_S)
        clicks.begin("busy")
        busy_started = time.perf_counter()

        async def timed(event: Incoming) -> float:
            started = time.perf_counter()
            replies = await router.route(event)
            if any(r.text == GENERIC_FAILURE for r in replies):
                raise RuntimeError(f"{event.user.external_id}: {replies[0].text}")
            return time.perf_counter() - started

        work = [timed(_event(who, EventKind.COMMAND, command="quiz", args=("20",)))
                for who in writers]  # fmt: skip
        work.append(timed(_event("reader", EventKind.DOCUMENT, document=_document(BOOK))))
        answered = await asyncio.gather(*work, return_exceptions=True)
        if services.jobs is not None:
            await services.jobs.idle()
        busy_s = time.perf_counter() - busy_started
        stop.set()
        await asyncio.gather(*tasks)
    finally:
        if services.jobs is not None:
            await services.jobs.close()
        if services.offload is not None:
            await services.offload.close()
        await db.dispose()
    result: dict[str, Any] = {"mode": mode, "busy_s": round(busy_s, 1)}
    for phase, samples in clicks.samples.items():
        result[phase] = {
            "clicks": len(samples),
            "p50_ms": round(_percentile(samples, 0.5), 1),
            "p99_ms": round(_percentile(samples, 0.99), 1),
            "failed": clicks.failed.get(phase, 0),
            "longest_loop_stall_ms": round(stalls.get(phase, 0.0), 1),
            "failed_at_s": clicks.failed_at.get(phase, []),
        }
    result["requests_answered_s"] = [
        round(a, 2) if isinstance(a, float) else f"failed: {a}" for a in answered
    ]
    return result


async def _fresh_postgres(base: str) -> tuple[str, str]:
    import asyncpg

    name = f"rounds_bench_{uuid.uuid4().hex[:8]}"
    url = make_url(base)
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(admin)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return url.set(database=name).render_as_string(hide_password=False), admin


async def run(results_dir: Path) -> list[Row]:
    embedder = MiniLMEmbedder()
    # A failed click is counted here; its traceback (SQLite's "database is locked") is noise.
    logging.getLogger("handlers.router").setLevel(logging.CRITICAL)
    modes = os.environ.get(MODES_ENV, ",".join(MODES)).split(",")
    results: list[dict[str, Any]] = []
    targets = ["sqlite"] + (["postgres"] if os.environ.get(PG_ENV) else [])
    for target in targets:
        for mode in modes:
            with tempfile.TemporaryDirectory(prefix="rounds-bench-contention-") as tmp:
                root = Path(tmp)
                if target == "sqlite":
                    url = f"sqlite+aiosqlite:///{root / 'rounds.db'}"
                else:
                    url, _ = await _fresh_postgres(os.environ[PG_ENV])
                load_before = [round(x, 2) for x in os.getloadavg()]
                figures = await measure(url, root / "var", mode=mode, embedder=embedder)
                figures["database"] = target
                figures["load_avg_before"] = load_before
                figures["load_avg_after"] = [round(x, 2) for x in os.getloadavg()]
                for phase in ("quiet", "busy"):
                    figures.setdefault(phase, {})
                quiet, busy = figures["quiet"], figures["busy"]
                if quiet.get("p50_ms") and quiet.get("p99_ms") and busy:
                    figures["busy_vs_quiet"] = {
                        "p50": round(busy["p50_ms"] / quiet["p50_ms"], 2),
                        "p99": round(busy["p99_ms"] / quiet["p99_ms"], 2),
                    }
                results.append(figures)
    load = [round(x, 2) for x in os.getloadavg()]
    path = results_dir / "contention.json"
    previous = json.loads(path.read_text()) if path.exists() else None
    if previous is not None:
        previous.pop("previous", None)
    path.write_text(
        json.dumps(
            {"runs": results, "cpus": os.cpu_count(), "load_avg": load, "previous": previous},
            indent=2,
        )
        + "\n"
    )
    rows: list[Row] = []
    for r in results:
        label = f"{r['database']} {r['mode']}"
        quiet, busy = r.get("quiet", {}), r.get("busy", {})
        rows.append(("contention", f"{label}: quiet p50/p99", f"{quiet.get('p50_ms')}/"
                     f"{quiet.get('p99_ms')}", "ms", ""))  # fmt: skip
        rows.append(("contention", f"{label}: busy p50/p99", f"{busy.get('p50_ms')}/"
                     f"{busy.get('p99_ms')}", "ms", "p99 < 2x quiet"))  # fmt: skip
        rows.append(("contention", f"{label}: failed clicks",
                     quiet.get("failed", 0) + busy.get("failed", 0), "", "0"))  # fmt: skip
    return rows
