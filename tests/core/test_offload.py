"""CPU-heavy work in worker processes: it really runs elsewhere, at a lower priority, its
progress notes arrive in order, and a friendly refusal raised there reaches the student."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from core.ingest import ingest_file
from core.offload import WORKER_NICENESS, Offload, ProcessOffload, WorkerContext, embedder_here
from core.settings import Settings
from core.upload_errors import TooSlowToRead
from storage.db import Database
from storage.files import FileStore
from storage.vector_index import VectorIndexes
from tests.materials_support import EXCERPT, HashingEmbedder, leftovers, student_scope


async def _whereabouts(context: WorkerContext, notes: int) -> tuple[int, int]:
    for n in range(1, notes + 1):
        context.tell(n)
    return os.getpid(), os.nice(0)


async def _too_slow(context: WorkerContext) -> None:
    raise TooSlowToRead(pages_read=3, pages=279, seconds=120, what="PDF")


@pytest.fixture
async def pool() -> AsyncIterator[ProcessOffload]:
    offload = ProcessOffload(HashingEmbedder(), workers=1)
    yield offload
    await offload.close()


async def test_a_job_runs_in_a_worker_process_at_a_lower_priority_and_reports_in_order(
    pool: ProcessOffload,
) -> None:
    heard: list[int] = []

    async def note(n: int) -> None:
        heard.append(n)

    pid, niceness = await pool.run(_whereabouts, 200, notes=note)
    assert pid != os.getpid()
    assert niceness >= min(19, os.nice(0) + WORKER_NICENESS)
    assert heard == sorted(heard) and len(set(heard)) == len(heard)
    # The pool is made once: a second job finds the same worker.
    again, _ = await pool.run(_whereabouts, 0)
    assert again == pid


async def test_a_refusal_raised_in_a_worker_keeps_its_friendly_message(
    pool: ProcessOffload,
) -> None:
    with pytest.raises(TooSlowToRead) as refused:
        await pool.run(_too_slow)
    assert "longer than 120 s" in refused.value.user_message
    assert refused.value.reason == "too_slow_to_read"


async def test_threads_keep_the_same_contract() -> None:
    heard: list[int] = []

    async def note(n: int) -> None:
        heard.append(n)

    pid, _ = await Offload(HashingEmbedder()).run(_whereabouts, 3, notes=note)
    assert pid == os.getpid()
    assert heard == sorted(heard)


async def test_an_upload_read_and_embedded_in_a_worker_becomes_ready_with_its_progress(
    settings: Settings, db: Database, shared_data: Path, pool: ProcessOffload
) -> None:
    scope = await student_scope(db)
    embedder = HashingEmbedder()
    indexes = VectorIndexes(settings.data_dir, dim=embedder.dim)
    notes: list[str] = []

    async def progress(text: str) -> None:
        notes.append(text)

    async with db.session() as session:
        ingested = await ingest_file(
            session, scope=scope, filename="excerpt.pdf",
            data=(shared_data / EXCERPT).read_bytes(), uploaded_by=None, embedder=embedder,
            indexes=indexes, files=FileStore(settings.data_dir),
            max_bytes=settings.max_upload_bytes, progress=progress, progress_interval=0,
            offload=pool,
        )  # fmt: skip
    assert ingested.material.pages == 4 and ingested.material.chunk_count > 0
    assert embedder.calls == 0, "the worker embedded with its own copy"
    assert notes[0] == "Reading page 1/4…" and notes[-1] == "Saving…"
    assert any(note.startswith("Embedding passages") for note in notes)
    left = await leftovers(db, settings, scope.id)
    assert left.vectors == ingested.material.chunk_count


async def test_the_pooled_embedder_encodes_in_the_worker_with_the_models_own_vectors(
    pool: ProcessOffload,
) -> None:
    here = HashingEmbedder()
    embedder = embedder_here(pool)
    assert (embedder.name, embedder.dim) == (here.name, here.dim)
    texts = ["the sinoatrial node paces the heart", "aldosterone acts on the distal nephron"]
    vectors = await embedder.embed(texts)
    np.testing.assert_allclose(vectors, here.embed_sync(texts), atol=1e-6)
    # Without worker processes the model itself is used here.
    assert embedder_here(Offload(here)) is here
