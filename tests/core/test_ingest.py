"""ingest(): a PDF becomes a ready material with embedded chunks; failures leave nothing."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from core.embed import Embedder
from core.ingest import delete_material, ingest
from core.settings import Settings
from core.upload_errors import TooManyPages, TooSlowToRead
from storage.db import Database
from storage.enums import ChunkKind, MaterialStatus
from storage.files import FileStore
from storage.models import Chunk, Material, Scope
from storage.vector_index import VectorIndexes
from tests.materials_support import (
    EXCERPT,
    HEART,
    EmbedderCrashed,
    ExplodingEmbedder,
    HashingEmbedder,
    leftovers,
    student_scope,
)


class Kit:
    """What ingest needs, wired like bot/app.py wires it, around one test's data dir."""

    def __init__(self, settings: Settings, db: Database, embedder: Embedder) -> None:
        self.settings = settings
        self.db = db
        self.embedder = embedder
        self.indexes = VectorIndexes(settings.data_dir, dim=embedder.dim)
        self.files = FileStore(settings.data_dir)
        self.notes: list[str] = []

    async def note(self, text: str) -> None:
        self.notes.append(text)

    async def ingest(
        self, scope: Scope, data: bytes, *, embedder: Embedder | None = None
    ) -> Material:
        async with self.db.session() as session:
            return await ingest(
                session,
                scope=scope,
                filename="../../notes/heart.pdf",
                data=data,
                uploaded_by=scope.user_id,
                embedder=embedder or self.embedder,
                indexes=self.indexes,
                files=self.files,
                max_bytes=self.settings.max_upload_bytes,
                progress=self.note,
                progress_interval=0,
            )


@pytest.fixture
def kit(settings: Settings, db: Database, embedder: Embedder) -> Kit:
    return Kit(settings, db, embedder)


async def test_excerpt_becomes_a_ready_material_with_embedded_chunks(
    kit: Kit, shared_data: Path
) -> None:
    scope = await student_scope(kit.db)
    data = (shared_data / EXCERPT).read_bytes()
    material = await kit.ingest(scope, data)

    assert material.status is MaterialStatus.READY
    assert (material.pages, material.filename) == (4, "heart.pdf")
    assert material.title.endswith("Section 19.5: Development of the Heart")
    async with kit.db.session() as session:
        chunks = list(await session.scalars(select(Chunk).order_by(Chunk.ordinal)))
        index = await kit.indexes.get(session, scope.id)
    assert len(chunks) == material.chunk_count >= 8
    assert {chunk.kind for chunk in chunks} == set(ChunkKind)
    for chunk in chunks:
        assert chunk.embedding is not None
        vector = np.frombuffer(chunk.embedding, dtype="<f4")
        assert vector.shape == (384,)
        assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-4
    assert index.ids() == {chunk.id for chunk in chunks}
    assert kit.files.path(material.file_path).read_bytes() == data
    assert kit.indexes.path_for(scope.id).exists()  # written once the upload committed
    assert "Reading page 1/4…" in kit.notes
    assert f"Embedding passages {len(chunks)}/{len(chunks)}…" in kit.notes


async def test_the_same_bytes_again_are_the_same_material(kit: Kit, shared_data: Path) -> None:
    scope = await student_scope(kit.db)
    data = (shared_data / EXCERPT).read_bytes()
    first = await kit.ingest(scope, data)
    calls = HashingEmbedder()
    again = await kit.ingest(scope, data, embedder=calls)
    assert again.id == first.id
    assert calls.calls == 0  # nothing was read or embedded a second time
    before = await leftovers(kit.db, kit.settings, scope.id)
    assert (before.materials, before.stored_files) == (1, 1)
    # Another student sending the same file gets a material of their own.
    other = await student_scope(kit.db, "bo")
    theirs = await kit.ingest(other, data, embedder=HashingEmbedder())
    assert theirs.id != first.id and theirs.scope_id == other.id


async def test_owner_password_only_pdf_is_accepted(kit: Kit, shared_data: Path) -> None:
    scope = await student_scope(kit.db)
    data = (shared_data / "bad" / "encrypted_owner_only_opens_without_password.pdf").read_bytes()
    material = await kit.ingest(scope, data, embedder=HashingEmbedder())
    assert material.status is MaterialStatus.READY and material.pages == 4


@pytest.mark.parametrize("good_calls", [0, 2])
async def test_a_crash_while_embedding_leaves_nothing_behind(
    settings: Settings, any_db: Database, shared_data: Path, good_calls: int
) -> None:
    kit = Kit(settings, any_db, HashingEmbedder())
    scope = await student_scope(kit.db)
    exploding = ExplodingEmbedder(good_calls=good_calls)
    with pytest.raises(EmbedderCrashed):
        await kit.ingest(scope, (shared_data / HEART).read_bytes(), embedder=exploding)
    assert (await leftovers(kit.db, kit.settings, scope.id)).nothing


async def test_a_crash_after_an_earlier_upload_keeps_the_earlier_one_intact(
    kit: Kit, shared_data: Path
) -> None:
    scope = await student_scope(kit.db)
    excerpt, heart = (shared_data / EXCERPT).read_bytes(), (shared_data / HEART).read_bytes()
    kept = await kit.ingest(scope, excerpt, embedder=HashingEmbedder())
    with pytest.raises(EmbedderCrashed):
        await kit.ingest(scope, heart, embedder=ExplodingEmbedder(1))
    left = await leftovers(kit.db, kit.settings, scope.id)
    assert (left.materials, left.chunks, left.stored_files) == (1, kept.chunk_count, 1)
    assert left.vectors == kept.chunk_count


