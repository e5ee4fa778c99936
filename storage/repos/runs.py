"""Generation runs: one row per generate() call with the counts of every stage."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from storage.enums import ChunkKind, MaterialStatus, RunStatus
from storage.models import Chunk, GenerationRun, Material


async def start_run(session: AsyncSession, run: GenerationRun) -> GenerationRun:
    """Stores a new run (status RUNNING) so its questions can point at it."""
    session.add(run)
    await session.flush()
    return run


async def recent_runs(
    session: AsyncSession, scope_id: int, limit: int = 20
) -> Sequence[GenerationRun]:
    """The scope's newest runs first."""
    rows = await session.scalars(
        select(GenerationRun)
        .where(GenerationRun.scope_id == scope_id)
        .order_by(GenerationRun.id.desc())
        .limit(limit)
    )
    return rows.all()


async def source_chunks(
    session: AsyncSession,
    scope_id: int,
    *,
    material_ids: Sequence[int] | None = None,
    kinds: Sequence[ChunkKind] | None = None,
) -> list[Chunk]:
    """Chunks of the scope's ready materials a run may draw from, in reading order.

    The stored embedding is not loaded (it is not needed to write questions).
    """
    query = (
        select(Chunk)
        .join(Material, Material.id == Chunk.material_id)
        .where(Material.scope_id == scope_id, Material.status == MaterialStatus.READY)
        .options(defer(Chunk.embedding))
        .order_by(Chunk.material_id, Chunk.ordinal)
    )
    if material_ids is not None:
        query = query.where(Chunk.material_id.in_(list(material_ids)))
    if kinds is not None:
        query = query.where(Chunk.kind.in_(list(kinds)))
    return list(await session.scalars(query))


async def material_filenames(session: AsyncSession, material_ids: Sequence[int]) -> dict[int, str]:
    """The stored file names of these materials (their suffix says what a page is)."""
    if not material_ids:
        return {}
    rows = await session.execute(
        select(Material.id, Material.filename).where(Material.id.in_(list(material_ids)))
    )
    return {material_id: filename for material_id, filename in rows.all()}


async def chunk_vectors(session: AsyncSession, chunk_ids: Sequence[int]) -> dict[int, bytes]:
    """Stored float32 embeddings of these chunks (the system of record), by chunk id."""
    if not chunk_ids:
        return {}
    rows = await session.execute(
        select(Chunk.id, Chunk.embedding).where(Chunk.id.in_(list(chunk_ids)))
    )
    return {cid: vector for cid, vector in rows.all() if vector is not None}


async def running_for(session: AsyncSession, user_id: int) -> GenerationRun | None:
    """The student's generation still running, if any (one at a time per student)."""
    return await session.scalar(
        select(GenerationRun)
        .where(GenerationRun.requested_by == user_id, GenerationRun.status == RunStatus.RUNNING)
        .limit(1)
    )


async def runs_created_after(session: AsyncSession, earliest: datetime) -> list[GenerationRun]:
    """Every run created after `earliest`, oldest first (the run report's window)."""
    rows = await session.scalars(
        select(GenerationRun)
        .where(GenerationRun.created_at > earliest)
        .order_by(GenerationRun.created_at)
    )
    return list(rows)


async def set_status_ref(session: AsyncSession, run_id: int, message_ref: str) -> None:
    """Stores the chat message a background run edits as it goes."""
    await session.execute(
        update(GenerationRun).where(GenerationRun.id == run_id).values(status_ref=message_ref[:64])
    )


async def stamp_heartbeat(session: AsyncSession, worker: str, now: datetime) -> None:
    """Marks the worker's running rows alive at `now`."""
    await session.execute(
        update(GenerationRun)
        .where(GenerationRun.worker == worker, GenerationRun.status == RunStatus.RUNNING)
        .values(heartbeat_at=now)
    )


async def claim_stale_runs(
    session: AsyncSession, *, worker: str, stamped_before: datetime
) -> list[GenerationRun]:
    """Running rows of other workers not stamped since `stamped_before` (a dead process's),
    locked for this transaction; rows another live claimer holds are skipped."""
    rows = await session.scalars(
        select(GenerationRun)
        .where(
            GenerationRun.status == RunStatus.RUNNING,
            GenerationRun.worker != worker,
            or_(
                GenerationRun.heartbeat_at < stamped_before,
                GenerationRun.heartbeat_at.is_(None),
            ),
        )
        .with_for_update(skip_locked=True)
    )
    return list(rows)
