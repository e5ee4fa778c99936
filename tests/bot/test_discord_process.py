"""`python -m bot discord` as a real process: serves the fake Discord, stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.bot.discord_harness import fake_discord
from tests.fakes.discord_server import FakeUser

REPO_ROOT = Path(__file__).resolve().parents[2]
ANA = FakeUser(666_666_666_666_666_666, "ana")


async def test_the_entry_point_serves_and_exits_cleanly_on_sigterm(tmp_path: Path) -> None:
    async with fake_discord() as fake:
        env = {
            **os.environ,
            "ROUNDS_DATA_DIR": str(tmp_path),
            "DISCORD_BOT_TOKEN": fake.token,
            "DISCORD_API_BASE_URL": fake.api_base,
            "DISCORD_GATEWAY_URL": fake.gateway_url,
            "ROUNDS_LOG_LEVEL": "DEBUG",  # the noisiest level must still not print the token
        }
        for name in ("ROUNDS_DATABASE_URL", "TELEGRAM_BOT_TOKEN", "ROUNDS_DISCORD_GUILD_ID"):
            env.pop(name, None)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "discord",
            cwd=REPO_ROOT, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            await fake.wait_until_connected(within_s=60)
            interaction = await fake.slash(ANA, "start")
            await fake.wait_for(lambda: interaction.original_id)
            assert "Hi Ana" in fake.messages[interaction.original_id].text  # type: ignore[index]
            process.send_signal(signal.SIGTERM)
            stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        assert not fake.connected, "the bot closed its gateway connection"
    log = stderr.decode() + stdout.decode()
    assert process.returncode == 0, log[-3000:]
    assert "synced" in log and "slash commands" in log
    assert fake.token not in log
    assert "Traceback" not in log
