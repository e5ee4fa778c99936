"""/start and /help: the welcome and the list of what Rounds can do."""

from __future__ import annotations

from handlers.context import Turn
from handlers.types import Reply

WELCOME = (
    "Hi {name}! I'm Rounds, your study tutor.\n"
    "1. Send me a PDF of your notes or a textbook chapter.\n"
    "2. /quiz turns it into board-style questions that cite the page they came from.\n"
    "3. Tell me how sure you were; I schedule each question for review by spaced repetition "
    "and remind you when it's due.\n"
    "Send /help for every command."
)


async def start(turn: Turn) -> list[Reply]:
    name = turn.user.display_name or "there"
    return [Reply(WELCOME.format(name=name), title="Welcome to Rounds")]


async def help_(turn: Turn) -> list[Reply]:
    lines = [f"/{name} - {line}" for name, line in turn.menu]
    return [Reply("\n".join(lines), title="What I can do")]


COMMANDS = {"start": start, "help": help_}
