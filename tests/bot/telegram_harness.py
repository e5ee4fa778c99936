"""Runs the real Telegram adapter (the runtime settings.telegram_runtime names: PTB or aiogram)
in-process against the fake Bot API."""

from __future__ import annotations

import asyncio
import importlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiogram
from aiogram.client.session.aiohttp import AiohttpSession
from pydantic import SecretStr
from telegram.ext import AIORateLimiter, ExtBot

from bot.aiogram_bot import bot_api_server
from bot.aiogram_ratelimit import OutboundRateLimiter
from bot.aiogram_render import AiogramBotApi
from bot.app import App, build_app
from bot.runner import adapter_module
from bot.telegram_events import RATE_LIMIT_RETRIES
from bot.telegram_render import PtbBotApi
from bot.telegram_replies import BotApi
from core.settings import Settings
from handlers.context import Services
from storage.db import Database
from tests.fakes.telegram_server import BOT_USERNAME, FakeTelegram

STOP_WITHIN_S = 15.0

Serve = Callable[..., Awaitable[None]]


def serve_for(settings: Settings) -> Serve:
    """The runtime's `serve(app, stop, started=...)`, as `python -m bot telegram` picks it."""
    module = importlib.import_module(adapter_module(settings, "telegram"))
    serve: Serve = module.serve
    return serve


@dataclass
class RunningBot:
    fake: FakeTelegram
    app: App
    stop: asyncio.Event
    task: asyncio.Task

    async def shut_down(self) -> None:
        """Sets the stop event (as SIGTERM does) and waits for serve() to return."""
        self.stop.set()
        await asyncio.wait_for(asyncio.shield(self.task), STOP_WITHIN_S)


def telegram_settings(settings: Settings, fake: FakeTelegram, **overrides: Any) -> Settings:
    return settings.model_copy(
        update={
            "telegram_bot_token": SecretStr(fake.token),
            "telegram_api_base_url": fake.api_base_url,
            "telegram_file_base_url": fake.file_base_url,
            **overrides,
        }
    )


def services_for(settings: Settings, **extra: Any) -> Services:
    """Services as bot/app.py builds them, with long-lived pieces (the embedder) shared."""
    fields = set(Services.__dataclass_fields__)
    return Services(
        settings=settings,
        db=Database(settings.database_url),
        **{name: value for name, value in extra.items() if name in fields},
    )


@asynccontextmanager
async def running_bot(
    settings: Settings, overrides: dict[str, Any] | None = None, **services_extra: Any
) -> AsyncIterator[RunningBot]:
    """A fresh fake and the adapter serving against it until the block ends."""
    fake = await FakeTelegram().start()
    settings = telegram_settings(settings, fake, **(overrides or {}))
    app = await build_app(settings, services_for(settings, **services_extra))
    stop, started = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(serve_for(settings)(app, stop, started=started))
    running = RunningBot(fake, app, stop, task)
    try:
        waiter = asyncio.create_task(started.wait())
        await asyncio.wait([task, waiter], timeout=STOP_WITHIN_S, return_when="FIRST_COMPLETED")
        waiter.cancel()
        if task.done():
            task.result()  # startup failed: raise its error here
        assert started.is_set(), "the adapter did not start"
        yield running
    finally:
        try:
            await running.shut_down()
        finally:
            await app.close()
            await fake.stop()


@asynccontextmanager
async def library_bot_api(runtime: str, fake: FakeTelegram) -> AsyncIterator[BotApi]:
    """The runtime's BotApi over its library's Bot, rate-limited as its adapter builds it."""
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    if runtime == "ptb":
        os.environ.setdefault("PTB_TIMEDELTA", "1")  # as serve() does: retry_after as timedelta
        limiter = AIORateLimiter(max_retries=RATE_LIMIT_RETRIES)
        async with ExtBot(fake.token, base_url=fake.api_base_url, rate_limiter=limiter) as ptb:
            yield PtbBotApi(ptb)
        return
    session = AiohttpSession(api=bot_api_server(telegram_settings(settings, fake)))
    session.middleware(OutboundRateLimiter(max_retries=RATE_LIMIT_RETRIES))
    async with aiogram.Bot(fake.token, session=session) as aiogram_bot:
        yield AiogramBotApi(aiogram_bot, BOT_USERNAME)
