"""The console tutor runs as a real process and can be scripted through a pipe."""

from __future__ import annotations

import asyncio
import getpass
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

from storage.db import Database
from tests.study_seed import seed_student

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_console(script: str, data_dir: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "ROUNDS_DATA_DIR": str(data_dir)}
    env.pop("ROUNDS_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "bot", "console"],
        input=script, capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=timeout,
    )  # fmt: skip


def test_help_then_quit_from_a_pipe(tmp_path: Path) -> None:
    result = run_console("/help\n/quit\n", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Welcome to Rounds" in result.stdout
    assert "/help" in result.stdout and "/start" in result.stdout
    assert "Bye" in result.stdout
    assert (tmp_path / "rounds.db").exists()


def test_end_of_input_exits_cleanly_and_unknown_commands_are_explained(tmp_path: Path) -> None:
    result = run_console("/frobnicate\n", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "I don't know /frobnicate" in result.stdout
    assert "Traceback" not in result.stderr


def test_export_writes_the_anki_deck_and_prints_its_path(tmp_path: Path) -> None:
    async def seed() -> None:
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'rounds.db'}")
        await db.migrate()
        await seed_student(db, external_id=getpass.getuser(), count=3)
        await db.dispose()

    asyncio.run(seed())
    result = run_console("/export\n/quit\n", tmp_path)

    assert result.returncode == 0, result.stderr
    assert "3 questions." in result.stdout
    saved = re.search(r"File saved to (\S+\.apkg)", result.stdout.replace("\n", ""))
    assert saved is not None, result.stdout
    assert zipfile.is_zipfile(saved.group(1))
