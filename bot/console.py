"""The terminal tutor: one line in (a command, or a button's number), rich replies out.

Works interactively and from a pipe, so `printf '/help\\n/quit\\n' | python -m bot console`
is a scripted session. The console is one student in one private chat; a second run in the
same data dir greets them back and reopens a quiz left unfinished.

Test/demo seam: ROUNDS_CLOCK_OFFSET (e.g. `36h`, `2d`, `-30m`, `90` seconds) shifts the
console's clock, so "come back tomorrow" can be shown or tested without waiting. Only this
module reads it; no other adapter has a movable clock.
"""

from __future__ import annotations

import asyncio
import getpass
import itertools
import logging
import os
import re
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.status import Status
from rich.text import Text

from bot.app import App, build_app
from core.buttons import Button
from core.settings import Settings
from core.srs import user_zone
from core.streaks import StreakState, current_streak
from core.xp import progress
from handlers.types import (
    Actor,
    ChatRef,
    Document,
    EventKind,
    Incoming,
    Reply,
    SentMessage,
    Tone,
)
from scheduler.service import start_scheduler
from storage.enums import ChatKind, Platform, SessionKind
from storage.repos.cards import count_due
from storage.repos.study import active_session_for
from storage.repos.users import find_user

QUIT_WORDS = {"/quit", "/exit", "quit", "exit"}
TONE_STYLE = {
    Tone.NEUTRAL: "cyan",
    Tone.GOOD: "green",
    Tone.BAD: "red",
    Tone.WARNING: "yellow",
}
PROGRESS_MIN_INTERVAL_S = 0.5
CLOCK_OFFSET_ENV = "ROUNDS_CLOCK_OFFSET"
_OFFSET = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*([smhdw]?)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def clock_offset(raw: str | None) -> timedelta:
    """Parses ROUNDS_CLOCK_OFFSET ('36h', '2d', '-30m', '90'); empty means no shift."""
    if not raw or not raw.strip():
        return timedelta(0)
    match = _OFFSET.match(raw)
    if match is None:
        raise ValueError(f"{CLOCK_OFFSET_ENV}={raw!r}: use a number with s, m, h, d or w")
    return timedelta(seconds=float(match[1]) * _UNIT_SECONDS[match[2].lower()])


def shifted_clock(clock: Callable[[], datetime], offset: timedelta) -> Callable[[], datetime]:
    if not offset:
        return clock
    return lambda: clock() + offset


