"""`python -m bot health`: one line per check and exit 0 when all pass, else 1 (a container
healthcheck). Checks: the database answers, its schema is at the code's migration head, and
each platform whose token is set answers (Telegram getMe, Discord's gateway URL). Lines
name settings, never their values."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.engine import make_url

from bot.runner import startup_failure
from core.settings import Settings
from storage.db import Database

# A healthcheck that hangs is worse than one that fails: each check gets this long.
CHECK_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{self.name}: {'ok' if self.ok else 'FAILED'} ({self.detail})"


async def run_checks(settings: Settings) -> list[Check]:
    db = Database(settings.database_url)
    try:
        checks = [await _bounded("database", lambda: _database(db), explain=_withheld)]
        if checks[0].ok:
            checks.append(await _bounded("migrations", lambda: _migrations(db), explain=_withheld))
    finally:
        await db.dispose()
    if settings.telegram_bot_token and settings.telegram_bot_token.get_secret_value():
        checks.append(await _bounded("telegram", lambda: _telegram(settings)))
    if settings.discord_bot_token and settings.discord_bot_token.get_secret_value():
        checks.append(await _bounded("discord", lambda: _discord(settings)))
    return checks


async def health(settings: Settings) -> int:
    """Prints the checks; 0 if every one passed."""
    checks = await run_checks(settings)
    for check in checks:
        print(check.line())
    return 0 if all(check.ok for check in checks) else 1


async def _bounded(
    name: str,
    check: Callable[[], Awaitable[str]],
    *,
    explain: Callable[[BaseException], str] = startup_failure,
) -> Check:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            return Check(name, True, await check())
    except TimeoutError:
        return Check(name, False, f"no answer within {CHECK_TIMEOUT_S:.0f} s")
    except SchemaBehind as error:
        return Check(name, False, str(error))
    except Exception as error:  # the reason, never the error's own text (it may quote a secret)
        return Check(name, False, explain(error))


def _withheld(error: BaseException) -> str:
    """A database error's kind only: its text may carry the URL (and its password)."""
    return f"{type(error).__name__} (details withheld: they may quote a secret)"


async def _database(db: Database) -> str:
    await db.ping()
    url = make_url(db.url)
    where = url.host or url.database or ""
    return f"{url.get_backend_name()} {where}".strip()


async def _migrations(db: Database) -> str:
    current, head = await db.schema_revisions()
    if current != head:
        raise SchemaBehind(f"at {current or 'no schema'}, head is {head}: start a bot to migrate")
    return f"at head {head}"


class SchemaBehind(Exception):
    """Its text is ours (revision ids only), safe to print."""


async def _telegram(settings: Settings) -> str:
    from telegram import Bot

    assert settings.telegram_bot_token is not None
    async with Bot(
        settings.telegram_bot_token.get_secret_value(), base_url=settings.telegram_api_base_url
    ) as bot:
        me = await bot.get_me()
    return f"getMe answered @{me.username}"


async def _discord(settings: Settings) -> str:
    import discord

    from bot.discord_bot import discord_endpoints

    assert settings.discord_bot_token is not None
    with discord_endpoints(settings):
        http = discord.http.HTTPClient(asyncio.get_running_loop())
        try:
            await http.static_login(settings.discord_bot_token.get_secret_value())
            shards, _url, _limits = await http.get_bot_gateway()
        finally:
            await http.close()
    return f"gateway URL answered; Discord recommends {shards} shard(s)"