async def test_a_rolled_back_upload_takes_its_file_and_vectors_with_it(
    kit: Kit, shared_data: Path
) -> None:
    scope = await student_scope(kit.db)

    class AfterIngest(Exception):
        pass

    with pytest.raises(AfterIngest):
        async with kit.db.session() as session:
            await ingest(
                session, scope=scope, filename="a.pdf", data=(shared_data / EXCERPT).read_bytes(),
                uploaded_by=None, embedder=HashingEmbedder(), indexes=kit.indexes,
                files=kit.files, max_bytes=kit.settings.max_upload_bytes,
            )  # fmt: skip
            raise AfterIngest  # e.g. the handler fails after the upload succeeded
    assert kit.indexes.cached(scope.id) is None
    assert (await leftovers(kit.db, kit.settings, scope.id)).nothing


async def test_deleting_a_material_removes_rows_vectors_and_file(
    settings: Settings, any_db: Database, shared_data: Path
) -> None:
    kit = Kit(settings, any_db, HashingEmbedder())
    scope = await student_scope(kit.db)
    material = await kit.ingest(
        scope, (shared_data / EXCERPT).read_bytes(), embedder=HashingEmbedder()
    )
    async with kit.db.session() as session:
        target = await session.get(Material, material.id)
        assert target is not None
        await delete_material(session, material=target, indexes=kit.indexes, files=kit.files)
    assert (await leftovers(kit.db, kit.settings, scope.id)).nothing


async def _ingest_with_limits(kit: Kit, scope: Scope, data: bytes, **limits: object) -> None:
    async with kit.db.session() as session:
        await ingest(
            session, scope=scope, filename="a.pdf", data=data, uploaded_by=None,
            embedder=kit.embedder, indexes=kit.indexes, files=kit.files,
            max_bytes=kit.settings.max_upload_bytes, **limits,  # type: ignore[arg-type]
        )  # fmt: skip


async def test_a_pdf_over_the_page_limit_is_refused_before_reading_and_leaves_nothing(
    settings: Settings, db: Database, shared_data: Path
) -> None:
    kit = Kit(settings, db, HashingEmbedder())
    scope = await student_scope(kit.db)
    with pytest.raises(TooManyPages) as refused:
        await _ingest_with_limits(kit, scope, (shared_data / EXCERPT).read_bytes(), max_pages=3)
    message = refused.value.user_message
    assert "has 4 pages" in message and "up to 3 pages" in message
    assert (await leftovers(kit.db, kit.settings, scope.id)).nothing


async def test_a_pdf_that_reads_too_slowly_is_stopped_and_leaves_nothing(
    settings: Settings, db: Database, shared_data: Path
) -> None:
    kit = Kit(settings, db, HashingEmbedder())
    scope = await student_scope(kit.db)
    ticks = iter(range(0, 10_000, 40))  # each look at the clock: 40 s later
    with pytest.raises(TooSlowToRead) as refused:
        await _ingest_with_limits(
            kit, scope, (shared_data / EXCERPT).read_bytes(), extract_timeout_s=60,
            monotonic=lambda: float(next(ticks)),
        )  # fmt: skip
    assert "longer than 60 s" in refused.value.user_message
    assert "of 4 pages" in refused.value.user_message
    assert (await leftovers(kit.db, kit.settings, scope.id)).nothing


async def test_no_connection_is_held_while_a_pdf_is_embedded(
    settings: Settings, db: Database, shared_data: Path
) -> None:
    held: list[int] = []

    class Watching(HashingEmbedder):
        async def embed(self, texts: Sequence[str]) -> np.ndarray:
            held.append(db.engine.pool.checkedout())  # type: ignore[attr-defined]
            return await super().embed(texts)

    kit = Kit(settings, db, Watching())
    scope = await student_scope(kit.db)
    await kit.ingest(scope, (shared_data / EXCERPT).read_bytes())
    assert held and set(held) == {0}, "neither a write lock nor a pooled connection"


async def test_embedding_leaves_a_core_for_the_clicks(embedder: Embedder) -> None:
    import os

    import torch

    from core.embed import MiniLMEmbedder, embedder_for

    await embedder.embed(["a sentence to load the model"])
    cores = os.cpu_count() or 1
    assert torch.get_num_threads() == max(1, cores - 1)
    chosen = embedder_for(Settings(_env_file=None, embed_threads=3))
    assert isinstance(chosen, MiniLMEmbedder) and chosen.threads == 3


async def test_scanned_pages_that_read_too_slowly_are_stopped_and_leave_nothing(
    settings: Settings, db: Database, shared_data: Path
) -> None:
    from tests.derived_material import page_images, scanned_pdf

    kit = Kit(settings, db, HashingEmbedder())
    scope = await student_scope(kit.db)
    scan = scanned_pdf(page_images(shared_data / EXCERPT, [1, 2], dpi=50), dpi=50)
    ticks = iter(range(0, 10_000, 400))  # each look at the clock: 400 s later
    with pytest.raises(TooSlowToRead) as refused:
        await _ingest_with_limits(
            kit, scope, scan, extract_timeout_s=1_000, ocr_timeout_s=300,
            monotonic=lambda: float(next(ticks)),
        )  # fmt: skip
    # The text layer had its own, longer limit; OCR stopped before its first page.
    assert "longer than 300 s (I got through 0 of 2 pages)" in refused.value.user_message
    assert (await leftovers(kit.db, kit.settings, scope.id)).nothing
