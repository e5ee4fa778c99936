"""Runs the chat platforms and the scheduler in one process until SIGTERM or Ctrl-C.

Each adapter module exposes `async def serve(app: App, stop: asyncio.Event) -> None`: it
starts, registers its Notifier in `app.notifiers`, serves until `stop` is set, then shuts
down gracefully (in-flight updates finish). The scheduler starts once every adapter is up.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import signal

from bot.app import App, build_app
from core.settings import Settings
from scheduler.rounds import RoundTimers
from scheduler.service import start_scheduler

log = logging.getLogger(__name__)

ADAPTER_MODULES = {"telegram": "bot.telegram_bot", "discord": "bot.discord_bot"}
# ROUNDS_TELEGRAM_RUNTIME: the library behind `telegram`.
TELEGRAM_RUNTIMES = {"ptb": "bot.telegram_bot", "aiogram": "bot.aiogram_bot"}


async def run_platforms(settings: Settings, mode: str) -> int:
    wanted = tuple(ADAPTER_MODULES) if mode == "all" else (mode,)
    missing = [name for name in wanted if not _has_token(settings, name)]
    if missing:
        names = ", ".join(f"{name.upper()}_BOT_TOKEN" for name in missing)
        log.error("cannot start %s: set %s", "/".join(missing), names)
        return 2
    app = await build_app(settings)
    # Before the adapters serve, so /round can book its timers (they wait for a notifier).
    app.services.round_timers = timers = RoundTimers(
        db=app.services.db, notifiers=app.notifiers, clock=app.services.clock
    )
    await timers.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        servers = [
            asyncio.create_task(
                importlib.import_module(adapter_module(settings, name)).serve(app, stop)
            )
            for name in wanted
        ]
        # Pushes only reach platforms whose adapter has registered its notifier, so starting
        # now is safe: an adapter that comes up later is served from the next minute's tick.
        pushes = await start_scheduler(app.services, app.notifiers)
        try:
            await _run_scheduler_until(app, stop, servers)
        finally:
            await pushes.stop()
    finally:
        timers.stop()
        await app.close()
    return 0


def adapter_module(settings: Settings, platform: str) -> str:
    if platform == "telegram":
        return TELEGRAM_RUNTIMES[settings.telegram_runtime]
    return ADAPTER_MODULES[platform]


async def _run_scheduler_until(app: App, stop: asyncio.Event, servers: list[asyncio.Task]) -> None:
    """Waits for the adapters; stops everything if one of them dies."""
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([*servers, stopper], return_when=asyncio.FIRST_COMPLETED)
    stop.set()
    await asyncio.gather(*servers, return_exceptions=True)
    stopper.cancel()
    for task in done:
        if task is not stopper and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]


def startup_failure(error: BaseException) -> str:
    """One line saying why the bot could not run, without the error's own text: a library
    message may quote the token (PTB: "The token `...` was rejected")."""
    from telegram.error import InvalidToken, NetworkError

    if isinstance(error, InvalidToken):
        cause = str(error.__cause__ or "").lower()
        if "not found" in cause:
            return (
                "the Telegram Bot API answered 404 Not Found: check TELEGRAM_API_BASE_URL "
                "(and that TELEGRAM_BOT_TOKEN is well-formed)"
            )
        return "Telegram rejected TELEGRAM_BOT_TOKEN (401 Unauthorized)"
    if isinstance(error, NetworkError):
        return "could not reach the Telegram Bot API: check TELEGRAM_API_BASE_URL and the network"
    if aiogram_reason := _aiogram_failure(error):
        return aiogram_reason
    import discord

    if isinstance(error, discord.LoginFailure):
        return "Discord rejected DISCORD_BOT_TOKEN"
    if isinstance(error, discord.HTTPException):
        return f"Discord answered {error.status}: check DISCORD_API_BASE_URL"
    return f"{type(error).__name__} (details withheld: they may quote a secret)"


def _aiogram_failure(error: BaseException) -> str:
    """startup_failure's lines for aiogram's errors ("" when it is not one of them)."""
    from aiogram.exceptions import (
        ClientDecodeError,
        TelegramNetworkError,
        TelegramNotFound,
        TelegramUnauthorizedError,
    )

    if isinstance(error, TelegramUnauthorizedError):
        return "Telegram rejected TELEGRAM_BOT_TOKEN (401 Unauthorized)"
    # A path that is no Bot API answers 404 with a page, not the Bot API's JSON.
    if isinstance(error, TelegramNotFound | ClientDecodeError):
        return (
            "the Telegram Bot API answered 404 Not Found: check TELEGRAM_API_BASE_URL "
            "(and that TELEGRAM_BOT_TOKEN is well-formed)"
        )
    if isinstance(error, TelegramNetworkError):
        return "could not reach the Telegram Bot API: check TELEGRAM_API_BASE_URL and the network"
    return ""


def _has_token(settings: Settings, platform: str) -> bool:
    token = settings.telegram_bot_token if platform == "telegram" else settings.discord_bot_token
    return bool(token and token.get_secret_value())
