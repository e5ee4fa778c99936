"""Chats, memberships and scopes (whose material a chat sees)."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import ChatKind, Platform, ScopeKind
from storage.models import Chat, Membership, Scope, User


async def get_or_create_chat(
    session: AsyncSession, platform: Platform, external_id: str, kind: ChatKind, title: str = ""
) -> Chat:
    chat = await session.scalar(
        select(Chat).where(Chat.platform == platform, Chat.external_id == external_id)
    )
    if chat is None:
        chat = Chat(platform=platform, external_id=external_id, kind=kind, title=title)
        session.add(chat)
        await session.flush()
    return chat


async def ensure_membership(
    session: AsyncSession, user: User, chat: Chat, *, is_admin: bool = False
) -> Membership:
    """The platform delivered an event of `user` from `chat`, so they are in it; `is_admin` is
    what the platform says now, and it replaces what was stored (a former admin loses it)."""
    membership = await session.get(Membership, (user.id, chat.id))
    if membership is None:
        membership = Membership(user_id=user.id, chat_id=chat.id, is_admin=is_admin)
        session.add(membership)
        await session.flush()
    elif membership.is_admin != is_admin:
        membership.is_admin = is_admin
    return membership


async def is_member(session: AsyncSession, user_id: int, chat_id: int) -> bool:
    return await session.get(Membership, (user_id, chat_id)) is not None


async def personal_scope(session: AsyncSession, user: User) -> Scope:
    """The student's own scope: their private material, wherever they talk to Rounds."""
    scope = await session.scalar(select(Scope).where(Scope.user_id == user.id))
    if scope is None:
        scope = Scope(kind=ScopeKind.USER, user_id=user.id)
        session.add(scope)
        await session.flush()
    return scope


async def personal_scope_id(session: AsyncSession, user_id: int) -> int | None:
    """The student's own scope, if they ever had one (no row is created)."""
    return await session.scalar(select(Scope.id).where(Scope.user_id == user_id))


async def delete_private_chats(session: AsyncSession, user_id: int) -> None:
    """Deletes the private chat rows the student is a member of (a Telegram private chat's
    id is the student's own user id)."""
    private_chats = (
        select(Membership.chat_id)
        .join(Chat, Chat.id == Membership.chat_id)
        .where(Membership.user_id == user_id, Chat.kind == ChatKind.PRIVATE)
    )
    await session.execute(
        delete(Chat).where(Chat.id.in_(private_chats)).execution_options(synchronize_session=False)
    )


async def group_scope(session: AsyncSession, chat: Chat) -> Scope:
    """The group chat's shared scope; members' private material is never in it."""
    scope = await session.scalar(select(Scope).where(Scope.chat_id == chat.id))
    if scope is None:
        scope = Scope(kind=ScopeKind.GROUP, chat_id=chat.id)
        session.add(scope)
        await session.flush()
    return scope


async def bump_index_version(session: AsyncSession, scope_id: int) -> None:
    """Marks every cached FAISS index of this scope stale."""
    await session.execute(
        update(Scope).where(Scope.id == scope_id).values(index_version=Scope.index_version + 1)
    )
