"""/start and /help: the welcome and the list of what Rounds can do."""

from __future__ import annotations

from core.texts import commands as texts
from handlers.context import Turn
from handlers.types import Reply


async def start(turn: Turn) -> list[Reply]:
    name = turn.user.display_name or "there"
    return [Reply(texts.WELCOME.format(name=name), title=texts.WELCOME_TITLE)]


async def help_(turn: Turn) -> list[Reply]:
    lines = [f"/{name} - {line}" for name, line in turn.menu]
    return [Reply("\n".join(lines), title=texts.HELP_TITLE)]


COMMANDS = {"start": start, "help": help_}
