"""Students: found or created by their platform identity."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import Platform, SchedulerKind
from storage.models import User


async def get_or_create_user(
    session: AsyncSession, platform: Platform, external_id: str, display_name: str = ""
) -> User:
    """Returns the user with this platform identity, creating it on first contact."""
    user = await session.scalar(
        select(User).where(User.platform == platform, User.external_id == external_id)
    )
    if user is None:
        user = User(platform=platform, external_id=external_id, display_name=display_name)
        session.add(user)
        await session.flush()
    elif display_name and user.display_name != display_name:
        user.display_name = display_name
    return user


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def delete_user(session: AsyncSession, user: User) -> None:
    """Deletes the user and, by cascade, everything they own (scope, cards, attempts)."""
    await session.delete(user)
    await session.flush()


async def fsrs_student_ids(session: AsyncSession) -> list[int]:
    """Students whose cards FSRS schedules (the candidates for a parameter fit)."""
    rows = await session.scalars(select(User.id).where(User.scheduler == SchedulerKind.FSRS))
    return list(rows)
