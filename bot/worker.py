"""`python -m bot worker`: the job-worker role. It works the PostgreSQL generation job queue
(procrastinate, core/pg_jobs.py) without taking any chat updates: the bot processes defer
jobs (with ROUNDS_JOBS_IN_BOT=false they only defer), and this process writes the questions
and reports to the chat through each platform's send-only API (status edits, the quiz or
round the job starts). Runs until SIGTERM or Ctrl-C."""

from __future__ import annotations

import asyncio
import logging
import signal
from contextlib import AsyncExitStack

from telegram.ext import AIORateLimiter, ExtBot

from bot.app import App, build_app
from bot.telegram_events import RATE_LIMIT_RETRIES, reachable_through
from bot.telegram_render import PtbBotApi
from core.pg_jobs import is_postgres
from core.settings import Settings
from handlers.context import Services
from storage.enums import Platform

log = logging.getLogger(__name__)


async def run_worker(
    settings: Settings, stop: asyncio.Event | None = None, services: Services | None = None
) -> int:
    """Works the job queue until `stop` (default: SIGTERM/SIGINT) is set."""
    if not is_postgres(settings.database_url):
        log.error("the worker role needs PostgreSQL: on SQLite jobs run inside the bot")
        return 2
    stop = stop or _stop_on_signals()
    app = await build_app(settings, services, job_worker=True)
    try:
        async with AsyncExitStack() as senders:
            await _telegram_sender(app, senders)
            await _discord_sender(app, senders)
            log.info("job worker is serving the generation queue")
            await stop.wait()
    finally:
        await app.close()
    return 0


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    return stop


async def _telegram_sender(app: App, senders: AsyncExitStack) -> None:
    """Telegram's Bot API for sending only: no polling, no webhook."""
    token = app.settings.telegram_bot_token
    if token is None or not token.get_secret_value():
        return
    bot = ExtBot(
        token.get_secret_value(),
        base_url=app.settings.telegram_api_base_url,
        base_file_url=app.settings.telegram_file_base_url,
        rate_limiter=AIORateLimiter(max_retries=RATE_LIMIT_RETRIES),
    )
    await senders.enter_async_context(bot)
    await senders.enter_async_context(reachable_through(app, PtbBotApi(bot)))


async def _discord_sender(app: App, senders: AsyncExitStack) -> None:
    """Discord's REST API (logged in, no gateway connection)."""
    token = app.settings.discord_bot_token
    if token is None or not token.get_secret_value():
        return
    from bot.discord_bot import DiscordNotifier, DiscordOutbox, RoundsDiscord, discord_endpoints

    senders.enter_context(discord_endpoints(app.settings))
    client = RoundsDiscord(app)
    await client.login(token.get_secret_value())
    senders.push_async_callback(client.close)
    app.notifiers[Platform.DISCORD] = DiscordNotifier(client)
    app.services.outboxes[Platform.DISCORD] = DiscordOutbox(client)
