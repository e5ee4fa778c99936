"""The conversation as data: what adapters hand in (Incoming) and render (Reply)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from core.buttons import Button, ButtonRows
from storage.enums import ChatKind, Platform


class EventKind(StrEnum):
    COMMAND = "command"
    TEXT = "text"
    BUTTON = "button"
    DOCUMENT = "document"


class Tone(StrEnum):
    """How a reply should feel; adapters map it to colours, embeds or emoji."""

    NEUTRAL = "neutral"
    GOOD = "good"
    BAD = "bad"
    WARNING = "warning"


@dataclass(frozen=True)
class Actor:
    external_id: str
    display_name: str = ""
    is_admin: bool = False


@dataclass(frozen=True)
class ChatRef:
    external_id: str
    kind: ChatKind
    title: str = ""


@dataclass(frozen=True)
class Document:
    """An uploaded file; `read` downloads it, so size checks happen before any download."""

    filename: str
    size: int
    read: Callable[[], Awaitable[bytes]]
    mime_type: str = ""


async def _no_progress(_text: str) -> None:
    return None


@dataclass(frozen=True)
class Incoming:
    platform: Platform
    user: Actor
    chat: ChatRef
    kind: EventKind
    received_at: datetime
    command: str = ""
    args: tuple[str, ...] = ()
    text: str = ""
    payload: str = ""
    document: Document | None = None
    # The platform id of the message a button sat on, so a reply can edit it in place.
    message_ref: str = ""
    # Adapters pass a callback that updates one status message ("Reading page 40/212...").
    progress: Callable[[str], Awaitable[None]] = _no_progress


@dataclass(frozen=True)
class Reply:
    text: str
    title: str = ""
    tone: Tone = Tone.NEUTRAL
    # Rows of buttons, rendered as an inline keyboard, a View, or numbered console choices.
    buttons: ButtonRows = ()
    image: Path | None = None
    document: Path | None = None
    edit_of: str = ""
    ephemeral: bool = False
    # A short notice attached to a button press (Telegram alert, Discord ephemeral).
    is_alert: bool = False
    # When set, the adapter reports the sent message's id back via Router.message_sent,
    # e.g. so a quiz item knows its sent_at and a round can edit its question later.
    track: str = ""
    # A personal answer asked for in a group: the /start parameter (handlers.personal) that
    # replays the command in the private chat. Adapters render it as the way there.
    open_private: str = ""
    # Delivered in the acting student's private chat (DM) even when the event came from a
    # group: the group sees only core.texts.personal.SENT_PRIVATELY, or why it could not be sent.
    to_private: bool = False

    @property
    def flat_buttons(self) -> list[Button]:
        return [button for row in self.buttons for button in row]


@dataclass(frozen=True)
class SentMessage:
    track: str
    message_ref: str
    sent_at: datetime


ReplyList = list[Reply]


class Outbox(Protocol):
    """Posts replies into a chat outside any incoming event (a background job's progress and
    result). `chat_address` is the chat's platform id; a reply with `edit_of` edits that
    message. Each adapter registers one in `Services.outboxes`."""

    async def post(self, chat_address: str, replies: Sequence[Reply]) -> None: ...
