"""What rows own files in the data dir, for the start-up sweep of orphaned files."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Material, Scope, User


@dataclass(frozen=True)
class Owners:
    upload_paths: set[str]
    scope_ids: set[int]
    user_ids: set[int]


async def file_owners(session: AsyncSession) -> Owners:
    return Owners(
        upload_paths=set(await session.scalars(select(Material.file_path))),
        scope_ids=set(await session.scalars(select(Scope.id))),
        user_ids=set(await session.scalars(select(User.id))),
    )
