"""Forgetting a student: every row, file, vector, index cache and chart that is theirs.

What goes: the student's own material (rows, stored PDFs, chunk vectors, the scope's FAISS
index file), their questions, cards, answers, quiz sessions, round answers, deliveries, XP,
streak, settings, group memberships, their private chat rows (a Telegram private chat's id
is the student's own user id), their rendered charts and their exported Anki decks.

What stays: material the student shared in a group chat. It is the group's study material:
other members' cards, answers and round histories stand on its questions, so removing it
would take their study with it. The group keeps it and the link to the uploader is cleared
(`materials.uploaded_by`, `generation_runs.requested_by`, `group_rounds.started_by` are set
to NULL); a group admin can delete it with /materials as for any group file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.anki import exports_dir
from core.charts import charts_dir
from core.ingest import delete_material
from storage.enums import ChatKind
from storage.files import FileStore
from storage.models import Chat, Material, Membership, Scope, User
from storage.repos.users import delete_user
from storage.vector_index import VectorIndexes, on_transaction_end


async def forget_student(
    session: AsyncSession,
    user: User,
    *,
    data_dir: Path,
    indexes: VectorIndexes | None,
    files: FileStore | None,
) -> None:
    """Deletes the student's rows now and their files once the deletion commits (a rolled
    back deletion keeps everything)."""
    scope_id = await session.scalar(select(Scope.id).where(Scope.user_id == user.id))
    if scope_id is not None:
        materials = list(
            await session.scalars(select(Material).where(Material.scope_id == scope_id))
        )
        if materials and (indexes is None or files is None):
            raise RuntimeError("forgetting material needs the vector indexes and the file store")
        for material in materials:
            assert indexes is not None and files is not None
            await delete_material(session, material=material, indexes=indexes, files=files)
        if indexes is not None:
            on_transaction_end(session, committed=lambda: indexes.drop(scope_id))
    private_chats = (
        select(Membership.chat_id)
        .join(Chat, Chat.id == Membership.chat_id)
        .where(Membership.user_id == user.id, Chat.kind == ChatKind.PRIVATE)
    )
    await session.execute(
        delete(Chat).where(Chat.id.in_(private_chats)).execution_options(synchronize_session=False)
    )
    charts = charts_dir(data_dir, user.id)
    exports = exports_dir(data_dir, user.id)
    on_transaction_end(session, committed=lambda: shutil.rmtree(charts, ignore_errors=True))
    on_transaction_end(session, committed=lambda: shutil.rmtree(exports, ignore_errors=True))
    await delete_user(session, user)
