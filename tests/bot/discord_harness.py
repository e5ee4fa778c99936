"""Running the real Discord adapter against tests/fakes/discord_server.py in a test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bot import discord_bot
from bot.app import App, build_app
from core.settings import Settings
from handlers.context import Services
from storage.db import Database
from tests.fakes.discord_server import FakeDiscord, bot_running


@asynccontextmanager
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    try:
        yield server
    finally:
        await server.close()


def discord_settings(tmp_path: Path, fake: FakeDiscord, **overrides: Any) -> Settings:
    fields: dict[str, Any] = {
        "data_dir": tmp_path / "var",
        "discord_bot_token": SecretStr(fake.token),
        "discord_api_base_url": fake.api_base,
    }
    return Settings(_env_file=None, **{**fields, **overrides})  # type: ignore[call-arg]


@asynccontextmanager
async def running(app: App, fake: FakeDiscord) -> AsyncIterator[App]:
    """`python -m bot discord`'s serve() for this app, connected to the fake."""
    async with bot_running(fake, lambda stop: discord_bot.serve(app, stop)):
        yield app


@asynccontextmanager
async def app_for(settings: Settings, **services: Any) -> AsyncIterator[App]:
    """The app `python -m bot` builds; `services` replaces collaborators (the test embedder)."""
    db = Database(settings.database_url)
    application = await build_app(settings, Services(settings=settings, db=db, **services))
    try:
        yield application
    finally:
        await application.close()
