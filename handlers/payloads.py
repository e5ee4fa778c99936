"""Button payloads: short `action:part:part` strings that fit Telegram's callback_data."""

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
    if len(payload.encode()) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"payload of {len(payload.encode())} bytes exceeds {MAX_PAYLOAD_BYTES}")
    return payload


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
