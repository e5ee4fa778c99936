"""`python -m bot health`: a line per check, exit 0 only when the database answers, its
schema is at head and every platform with a token answers; no secret is ever printed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.health import health
from core.settings import Settings
from storage.db import Database
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.telegram_server import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]


async def test_all_checks_pass_against_a_migrated_database_and_both_platforms(
    settings: Settings, db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    telegram, discord = await FakeTelegram().start(), FakeDiscord()
    await discord.start()
    try:
        checked = settings.model_copy(
            update={
                "telegram_bot_token": SecretStr(telegram.token),
                "telegram_api_base_url": telegram.api_base_url,
                "discord_bot_token": SecretStr(discord.token),
                "discord_api_base_url": discord.api_base,
            }
        )
        assert await health(checked) == 0
    finally:
        await telegram.stop()
        await discord.close()
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "database", "migrations", "telegram", "discord",
    ]  # fmt: skip
    assert all(": ok (" in line for line in lines), lines
    assert "getMe answered @" in lines[2]


async def test_a_schema_behind_and_a_rejected_token_fail_without_printing_the_token(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    telegram = await FakeTelegram().start()
    wrong = "999:not-the-right-token"
    try:
        checked = settings.model_copy(
            update={
                "telegram_bot_token": SecretStr(wrong),
                "telegram_api_base_url": telegram.api_base_url,
            }
        )
        assert await health(checked) == 1  # nothing migrated this database
    finally:
        await telegram.stop()
    out = capsys.readouterr().out
    assert "migrations: FAILED (at no schema, head is " in out
    assert "telegram: FAILED (Telegram rejected TELEGRAM_BOT_TOKEN" in out
    assert wrong not in out and "not-the-right" not in out


def test_the_command_line_exits_1_when_the_database_cannot_be_reached(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "ROUNDS_DATA_DIR": str(tmp_path / "var"),
        # A closed port: nothing listens there.
        "ROUNDS_DATABASE_URL": "postgresql+asyncpg://rounds:hunter22@127.0.0.1:9/rounds",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "health"], cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stdout.startswith("database: FAILED (")
    assert "hunter22" not in done.stdout + done.stderr
