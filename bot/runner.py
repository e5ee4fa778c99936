"""Runs the chat platforms (and later the scheduler) in one process until SIGTERM."""

from __future__ import annotations

import logging

from core.settings import Settings

log = logging.getLogger(__name__)


async def run_platforms(settings: Settings, mode: str) -> int:
    wanted = ("telegram", "discord") if mode == "all" else (mode,)
    missing = [name for name in wanted if not _token_for(settings, name)]
    if missing:
        names = ", ".join(f"{name.upper()}_BOT_TOKEN" for name in missing)
        log.error("cannot start %s: set %s", "/".join(missing), names)
        return 2
    log.error("the %s adapter is not part of this build yet", "/".join(wanted))
    return 2


def _token_for(settings: Settings, platform: str) -> bool:
    token = settings.telegram_bot_token if platform == "telegram" else settings.discord_bot_token
    return bool(token and token.get_secret_value())
