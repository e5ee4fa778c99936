"""Students: found or created by their platform identity."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import Platform, SchedulerKind
from storage.models import Attempt, Card, Material, Scope, User


async def get_or_create_user(
    session: AsyncSession, platform: Platform, external_id: str, display_name: str = ""
) -> User:
    """Returns the user with this platform identity, creating it on first contact."""
    user = await find_user(session, platform, external_id)
    if user is None:
        user = User(platform=platform, external_id=external_id, display_name=display_name)
        session.add(user)
        await session.flush()
    elif display_name and user.display_name != display_name:
        user.display_name = display_name
    return user


async def find_user(session: AsyncSession, platform: Platform, external_id: str) -> User | None:
    """The user with this platform identity, or None before their first contact."""
    return await session.scalar(
        select(User).where(User.platform == platform, User.external_id == external_id)
    )


@dataclass(frozen=True)
class Holdings:
    """What Rounds keeps about a student, counted (shown before /forget_me deletes it)."""

    materials: int
    cards: int
    answers: int


async def holdings_of(session: AsyncSession, user_id: int) -> Holdings:
    materials = await session.scalar(
        select(func.count(Material.id)).join(Scope, Scope.id == Material.scope_id)
        .where(Scope.user_id == user_id)
    )  # fmt: skip
    cards = await session.scalar(select(func.count(Card.id)).where(Card.user_id == user_id))
    answers = await session.scalar(
        select(func.count(Attempt.id)).where(Attempt.user_id == user_id)
    )
    return Holdings(int(materials or 0), int(cards or 0), int(answers or 0))


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
