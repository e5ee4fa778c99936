"""Start-up sweep: upload files no committed material owns (a crash between saving and
committing), index files of gone scopes and chart folders of gone students are removed."""

from __future__ import annotations

import os
import time
from pathlib import Path

from bot.app import build_app
from core.housekeeping import ORPHAN_GRACE_S
from core.settings import Settings
from handlers.context import Services
from storage.db import Database
from storage.enums import MaterialStatus, Platform
from storage.files import FileStore
from storage.models import Material
from storage.repos.chats import personal_scope
from storage.repos.users import get_or_create_user

SHA_KEPT, SHA_ORPHAN, SHA_FRESH = "a" * 64, "b" * 64, "c" * 64


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


async def test_start_up_sweeps_what_no_committed_row_owns(settings: Settings) -> None:
    db = Database(settings.database_url)
    await db.migrate()
    files = FileStore(settings.data_dir)
    async with db.session() as session:
        user = await get_or_create_user(session, Platform.CONSOLE, "ada", "Ada")
        scope = await personal_scope(session, user)
        kept = files.save(scope.id, SHA_KEPT, b"%PDF kept")
        material = Material(
            scope_id=scope.id, filename="kept.pdf", sha256=SHA_KEPT, size_bytes=9,
            status=MaterialStatus.READY, file_path=kept,
        )  # fmt: skip
        session.add(material)
        user_id, scope_id = user.id, scope.id
    # A crash after saving, before committing: the file has no row.
    orphan = files.save(scope_id, SHA_ORPHAN, b"%PDF orphan")
    # Another worker may be between its save and its commit right now: too young to judge.
    fresh = files.save(scope_id, SHA_FRESH, b"%PDF fresh")
    for relative in (kept, orphan):
        _age(files.path(relative), ORPHAN_GRACE_S + 60)
    stale_index = settings.data_dir / "indexes" / "scope_999.faiss"
    stale_index.parent.mkdir(parents=True)
    stale_index.write_bytes(b"faiss")
    (settings.data_dir / "charts" / "999").mkdir(parents=True)
    (settings.data_dir / "charts" / "999" / "dashboard.png").write_bytes(b"png")
    (settings.data_dir / "charts" / str(user_id)).mkdir()
    (settings.data_dir / "exports" / "999").mkdir(parents=True)
    (settings.data_dir / "exports" / "999" / "rounds.apkg").write_bytes(b"apkg")
    (settings.data_dir / "exports" / str(user_id)).mkdir()

    app = await build_app(settings, Services(settings=settings, db=db))
    try:
        assert files.exists(kept) and files.exists(fresh)
        assert not files.exists(orphan)
        assert not stale_index.exists()
        assert not (settings.data_dir / "charts" / "999").exists()
        assert (settings.data_dir / "charts" / str(user_id)).exists()
        assert not (settings.data_dir / "exports" / "999").exists()
        assert (settings.data_dir / "exports" / str(user_id)).exists()
    finally:
        await app.close()
