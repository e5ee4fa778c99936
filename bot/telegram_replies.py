"""Replies as Telegram messages, whichever library speaks the Bot API: escaped HTML split or
squeezed to Telegram's limits, inline keyboards, edits in
place, the one status message an upload edits, button answers and the scheduler's Notifier.

Each runtime supplies a `BotApi`, the few Bot API calls in its own library
(bot/telegram_render.py for python-telegram-bot, bot/aiogram_render.py for aiogram), and
translates its library's errors into the three below.
"""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from core.buttons import Button
from handlers.router import Router
from handlers.types import Reply, SentMessage, Tone
from scheduler.notifier import RecipientUnreachable
from storage.enums import Platform

log = logging.getLogger(__name__)

# Bot API limits (PTB names them in telegram.constants; aiogram leaves them to the server).
MAX_TEXT = 4096  # MessageLimit.MAX_TEXT_LENGTH, in UTF-16 code units
MAX_CAPTION = 1024  # MessageLimit.CAPTION_LENGTH
MAX_ALERT = 200  # CallbackQueryLimit.ANSWER_CALLBACK_QUERY_TEXT_LENGTH
TONE_MARK = {Tone.NEUTRAL: "", Tone.GOOD: "✅ ", Tone.BAD: "❌ ", Tone.WARNING: "⚠️ "}
# Telegram allows about one edit per second per message; faster progress would only 429.
PROGRESS_MIN_INTERVAL_S = 1.5
ELLIPSIS = "…"
OPEN_PRIVATE_LABEL = "Open my private chat"


class BotApiError(Exception):
    """A Bot API call failed (network, server, rate limit after its retries)."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class BotApiBadRequest(BotApiError):
    """Telegram answered 400: the call itself was refused."""


class BotApiForbidden(BotApiError):
    """Telegram answered 403: the user blocked the bot, or the bot left the chat."""


@dataclass(frozen=True)
class InlineButton:
    """One inline button, before a library turns it into its own markup type."""

    label: str
    callback_data: str = ""
    url: str = ""


Keyboard = tuple[tuple[InlineButton, ...], ...]


class BotApi(Protocol):
    """The Bot API calls replies need, each sending HTML. Errors are `BotApiError`s."""

    @property
    def username(self) -> str: ...

    async def send_text(self, chat_id: int, text: str, keyboard: Keyboard | None = None) -> int:
        """Sends a message; returns its id."""
        ...

    async def edit_text(
        self, chat_id: int, message_id: int, text: str, keyboard: Keyboard | None = None
    ) -> None: ...

    async def send_file(
        self, chat_id: int, path: Path, *, photo: bool, caption: str, keyboard: Keyboard | None
    ) -> int:
        """Uploads `path` as a photo or a document, with an HTML caption (may be empty)."""
        ...

    async def delete(self, chat_id: int, message_id: int) -> None: ...

    async def answer_button(self, query_id: str, text: str = "", alert: bool = False) -> None: ...


def utf16_len(text: str) -> int:
    """Telegram counts message length in UTF-16 code units (an emoji may count as two)."""
    return len(text.encode("utf-16-le")) // 2


def _fitting_prefix(text: str, limit: int) -> str:
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return text[:index]
    return text


def cut(text: str, limit: int) -> str:
    """`text`, or its longest prefix that fits with an ellipsis appended."""
    if utf16_len(text) <= limit:
        return text
    return _fitting_prefix(text, limit - 1).rstrip() + ELLIPSIS


def split_plain(text: str, limit: int) -> list[str]:
    """Splits on line, then word boundaries, so every piece fits `limit`."""
    pieces: list[str] = []
    while utf16_len(text) > limit:
        head = _fitting_prefix(text, limit)
        cut_at = head.rfind("\n")
        if cut_at <= len(head) // 2:
            cut_at = head.rfind(" ")
        if cut_at <= len(head) // 2:
            cut_at = len(head)  # one very long word: cut it where the limit falls
        pieces.append(text[:cut_at].rstrip())
        text = text[cut_at:].lstrip()
    if text or not pieces:
        pieces.append(text)
    return pieces


def _heading_and_body(reply: Reply) -> tuple[str, str]:
    """The tone's mark goes on the bold title, or in front of the text when there is none."""
    mark = TONE_MARK[reply.tone]
    if reply.title:
        return f"{mark}{reply.title}", reply.text
    return "", f"{mark}{reply.text}" if reply.text else ""


def _with_heading(heading: str, body_html: str) -> str:
    if not heading:
        return body_html
    bold = f"<b>{html.escape(heading, quote=False)}</b>"
    return f"{bold}\n{body_html}" if body_html else bold


