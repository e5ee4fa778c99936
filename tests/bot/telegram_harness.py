"""Runs the real Telegram adapter (PTB Application) in-process against the fake Bot API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from bot.app import App, build_app
from bot.telegram_bot import serve
from core.settings import Settings
from handlers.context import Services
from storage.db import Database
from tests.fakes.telegram_server import FakeTelegram

STOP_WITHIN_S = 15.0


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
    task = asyncio.create_task(serve(app, stop, started=started))
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
