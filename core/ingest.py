"""Upload pipeline: file bytes (PDF, slides, Word, photo) -> checked, stored, pages -> chunks
-> embeddings -> ready.

All or nothing: the rows are written inside a savepoint at the very end (after the slow
embedding), and any failure — a rejected file, a crash while embedding — removes the
stored file and leaves no material, chunk or index entry behind.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath
from typing import Any

import numpy as np
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.chunking import ChunkDraft, chunk_document
from core.embed import Embedder
from core.errors import RoundsError
from core.offload import Offload, WorkerContext
from core.pdf_text import PdfText
from core.readers.formats import Format, ReadLimits, detect, stored_name
from core.readers.upload import read_upload
from core.upload_errors import TooLarge, TooLittleText, TooSlowToRead, UploadRejected
from storage.enums import MaterialStatus
from storage.files import FileStore
from storage.models import Chunk, Material, Scope
from storage.repos import materials as materials_repo
from storage.vector_index import VectorIndexes, on_transaction_end

log = logging.getLogger(__name__)

Progress = Callable[[str], Awaitable[None]]

# Chunks per embedding call: a progress tick every few seconds on a 2-core CPU.
EMBED_BATCH = 64
# Progress notes at most this often (seconds); chat platforms rate-limit message edits.
PROGRESS_INTERVAL_S = 1.5

__all__ = ["Ingested", "Progress", "UploadRejected", "delete_material", "ingest", "ingest_file"]


@dataclass(frozen=True)
class Ingested:
    """A ready material and what reading it took: pages read by OCR, pages left unread."""

    material: Material
    ocr_pages: tuple[int, ...] = ()
    unreadable_pages: tuple[int, ...] = ()


class AlreadyUploading(RoundsError):
    """The same file is being added by another upload right now."""

    user_message = "I'm already reading that file from your other upload; it'll be ready soon."


class _Reporter:
    """Forwards progress notes, at most one per interval (the last one always goes out)."""

    def __init__(self, progress: Progress | None, interval: float) -> None:
        self.progress = progress
        self.interval = interval
        self.last = -float("inf")

    async def __call__(self, text: str, *, force: bool = False) -> None:
        if self.progress is None:
            return
        now = time.monotonic()
        if force or now - self.last >= self.interval:
            self.last = now
            await self.progress(text)


async def ingest(session: AsyncSession, **options: Any) -> Material:
    """The material `ingest_file` makes, for callers that need nothing else."""
    return (await ingest_file(session, **options)).material


async def ingest_file(
    session: AsyncSession,
    *,
    scope: Scope,
    filename: str,
    data: bytes,
    uploaded_by: int | None,
    embedder: Embedder,
    indexes: VectorIndexes,
    files: FileStore,
    max_bytes: int,
    progress: Progress | None = None,
    progress_interval: float = PROGRESS_INTERVAL_S,
    max_pages: int | None = None,
    extract_timeout_s: float | None = None,
    max_ocr_pages: int | None = None,
    ocr_timeout_s: float | None = None,
    max_megapixels: float = ReadLimits.max_megapixels,
    monotonic: Callable[[], float] = time.monotonic,
    now: datetime | None = None,
    offload: Offload | None = None,
) -> Ingested:
    """Turns an uploaded PDF, deck, Word file or photo into a `ready` material with embedded,
    page-cited chunks (a deck's pages are its slides).

    Reading, chunking and embedding run on `offload` (a worker process in the bot; threads
    by default), with no transaction open. `monotonic` is the clock of the time limits (any
    but the default stays in this process: a worker process cannot call back into it).

    Returns the existing material when the same bytes are already in the scope. Raises an
    `UploadRejected` (a RoundsError with a friendly message) for a file Rounds cannot use;
    then, as on any other failure, no rows, stored file or index entries are left behind.
    """
    report = _Reporter(progress, progress_interval)
    if len(data) > max_bytes:
        raise TooLarge(size_bytes=len(data), max_bytes=max_bytes)
    fmt = detect(data, filename)
    sha256 = hashlib.sha256(data).hexdigest()
    existing = await materials_repo.find_by_sha(session, scope.id, sha256)
    if existing is not None and existing.status is MaterialStatus.READY:
        return Ingested(existing)
    # Reading and embedding take minutes: the transaction ends here, so no lock (SQLite) or
    # pooled connection (PostgreSQL) is held meanwhile. Nothing has been written since the
    # caller's last commit; the material is written all-or-nothing at the end.
    await session.commit()

    limits = ReadLimits(
        max_pages=max_pages,
        max_ocr_pages=max_ocr_pages,
        max_megapixels=max_megapixels,
        timeout_s=extract_timeout_s,
        ocr_timeout_s=ocr_timeout_s,
    )
    offload = offload or Offload(embedder)

    async def relay(note: Note) -> None:
        line, urgent = _progress_note(fmt, note)
        await report(line, force=urgent)

    text, drafts, vectors = await offload.run(
        read_and_embed, data, fmt, limits, monotonic, notes=relay
    )

    await report("Saving…", force=True)
    relative = await asyncio.to_thread(files.save, scope.id, sha256, data, fmt.suffix)
    name = stored_name(_safe_filename(filename), fmt)
    # No savepoint here: SQLite's driver turns RELEASE SAVEPOINT into a commit. The writes
    # below are quick and an error propagates, so the caller's transaction rolls them back.
    synced = False
    try:
        if existing is not None:  # an earlier attempt that never became ready
            await materials_repo.delete_material(session, existing)
        material = await materials_repo.add_material(
            session,
            scope_id=scope.id,
            uploaded_by=uploaded_by,
            filename=name,
            title=text.title or PurePath(name).stem,
            sha256=sha256,
            size_bytes=len(data),
            file_path=relative,
        )
        material.pages = text.page_count
        if now is not None:  # the upload's own time: the uploads-per-day limit counts it
            material.created_at = now
        await materials_repo.add_chunks(session, material, _rows(drafts, vectors))
        synced = True
        await indexes.get(session, scope.id)
    except IntegrityError as error:
        # The same bytes arrived twice at once and the other upload won; its file is ours.
        if synced:
            indexes.forget(scope.id)
        raise AlreadyUploading() from error
    except BaseException:
        await _discard(files, relative, indexes, scope.id, synced=synced)
        raise
    # Should the caller's transaction roll back later, the stored file goes too.
    on_transaction_end(session, rolled_back=lambda: files.delete(relative))
    log.info(
        "ingested material %s (%s): %d pages (%d by OCR, %d unreadable), %d chunks",
        material.id, fmt, material.pages, len(text.ocr_pages), len(text.unreadable_pages),
        len(drafts),
    )  # fmt: skip
    return Ingested(material, text.ocr_pages, text.unreadable_pages)


async def delete_material(
    session: AsyncSession,
    *,
    material: Material,
    indexes: VectorIndexes,
    files: FileStore,
) -> None:
    """Deletes a material's rows and vectors now, its stored file once the deletion commits
    (a rolled-back delete keeps everything)."""
    scope_id = material.scope_id
    relative = await materials_repo.delete_material(session, material)
    await indexes.get(session, scope_id)
    on_transaction_end(session, committed=lambda: files.delete(relative))


class Deadline:
    """A time limit on reading a file, checked after each page (a page itself is not cut)."""

    def __init__(self, seconds: float, monotonic: Callable[[], float], what: str = "PDF") -> None:
        self.seconds = seconds
        self.monotonic = monotonic
        self.what = what
        self.ends = monotonic() + seconds

    def check(self, done: int, total: int) -> None:
        if done < total and self.monotonic() > self.ends:
            raise TooSlowToRead(pages_read=done, pages=total, seconds=self.seconds, what=self.what)


# A reading step ("page", done, total, ocr) or an embedding step ("embedded", done, total).
Note = tuple[Any, ...]


async def read_and_embed(
    context: WorkerContext,
    data: bytes,
    fmt: Format,
    limits: ReadLimits,
    monotonic: Callable[[], float],
) -> tuple[PdfText, list[ChunkDraft], np.ndarray]:
    """The slow part of an upload, off the event loop (core/offload.py): the file's text,
    its chunks and their embeddings. Tells each page read and each batch embedded; raises an
    UploadRejected past a page or time limit (the reading stops there)."""
    text_deadline = Deadline(limits.timeout_s, monotonic, fmt.what) if limits.timeout_s else None
    ocr_deadline: list[Deadline] = []  # started by the first OCR page

    def on_page(done: int, total: int, *, ocr: bool = False) -> None:
        context.tell(("page", done, total, ocr))
        if ocr and limits.ocr_timeout_s:
            if not ocr_deadline:
                ocr_deadline.append(Deadline(limits.ocr_timeout_s, monotonic, fmt.what))
            ocr_deadline[0].check(done, total)
        elif not ocr and text_deadline is not None:
            text_deadline.check(done, total)

    text = await asyncio.to_thread(read_upload, data, fmt, limits=limits, on_page=on_page)
    drafts = await asyncio.to_thread(chunk_document, text)
    if not drafts:
        raise TooLittleText(words=text.word_count, what=fmt.what)
    return text, drafts, await _embed(context, drafts)


def _progress_note(fmt: Format, note: Note) -> tuple[str, bool]:
    """The status line for a step, and whether it must be shown at once."""
    if note[0] == "embedded":
        done, total = note[1:]
        return f"Embedding passages {done}/{total}…", done == 0
    done, total, ocr = note[1:]
    if not ocr:
        return f"Reading {fmt.unit} {done}/{total}…", done == 1
    if fmt.is_image:
        return "Reading the text in your picture (OCR, text recognition)…", done == 0
    # Each scanned page takes seconds: every one is shown (the reporter still paces edits).
    return f"Reading scanned pages with OCR (text recognition): {done}/{total} done…", done == 0


async def _embed(context: WorkerContext, drafts: list[ChunkDraft]) -> np.ndarray:
    embedder = context.embedder
    texts = [draft.embed_text for draft in drafts]
    total = len(texts)
    parts = []
    context.tell(("embedded", 0, total))
    for start in range(0, total, EMBED_BATCH):
        batch = await embedder.embed(texts[start : start + EMBED_BATCH])
        if batch.shape != (min(EMBED_BATCH, total - start), embedder.dim):
            raise ValueError(f"embedder returned shape {batch.shape}")
        parts.append(batch)
        context.tell(("embedded", min(start + EMBED_BATCH, total), total))
    return np.vstack(parts).astype("<f4", copy=False)


def _rows(drafts: list[ChunkDraft], vectors: np.ndarray) -> list[Chunk]:
    return [
        Chunk(
            ordinal=draft.ordinal,
            page_start=draft.page_start,
            page_end=draft.page_end,
            heading=draft.heading,
            kind=draft.kind,
            text=draft.text,
            embedding=vector.tobytes(),
        )
        for draft, vector in zip(drafts, vectors, strict=True)
    ]


async def _discard(
    files: FileStore, relative: str, indexes: VectorIndexes, scope_id: int, *, synced: bool
) -> None:
    await asyncio.to_thread(files.delete, relative)
    if synced:
        indexes.forget(scope_id)


def _safe_filename(name: str) -> str:
    """The file's own name without any folders, control characters or excess length."""
    base = PurePath(name.replace("\\", "/")).name or "document"
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip()
    # Room is kept for the real format's suffix (stored_name may add it).
    return (cleaned or "document")[:250]
