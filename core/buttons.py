"""Buttons, platform-neutral: a label and a short `action:part:part` payload that fits
Telegram's callback_data. Handlers, rounds and scheduler pushes all build this one type;
each adapter turns it into its platform's markup in one place."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from core.errors import RoundsError

# Telegram's InlineKeyboardButton.callback_data limit (bytes); Discord's custom_id allows 100.
MAX_PAYLOAD_BYTES = 64
_PART = re.compile(r"^[A-Za-z0-9_\-]{1,32}$")


class MalformedPayload(RoundsError):
    user_message = "That button is not valid any more. Send /help to see what you can do."


@dataclass(frozen=True)
class Payload:
    action: str
    parts: tuple[str, ...]

    def int_part(self, index: int) -> int:
        try:
            return int(self.parts[index])
        except (IndexError, ValueError) as error:
            raise MalformedPayload(reason=f"bad int part {index}") from error


def encode(action: str, *parts: object) -> str:
    """Builds a payload; refuses anything that would not fit a Telegram button."""
    pieces = [action, *(str(part) for part in parts)]
    for piece in pieces:
        if not _PART.match(piece):
            raise ValueError(f"payload part {piece!r} is not a short token")
    payload = ":".join(pieces)
    _check_fits(payload)
    return payload


def _check_fits(payload: str) -> None:
    size = len(payload.encode())
    if size > MAX_PAYLOAD_BYTES:
        raise ValueError(f"payload of {size} bytes exceeds {MAX_PAYLOAD_BYTES}")


def decode(payload: str) -> Payload:
    """Parses a payload from the outside world; anything odd is a MalformedPayload."""
    if not payload or len(payload.encode()) > MAX_PAYLOAD_BYTES:
        raise MalformedPayload(reason="empty or oversized payload")
    pieces = payload.split(":")
    if not all(_PART.match(piece) for piece in pieces):
        raise MalformedPayload(reason="bad characters in payload")
    return Payload(action=pieces[0], parts=tuple(pieces[1:]))


def new_token() -> str:
    """An unguessable 16-character token naming one asked question."""
    return secrets.token_urlsafe(12)


@dataclass(frozen=True, slots=True)
class Button:
    """One inline button; a payload too long for Telegram is a bug, refused when built."""

    label: str
    payload: str

    def __post_init__(self) -> None:
        _check_fits(self.payload)


ButtonRows = tuple[tuple[Button, ...], ...]
