"""Upload pipeline: PDF bytes -> checked, stored, pages -> chunks -> embeddings -> ready.

(Interface published first; the pipeline body lands in the next commit.)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from core.embed import Embedder
from core.upload_errors import UploadRejected
from storage.models import Material, Scope
from storage.vector_index import VectorIndexes

Progress = Callable[[str], Awaitable[None]]

__all__ = ["Progress", "UploadRejected", "ingest"]


async def ingest(
    session: AsyncSession,
    *,
    scope: Scope,
    filename: str,
    data: bytes,
    uploaded_by: int | None,
    embedder: Embedder,
    indexes: VectorIndexes,
    files: object,
    max_bytes: int,
    progress: Progress | None = None,
) -> Material:
    """Turns an uploaded PDF into a `ready` material with embedded, page-cited chunks.

    Returns the existing material when the same bytes are already in the scope. Raises an
    `UploadRejected` (a RoundsError with a friendly message) for a file Rounds cannot use;
    then, as on any other failure, no rows, stored file or index entries are left behind.
    """
    raise NotImplementedError
