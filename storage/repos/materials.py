"""Materials and their chunks: add, find by content hash, list per scope, delete."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import MaterialStatus
from storage.models import Chunk, Material, Question
from storage.repos.chats import bump_index_version


@dataclass(frozen=True)
class MaterialSummary:
    """A material as /materials lists it, with how many questions were made from it."""

    material: Material
    question_count: int


async def find_by_sha(session: AsyncSession, scope_id: int, sha256: str) -> Material | None:
    return await session.scalar(
        select(Material).where(Material.scope_id == scope_id, Material.sha256 == sha256)
    )


async def material_in_scope(
    session: AsyncSession, scope_id: int, material_id: int
) -> Material | None:
    """The material if it belongs to the scope; None for anyone else's (never leaks)."""
    return await session.scalar(
        select(Material).where(Material.id == material_id, Material.scope_id == scope_id)
    )


async def materials_of_scope(session: AsyncSession, scope_id: int) -> list[Material]:
    return list(await session.scalars(select(Material).where(Material.scope_id == scope_id)))


async def add_material(
    session: AsyncSession,
    *,
    scope_id: int,
    uploaded_by: int | None,
    filename: str,
    title: str,
    sha256: str,
    size_bytes: int,
    file_path: str,
) -> Material:
    material = Material(
        scope_id=scope_id,
        uploaded_by=uploaded_by,
        filename=filename[:255],
        title=title[:255],
        sha256=sha256,
        size_bytes=size_bytes,
        file_path=file_path,
        status=MaterialStatus.PROCESSING,
    )
    session.add(material)
    await session.flush()
    return material


async def add_chunks(session: AsyncSession, material: Material, chunks: Sequence[Chunk]) -> None:
    """Inserts the material's chunks, marks it ready and invalidates the scope's indexes."""
    for chunk in chunks:
        chunk.material_id = material.id
    session.add_all(chunks)
    material.chunk_count = len(chunks)
    material.status = MaterialStatus.READY
    await session.flush()
    await bump_index_version(session, material.scope_id)


async def materials_for_scope(session: AsyncSession, scope_id: int) -> list[MaterialSummary]:
    """The scope's materials, oldest first, with their question counts."""
    counts = (
        select(Question.material_id, func.count(Question.id).label("n"))
        .group_by(Question.material_id)
        .subquery()
    )
    rows = await session.execute(
        select(Material, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.material_id == Material.id)
        .where(Material.scope_id == scope_id)
        .order_by(Material.created_at, Material.id)
    )
    return [MaterialSummary(material, int(count)) for material, count in rows.all()]


async def delete_material(session: AsyncSession, material: Material) -> str:
    """Deletes the material, its chunks and questions; returns its stored file path.

    The scope's index version is bumped so every process drops the vectors on next use.
    """
    file_path = material.file_path
    scope_id = material.scope_id
    # Explicit deletes rather than relying on ON DELETE CASCADE alone, so a connection
    # without SQLite's foreign_keys pragma still leaves no orphan chunks.
    await session.execute(delete(Chunk).where(Chunk.material_id == material.id))
    await session.execute(delete(Question).where(Question.material_id == material.id))
    await session.delete(material)
    await session.flush()
    await bump_index_version(session, scope_id)
    return file_path
