"""The terminal tutor: one line in (a command, or a button's number), rich replies out.

Works interactively and from a pipe, so `printf '/help\\n/quit\\n' | python -m bot console`
is a scripted session. The console is one student in one private chat.
"""

from __future__ import annotations

import asyncio
import getpass
import itertools
import logging
import shlex
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from bot.app import App, build_app
from core.settings import Settings
from handlers.types import (
    Actor,
    Button,
    ChatRef,
    Document,
    EventKind,
    Incoming,
    Reply,
    SentMessage,
    Tone,
)
from storage.enums import ChatKind, Platform

QUIT_WORDS = {"/quit", "/exit", "quit", "exit"}
TONE_STYLE = {
    Tone.NEUTRAL: "cyan",
    Tone.GOOD: "green",
    Tone.BAD: "red",
    Tone.WARNING: "yellow",
}
PROGRESS_MIN_INTERVAL_S = 0.5


class ConsoleChat:
    """Turns typed lines into Incoming events and renders Replies in the terminal."""

    def __init__(self, app: App, console: Console, *, user_id: str) -> None:
        self.app = app
        self.console = console
        self.actor = Actor(external_id=user_id, display_name=user_id)
        self.chat = ChatRef(external_id=user_id, kind=ChatKind.PRIVATE, title="console")
        self.message_ids = itertools.count(1)
        self.choices: list[tuple[Button, str]] = []
        self._last_progress = 0.0

    def _incoming(self, kind: EventKind, **fields: object) -> Incoming:
        return Incoming(
            platform=Platform.CONSOLE,
            user=self.actor,
            chat=self.chat,
            kind=kind,
            received_at=self.app.services.clock(),
            progress=self._progress,
            **fields,  # type: ignore[arg-type]
        )

    async def _progress(self, text: str) -> None:
        now = time.monotonic()
        if now - self._last_progress >= PROGRESS_MIN_INTERVAL_S:
            self._last_progress = now
            self.console.print(f"[dim]… {text}[/dim]")

    def parse(self, line: str) -> Incoming | None:
        line = line.strip()
        if not line:
            return None
        if line.isdigit() and self.choices:
            index = int(line) - 1
            if not 0 <= index < len(self.choices):
                self.console.print(
                    f"[yellow]Pick a number from 1 to {len(self.choices)}.[/yellow]"
                )
                return None
            button, message_ref = self.choices[index]
            return self._incoming(
                EventKind.BUTTON, payload=button.payload, message_ref=message_ref
            )
        if not line.startswith("/"):
            return self._incoming(EventKind.TEXT, text=line)
        try:
            words = shlex.split(line[1:])
        except ValueError:
            words = line[1:].split()
        command, args = (words[0].lower(), tuple(words[1:])) if words else ("help", ())
        if command == "upload" and args:
            return self._upload(" ".join(args))
        return self._incoming(EventKind.COMMAND, command=command, args=args, text=line)

    def _upload(self, raw_path: str) -> Incoming | None:
        path = Path(raw_path).expanduser()
        if not path.is_file():
            self.console.print(
                f"[yellow]No file at {path}. Check the path and try again.[/yellow]"
            )
            return None
        document = Document(
            filename=path.name,
            size=path.stat().st_size,
            read=lambda: asyncio.to_thread(path.read_bytes),
        )
        return self._incoming(EventKind.DOCUMENT, document=document)

    async def render(self, replies: list[Reply]) -> None:
        for reply in replies:
            message_ref = str(next(self.message_ids))
            style = TONE_STYLE[reply.tone]
            body = Text(reply.text)
            if reply.buttons:
                self.choices = [(button, message_ref) for button in reply.flat_buttons]
                for number, button in enumerate(reply.flat_buttons, start=1):
                    body.append(f"\n  {number}. {button.label}", style="bold")
            title = reply.title or None
            if reply.is_alert:
                self.console.print(Text(reply.text, style=style))
            else:
                self.console.print(Panel(body, title=title, border_style=style, expand=False))
            for label, path in (("Chart", reply.image), ("File", reply.document)):
                if path is not None:
                    self.console.print(f"{label} saved to {path}")
            if reply.track:
                sent = SentMessage(reply.track, message_ref, self.app.services.clock())
                await self.app.router.message_sent(sent)

    async def handle_line(self, line: str) -> None:
        incoming = self.parse(line)
        if incoming is not None:
            await self.render(await self.app.router.route(incoming))


async def run_console(settings: Settings, *, stdin=sys.stdin) -> int:  # type: ignore[no-untyped-def]
    """Reads lines until /quit or end of input. Returns the process exit code."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    interactive = stdin.isatty()
    console = Console(highlight=False, width=None if interactive else 100)
    app = await build_app(settings)
    try:
        chat = ConsoleChat(app, console, user_id=_console_user())
        await chat.handle_line("/start")
        while True:
            if interactive:
                console.print("[bold]>[/bold] ", end="")
            line = await asyncio.to_thread(stdin.readline)
            if not line or line.strip().lower() in QUIT_WORDS:
                break
            if not interactive:
                console.print(f"[bold]>[/bold] {line.strip()}")
            await chat.handle_line(line)
        console.print("Bye — see you at your next review.")
    finally:
        await app.close()
    return 0


def _console_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "student"