class ConsoleChat:
    """Turns typed lines into Incoming events and renders Replies in the terminal."""

    def __init__(self, app: App, console: Console, *, user_id: str, animate: bool = False) -> None:
        self.app = app
        self.console = console
        self.animate = animate
        self.actor = Actor(external_id=user_id, display_name=user_id)
        self.chat = ChatRef(external_id=user_id, kind=ChatKind.PRIVATE, title="console")
        self.message_ids = itertools.count(1)
        self.choices: list[tuple[Button, str]] = []
        self._last_progress = float("-inf")
        self._status: Status | None = None

    def _incoming(self, kind: EventKind, **fields: Any) -> Incoming:
        return Incoming(
            platform=Platform.CONSOLE,
            user=self.actor,
            chat=self.chat,
            kind=kind,
            received_at=self.app.services.clock(),
            progress=self._progress,
            **fields,
        )

    async def _progress(self, text: str) -> None:
        if self._status is not None:
            self._status.update(f"[cyan]{text}[/cyan]")
            return
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
            if reply.is_alert:
                self.console.print(Text(reply.text, style=f"bold {style}"))
                continue
            body = Text(reply.text)
            if reply.buttons:
                self.choices = [(button, message_ref) for button in reply.flat_buttons]
                body.append("\n")
                numbers = itertools.count(1)
                for row in reply.buttons:  # one line per row of buttons, as a keyboard shows
                    body.append("\n")
                    for button in row:
                        body.append(f"  {next(numbers)}) ", style="dim")
                        body.append(button.label, style="bold")
            title = Text(reply.title, style=f"bold {style}") if reply.title else None
            self.console.print(Panel(body, title=title, border_style=style, expand=False))
            for label, path in (("Chart", reply.image), ("File", reply.document)):
                if path is not None:
                    self.console.print(f"{label} saved to {path}")
            if reply.track:
                sent = SentMessage(reply.track, message_ref, self.app.services.clock())
                await self.app.router.message_sent(sent)

    async def handle_line(self, line: str) -> None:
        incoming = self.parse(line)
        if incoming is None:
            return
        self._last_progress = float("-inf")  # the first note of every event is shown
        busy = incoming.kind in (EventKind.DOCUMENT, EventKind.COMMAND, EventKind.BUTTON)
        status = self.console.status("Working…", spinner="dots") if self.animate and busy else None
        with status if status is not None else nullcontext():
            self._status = status
            try:
                replies = await self.app.router.route(incoming)
            finally:
                self._status = None
        await self.render(replies)
        jobs = self.app.services.jobs
        if jobs is not None:
            # One student at the terminal: what they started finishes before the next line.
            await jobs.idle()

    async def greet(self) -> None:
        """First run: the /start welcome. Later runs: welcome back, and an open quiz reopened."""
        returning = await self._returning_student()
        if returning is None:
            await self.handle_line("/start")
            return
        lines, resume = returning
        self.console.print(
            Panel(Text("\n".join(lines)), title=Text("Welcome back", style="bold green"),
                  border_style="green", expand=False)
        )  # fmt: skip
        if resume:
            await self.handle_line(resume)

    async def _returning_student(self) -> tuple[list[str], str] | None:
        now = self.app.services.clock()
        async with self.app.services.db.session() as session:
            user = await find_user(session, Platform.CONSOLE, self.actor.external_id)
            if user is None:
                return None
            due = await count_due(session, user.id, now)
            active = await active_session_for(session, user.id)
            streak = current_streak(
                StreakState(user.streak, user.best_streak, user.last_study_day,
                            user.freeze_used_week),
                now=now, tz=user_zone(user),
            )  # fmt: skip
            level = progress(user.xp)
            lines = [
                f"Hi {user.display_name or 'there'}! Level {level.level} · {user.xp} XP "
                f"({level.xp_for_next} to the next level) · streak {streak} "
                f"day{'s' if streak != 1 else ''}",
                f"{due} card{'s' if due != 1 else ''} due for review"
                + (" — send /review" if due and active is None else ""),
            ]
            resume = ""
            if active is not None:
                noun = "review" if active.kind is SessionKind.REVIEW else "quiz"
                lines.append(f"Your {noun} is still open; here is where you left off.")
                resume = "/review" if active.kind is SessionKind.REVIEW else "/quiz"
            return lines, resume


class ConsoleOutbox:
    """A background job's replies (its progress, the quiz it started) in the terminal."""

    def __init__(self, chat: ConsoleChat) -> None:
        self.chat = chat

    async def post(self, chat_address: str, replies: Any) -> None:
        await self.chat.render(list(replies))


class ConsolePush:
    """The console's Notifier: a pushed reminder renders like a reply, its buttons numbered."""

    platform = Platform.CONSOLE

    def __init__(self, chat: ConsoleChat) -> None:
        self.chat = chat

    async def send(self, address: str, text: str, buttons: Sequence[Sequence[Button]] = ()) -> str:
        rows = tuple(tuple(row) for row in buttons)
        await self.chat.render([Reply(text, title="Reminder", buttons=rows)])
        return ""

    async def edit(
        self, address: str, message_ref: str, text: str, buttons: Sequence[Sequence[Button]] = ()
    ) -> None:
        await self.send(address, text, buttons)


async def run_console(settings: Settings, *, stdin=sys.stdin) -> int:  # type: ignore[no-untyped-def]
    """Reads lines until /quit or end of input. Returns the process exit code."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    interactive = stdin.isatty()
    console = Console(highlight=False, width=None if interactive else 100)
    offset = clock_offset(os.environ.get(CLOCK_OFFSET_ENV))
    app = await build_app(settings)
    app.services.clock = shifted_clock(app.services.clock, offset)
    pushes = None
    try:
        chat = ConsoleChat(app, console, user_id=_console_user(), animate=interactive)
        app.services.outboxes[Platform.CONSOLE] = ConsoleOutbox(chat)
        if interactive:  # a piped script stays deterministic: no reminder interleaves with it
            app.notifiers[Platform.CONSOLE] = ConsolePush(chat)
            pushes = await start_scheduler(app.services, app.notifiers)
        if offset:
            console.print(f"[dim]({CLOCK_OFFSET_ENV}: the clock is shifted by {offset})[/dim]")
        await chat.greet()
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
    except KeyboardInterrupt:
        console.print("\nBye — your progress is saved.")
    finally:
        if pushes is not None:
            await pushes.stop()
        await app.close()
    return 0


def _console_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "student"
