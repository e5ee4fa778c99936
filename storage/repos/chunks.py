"""Chunks as retrieval and topic finding read them: only ever a scope's own."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from storage.enums import ChunkKind, MaterialStatus
from storage.models import Chunk, Material, Scope


async def chunks_for_material(
    session: AsyncSession,
    material_id: int,
    kinds: Collection[ChunkKind] | None = None,
    *,
    scope_id: int | None = None,
) -> list[Chunk]:
    """A material's chunks in reading order, optionally only some kinds and one scope."""
    query = select(Chunk).where(Chunk.material_id == material_id).order_by(Chunk.ordinal)
    if kinds is not None:
        query = query.where(Chunk.kind.in_(list(kinds)))
    if scope_id is not None:
        query = query.join(Material, Material.id == Chunk.material_id).where(
            Material.scope_id == scope_id
        )
    return list((await session.scalars(query)).all())


async def chunk_ids_in_scope(
    session: AsyncSession,
    scope_id: int,
    *,
    material_id: int | None,
    kinds: Collection[ChunkKind] | None,
) -> Sequence[int]:
    """Chunk ids of the scope's ready materials (of one material, of some kinds)."""
    query = (
        select(Chunk.id)
        .join(Material, Material.id == Chunk.material_id)
        .where(Material.scope_id == scope_id, Material.status == MaterialStatus.READY)
    )
    if material_id is not None:
        query = query.where(Chunk.material_id == material_id)
    if kinds is not None:
        query = query.where(Chunk.kind.in_(list(kinds)))
    return (await session.scalars(query)).all()


async def ready_chunks(
    session: AsyncSession,
    scope_id: int,
    ids: Sequence[int],
    *,
    material_id: int | None = None,
    kinds: Collection[ChunkKind] | None = None,
) -> tuple[dict[int, Chunk], int | None]:
    """Those of `ids` that are chunks of the scope's ready materials (of one material, of
    some kinds), by id, without their embeddings; and the scope's index_version as the same
    statement read it (None when no id qualified). One primary-key lookup per id."""
    if not ids:
        return {}, None
    query = (
        select(Chunk, Scope.index_version)
        .join(Material, Material.id == Chunk.material_id)
        .join(Scope, Scope.id == Material.scope_id)
        .where(
            Chunk.id.in_(list(ids)),
            Material.scope_id == scope_id,
            Material.status == MaterialStatus.READY,
        )
        # The vector is in the FAISS index already; its 1.5 KB a row is not read again.
        .options(defer(Chunk.embedding, raiseload=True))
    )
    if material_id is not None:
        query = query.where(Chunk.material_id == material_id)
    if kinds is not None:
        query = query.where(Chunk.kind.in_(list(kinds)))
    rows: dict[int, Chunk] = {}
    version: int | None = None
    for chunk, scope_version in await session.execute(query):
        rows[chunk.id], version = chunk, scope_version
    return rows, version
