"""How the scheduler reaches a user: the `Notifier` protocol each chat adapter implements.

The scheduler must not import handlers (where `Reply` lives) nor any chat library, so it
speaks in text and core.buttons.Button; every adapter (console, Telegram, Discord) provides one
object satisfying `Notifier` and registers it in `App.notifiers[platform]`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Protocol, TextIO, runtime_checkable

from core.buttons import Button
from storage.enums import Platform


class RecipientUnreachable(Exception):
    """The platform says this user can never be reached (blocked bot, deleted chat).

    Telegram answers 403 Forbidden; Discord answers error 50007 ("Cannot send messages to
    this user"). The scheduler marks the user unreachable and stops pushing to them.
    """

    def __init__(self, address: str, reason: str = "") -> None:
        super().__init__(f"recipient {address} unreachable: {reason}" if reason else address)
        self.address = address
        self.reason = reason


@runtime_checkable
class Notifier(Protocol):
    """Pushes a message to one user of one platform, outside any incoming event.

    `address` is `User.notify_address` when known (Telegram private chat id, Discord DM
    channel id), else the user's `external_id` (platform user id: a Telegram private chat has
    the user's id; a Discord adapter opens the DM from the user id). Transient failures
    (network, 5xx, 429 after its own retries) raise any other exception; the scheduler
    retries them on a later tick.
    """

    @property
    def platform(self) -> Platform: ...

    async def send(self, address: str, text: str, buttons: Sequence[Sequence[Button]] = ()) -> str:
        """Sends a new message; returns the platform's message reference."""
        ...

    async def edit(
        self,
        address: str,
        message_ref: str,
        text: str,
        buttons: Sequence[Sequence[Button]] = (),
    ) -> None:
        """Replaces the text (and buttons) of a message this notifier sent earlier."""
        ...


class ConsoleNotifier:
    """Prints pushed messages to the terminal; the console adapter's notifier."""

    def __init__(self, out: TextIO | None = None, platform: Platform = Platform.CONSOLE) -> None:
        self._out = out
        self._platform = platform
        self._next_ref = 0

    @property
    def platform(self) -> Platform:
        return self._platform

    async def send(self, address: str, text: str, buttons: Sequence[Sequence[Button]] = ()) -> str:
        self._next_ref += 1
        ref = f"push-{self._next_ref}"
        self._print(f"[reminder] {text}", buttons)
        return ref

    async def edit(
        self,
        address: str,
        message_ref: str,
        text: str,
        buttons: Sequence[Sequence[Button]] = (),
    ) -> None:
        self._print(f"[reminder, updated] {text}", buttons)

    def _print(self, text: str, buttons: Sequence[Sequence[Button]]) -> None:
        out = self._out or sys.stdout
        lines = [text]
        labels = [button.label for row in buttons for button in row]
        if labels:
            lines.append("  " + "   ".join(f"[{label}]" for label in labels))
        print("\n".join(lines), file=out, flush=True)
