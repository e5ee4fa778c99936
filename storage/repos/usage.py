"""What a student has used, for the per-student limits: questions generated in a window,
uploads in a window, bytes stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import RunStatus
from storage.models import GenerationRun, Material


def _counted_questions() -> ColumnElement[int]:
    # A running generation counts what it asked for; a finished one what it stored.
    return case(
        (GenerationRun.status == RunStatus.RUNNING, GenerationRun.requested),
        else_=GenerationRun.inserted,
    )


async def questions_generated_since(
    session: AsyncSession, user_id: int, since: datetime
) -> tuple[int, datetime | None]:
    """(questions counted, when the oldest run that counts was made) after `since`."""
    counted = _counted_questions()
    used = await session.scalar(
        select(func.coalesce(func.sum(counted), 0)).where(
            GenerationRun.requested_by == user_id, GenerationRun.created_at > since
        )
    )
    oldest = await session.scalar(
        select(func.min(GenerationRun.created_at)).where(
            GenerationRun.requested_by == user_id, GenerationRun.created_at > since, counted > 0
        )
    )
    return int(used or 0), oldest


async def uploads_since(
    session: AsyncSession, user_id: int, since: datetime
) -> tuple[int, datetime | None]:
    """(uploads, when the oldest of them was made) after `since`."""
    recent = await session.execute(
        select(func.count(), func.min(Material.created_at)).where(
            Material.uploaded_by == user_id, Material.created_at > since
        )
    )
    count, oldest = recent.one()
    return int(count), oldest


async def stored_bytes(session: AsyncSession, user_id: int) -> int:
    stored = await session.scalar(
        select(func.coalesce(func.sum(Material.size_bytes), 0)).where(
            Material.uploaded_by == user_id
        )
    )
    return int(stored or 0)
