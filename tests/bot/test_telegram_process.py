"""`python -m bot telegram` as a real process, on each runtime (ROUNDS_TELEGRAM_RUNTIME): serves
the fake, stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.fakes.telegram_server import FakeTelegram

pytestmark = pytest.mark.telegram_runtimes

REPO_ROOT = Path(__file__).resolve().parents[2]
ALICE = 1001


async def _start_bot(
    tmp_path: Path, runtime: str, token: str, api_base_url: str, file_base_url: str = ""
) -> asyncio.subprocess.Process:
    """`python -m bot telegram` with the given runtime, token and Bot API URLs (DEBUG logs)."""
    env = {
        **os.environ,
        "ROUNDS_TELEGRAM_RUNTIME": runtime,
        "ROUNDS_DATA_DIR": str(tmp_path),
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_API_BASE_URL": api_base_url,
        "ROUNDS_LOG_LEVEL": "DEBUG",  # the noisiest level must still not print the token
    }
    if file_base_url:
        env["TELEGRAM_FILE_BASE_URL"] = file_base_url
    for name in ("ROUNDS_DATABASE_URL", "ROUNDS_TELEGRAM_WEBHOOK_URL", "DISCORD_BOT_TOKEN"):
        env.pop(name, None)
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "telegram",
        cwd=REPO_ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def test_the_entry_point_serves_and_exits_cleanly_on_sigterm(
    tmp_path: Path, telegram_runtime: str
) -> None:
    fake = await FakeTelegram().start()
    process = await _start_bot(
        tmp_path, telegram_runtime, fake.token, fake.api_base_url, fake.file_base_url
    )
    try:
        await fake.wait_until(lambda: fake.calls_of("getUpdates"), within=60)
        alice = fake.user(ALICE, "Alice")
        fake.send_text(alice, "/start")
        await fake.wait_for_message(ALICE, "Hi Alice")
        process.send_signal(signal.SIGTERM)
        stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await fake.stop()
    log = stderr.decode() + stdout.decode()
    assert process.returncode == 0, log[-3000:]
    assert f"Telegram bot @rounds_test_bot is serving ({telegram_runtime})" in log
    assert fake.token not in log
    assert "Traceback" not in log


async def _failed_start(
    tmp_path: Path, runtime: str, token: str, api_base_url: str
) -> tuple[int, str, str]:
    process = await _start_bot(tmp_path, runtime, token, api_base_url)
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


# Each start takes a few seconds of imports, so not every pair: a rejected token on aiogram
# is covered in-process (test_telegram_adapter), its 404 page only here.
@pytest.mark.parametrize(
    ("telegram_runtime", "where"),
    [("ptb", "rejected token"), ("ptb", "base URL that 404s"), ("aiogram", "base URL that 404s")],
)
async def test_a_failed_start_exits_with_one_line_and_never_prints_the_token(
    tmp_path: Path, where: str, telegram_runtime: str
) -> None:
    fake = await FakeTelegram().start()
    secret = "424242:ROUNDS-secret-token-that-must-not-leak"
    base = fake.api_base_url
    if where == "base URL that 404s":
        base = base.replace("/bot", "/no-such-path/bot")
    try:
        code, stdout, stderr = await _failed_start(tmp_path, telegram_runtime, secret, base)
    finally:
        await fake.stop()
    output = stdout + stderr
    assert code != 0
    assert secret not in output and secret.split(":")[1] not in output
    # No uncaught traceback: the process ends on its one-line reason. (A library may log
    # an error on the way; logged exceptions come without their message text.)
    reasons = [line for line in stderr.splitlines() if line.startswith("rounds: cannot run")]
    assert len(reasons) == 1 and stderr.rstrip().endswith(reasons[0]), stderr[-2000:]
    assert "line 1 column" not in output and "was rejected" not in output  # messages
    expected = "401 Unauthorized" if where == "rejected token" else "404 Not Found"
    assert expected in reasons[0]
