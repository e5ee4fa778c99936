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

from sqlalchemy.ext.asyncio import AsyncSession

from core.anki import exports_dir
from core.charts import charts_dir
from core.ingest import delete_material
from storage.files import FileStore
from storage.models import User
from storage.repos.chats import delete_private_chats, personal_scope_id
from storage.repos.materials import materials_of_scope
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
    scope_id = await personal_scope_id(session, user.id)
    if scope_id is not None:
        materials = await materials_of_scope(session, scope_id)
        if materials and (indexes is None or files is None):
            raise RuntimeError("forgetting material needs the vector indexes and the file store")
        for material in materials:
            assert indexes is not None and files is not None
            await delete_material(session, material=material, indexes=indexes, files=files)
        if indexes is not None:
            on_transaction_end(session, committed=lambda: indexes.drop(scope_id))
    await delete_private_chats(session, user.id)
    charts = charts_dir(data_dir, user.id)
    exports = exports_dir(data_dir, user.id)
    on_transaction_end(session, committed=lambda: shutil.rmtree(charts, ignore_errors=True))
    on_transaction_end(session, committed=lambda: shutil.rmtree(exports, ignore_errors=True))
    await delete_user(session, user)
