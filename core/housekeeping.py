"""Start-up housekeeping: files in the data dir that no committed row owns any more.

A crash between saving an upload and committing its material row leaves an orphaned PDF; a
scope or student deleted while a process was down leaves an index file, a chart folder or
exported decks. Each is removed here. Files younger than the grace period are left alone:
another worker may be between its save and its commit right now.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from core.anki import exports_dir
from core.charts import charts_dir
from storage.db import Database
from storage.files import FileStore
from storage.repos.owners import Owners, file_owners
from storage.vector_index import VectorIndexes

# Longer than any upload takes between saving its file and committing its row.
ORPHAN_GRACE_S = 3600.0


@dataclass
class Swept:
    uploads: list[str] = field(default_factory=list)
    indexes: list[str] = field(default_factory=list)
    charts: list[str] = field(default_factory=list)
    exports: list[str] = field(default_factory=list)


def _old(path: Path, *, now: float, grace_s: float) -> bool:
    try:
        return now - path.stat().st_mtime >= grace_s
    except FileNotFoundError:
        return False


async def sweep_orphans(
    db: Database,
    *,
    files: FileStore,
    indexes: VectorIndexes | None,
    data_dir: Path,
    grace_s: float = ORPHAN_GRACE_S,
) -> Swept:
    """Removes upload files, index files, chart and export folders that nothing owns.
    Idempotent."""
    async with db.session() as session:
        owners = await file_owners(session)
    return await asyncio.to_thread(_sweep, files, indexes, data_dir, owners, grace_s)


def _sweep(
    files: FileStore,
    indexes: VectorIndexes | None,
    data_dir: Path,
    owners: Owners,
    grace_s: float,
) -> Swept:
    swept, now = Swept(), time.time()
    for path in files.all_files():
        relative = path.relative_to(files.data_dir).as_posix()
        if relative not in owners.upload_paths and _old(path, now=now, grace_s=grace_s):
            files.delete(relative)
            swept.uploads.append(relative)
    if indexes is not None and indexes.root.exists():
        for path in indexes.root.glob("scope_*.faiss"):
            scope = path.stem.removeprefix("scope_")
            if scope.isdigit() and int(scope) not in owners.scope_ids:
                indexes.drop(int(scope))
                swept.indexes.append(path.name)
    for per_user, gone in ((charts_dir, swept.charts), (exports_dir, swept.exports)):
        root = per_user(data_dir, 0).parent
        if not root.exists():
            continue
        for folder in root.iterdir():
            if (
                folder.is_dir()
                and folder.name.isdigit()
                and int(folder.name) not in owners.user_ids
            ):
                shutil.rmtree(folder, ignore_errors=True)
                gone.append(folder.name)
    return swept