def html_pieces(reply: Reply, limit: int = MAX_TEXT) -> list[str]:
    """The reply as one or more HTML messages: bold heading, escaped body, each <= limit."""
    heading, body = _heading_and_body(reply)
    budget = limit - (utf16_len(heading) + 1 if heading else 0)
    pieces = [html.escape(part, quote=False) for part in split_plain(body, budget)]
    pieces[0] = _with_heading(heading, pieces[0])
    return pieces


def single_html(reply: Reply, limit: int) -> str:
    """The reply squeezed into one message (edits and captions cannot be split)."""
    heading, body = _heading_and_body(reply)
    heading = cut(heading, limit // 4) if heading else ""
    budget = limit - (utf16_len(heading) + 1 if heading else 0)
    return _with_heading(heading, html.escape(cut(body, budget), quote=False))


def plain_html(text: str) -> str:
    """A plain text as one HTML message: escaped, cut to fit."""
    return html.escape(cut(text, MAX_TEXT), quote=False)


def keyboard(rows: Sequence[Sequence[Button | Button]]) -> Keyboard | None:
    """Rows of buttons as an inline keyboard (a Button's payload already fits 64 bytes)."""
    if not rows:
        return None
    return tuple(
        tuple(InlineButton(button.label, callback_data=button.payload) for button in row)
        for row in rows
        if row
    )


def private_chat_link(bot_username: str, start_parameter: str) -> str:
    """A deep link that opens the private chat with the bot and sends /start <parameter>."""
    return f"https://t.me/{bot_username}?start={start_parameter}"


def _private_chat_keyboard(bot_username: str, start_parameter: str) -> Keyboard:
    link = private_chat_link(bot_username, start_parameter)
    return ((InlineButton(OPEN_PRIVATE_LABEL, url=link),),)


def _not_modified(error: BotApiError) -> bool:
    return isinstance(error, BotApiBadRequest) and "not modified" in error.description.lower()


@dataclass
class StatusMessage:
    """The one message an upload edits as it advances ("Reading page 40/212…").

    The first update sends it; later ones edit it at most every PROGRESS_MIN_INTERVAL_S;
    the handler's first reply then replaces it, so an upload leaves one message, not ten.
    Progress is decoration: a failed edit is logged and the upload carries on.
    """

    api: BotApi
    chat_id: int
    min_interval_s: float = PROGRESS_MIN_INTERVAL_S
    monotonic: Callable[[], float] = time.monotonic
    message_id: int | None = None
    text: str = ""
    _last_edit: float = field(default=0.0, repr=False)
    _taken: bool = field(default=False, repr=False)

    async def show(self, text: str) -> None:
        if self._taken or text == self.text:
            return
        now = self.monotonic()
        try:
            if self.message_id is None:
                self.message_id = await self.api.send_text(self.chat_id, plain_html(text))
            elif now - self._last_edit >= self.min_interval_s:
                await self.api.edit_text(self.chat_id, self.message_id, plain_html(text))
            else:
                return
        except BotApiError as error:
            log.info("status message update skipped: %s", type(error).__name__)
            return
        self.text, self._last_edit = text, now

    def take(self) -> int | None:
        """The status message's id, once: the final reply is drawn over it."""
        if self._taken or self.message_id is None:
            return None
        self._taken = True
        return self.message_id


def split_notice(replies: Sequence[Reply]) -> tuple[Reply | None, list[Reply]]:
    """Picks the reply a button press is answered with (an alert, or an ephemeral notice
    short enough for Telegram's 200 characters); the rest become messages."""
    notice = next(
        (r for r in replies if (r.is_alert or r.ephemeral) and not r.edit_of
         and not r.buttons and r.image is None and r.document is None
         and utf16_len(r.text) <= MAX_ALERT),
        None,
    )  # fmt: skip
    return notice, [r for r in replies if r is not notice]


class ReplyRenderer:
    """Delivers one event's Replies into one chat, then reports tracked messages."""

    def __init__(
        self, api: BotApi, router: Router, clock: Callable[[], datetime], chat_id: int
    ) -> None:
        self.api = api
        self.router = router
        self.clock = clock
        self.chat_id = chat_id

    async def deliver(
        self, replies: Sequence[Reply], *, status: StatusMessage | None = None
    ) -> None:
        for reply in replies:
            message_ref = await self._render(reply, status)
            if reply.track and message_ref:
                sent = SentMessage(reply.track, message_ref, self.clock())
                await self.router.message_sent(sent)
        leftover = status.take() if status is not None else None
        if leftover is not None:
            # No reply could be drawn over the progress note (a photo, only edits): it would
            # go on saying "Writing questions…" forever, so it goes.
            try:
                await self.api.delete(self.chat_id, leftover)
            except BotApiError as error:
                log.info("stale status message kept: %s", type(error).__name__)

    async def answer(self, query_id: str, notice: Reply | None) -> None:
        """Answers a button press, with the notice as a toast or alert when there is one."""
        try:
            if notice is None:
                await self.api.answer_button(query_id)
            else:
                await self.api.answer_button(query_id, notice.text, alert=notice.is_alert)
        except BotApiBadRequest as error:
            # An old press (Telegram forgets queries after a while) cannot be answered.
            log.info("callback answer refused: %s", error.description)

    async def _render(self, reply: Reply, status: StatusMessage | None) -> str:
        markup = keyboard(reply.buttons)
        if reply.open_private:
            # A group pointer: the personal answer waits behind this deep link.
            markup = _private_chat_keyboard(self.api.username, reply.open_private)
        if reply.image is not None or reply.document is not None:
            return await self._send_file(reply, markup)
        edit_target = reply.edit_of or (str(status.take() or "") if status else "")
        if edit_target:
            try:
                text = single_html(reply, MAX_TEXT)
                await self.api.edit_text(self.chat_id, int(edit_target), text, markup)
                return edit_target
            except BotApiBadRequest as error:
                if _not_modified(error):
                    return edit_target
                # Too old, deleted, or not ours to edit: say it in a new message instead.
                log.info("edit refused (%s); sending a new message", error.description)
        sent = ""
        pieces = [piece for piece in html_pieces(reply) if piece]
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            sent = str(await self.api.send_text(self.chat_id, piece, markup if last else None))
        return sent

    async def _send_file(self, reply: Reply, markup: Keyboard | None) -> str:
        path = reply.image or reply.document
        assert path is not None
        caption = single_html(reply, MAX_CAPTION)
        if not path.is_file():
            log.warning("reply file %s is missing; sending the text only", path.name)
            return await self._render(
                Reply(reply.text, reply.title, reply.tone, reply.buttons), None
            )
        if sum(map(utf16_len, _heading_and_body(reply))) + 1 > MAX_CAPTION:
            # Captions are short; a long text goes first, the file follows without one.
            await self._render(Reply(reply.text, reply.title, reply.tone), None)
            caption = ""
        message_id = await self.api.send_file(
            self.chat_id, path, photo=reply.image is not None, caption=caption, keyboard=markup
        )
        return str(message_id)


class TelegramOutbox:
    """Posts a background job's replies (progress edits, the quiz it started) in a chat."""

    def __init__(self, api: BotApi, router: Router, clock: Callable[[], datetime]) -> None:
        self.api = api
        self.router = router
        self.clock = clock

    async def post(self, chat_address: str, replies: Sequence[Reply]) -> None:
        renderer = ReplyRenderer(self.api, self.router, self.clock, int(chat_address))
        await renderer.deliver(replies)


class TelegramNotifier:
    """The scheduler's way to reach a Telegram user: a private-chat message with buttons."""

    def __init__(self, api: BotApi) -> None:
        self.api = api

    @property
    def platform(self) -> Platform:
        return Platform.TELEGRAM

    async def send(self, address: str, text: str, buttons: Sequence[Sequence[Button]] = ()) -> str:
        try:
            message_id = await self.api.send_text(
                int(address), plain_html(text), keyboard(buttons)
            )
        except (BotApiForbidden, BotApiBadRequest) as error:
            raise self._unreachable(address, error) from error
        return str(message_id)

    async def edit(
        self,
        address: str,
        message_ref: str,
        text: str,
        buttons: Sequence[Sequence[Button]] = (),
    ) -> None:
        try:
            await self.api.edit_text(
                int(address), int(message_ref), plain_html(text), keyboard(buttons)
            )
        except BotApiBadRequest as error:
            if not _not_modified(error):
                raise self._unreachable(address, error) from error
        except BotApiForbidden as error:
            raise self._unreachable(address, error) from error

    @staticmethod
    def _unreachable(address: str, error: BotApiError) -> Exception:
        """403 (blocked, kicked, deactivated) and "chat not found" are permanent; any other
        Bad Request is a bug on our side and stays a plain error."""
        if isinstance(error, BotApiForbidden) or "chat not found" in error.description.lower():
            return RecipientUnreachable(address, error.description)
        return error
