"""What both Telegram runtimes do with an update, whichever library received it: which
updates are Rounds' business, command parsing, the download limit, admin lookups, one chat's
updates in order, albums of pictures gathered into one upload, one event routed into
replies, and the token kept out of the logs."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import shlex
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from bot.app import App, SecretRedactor
from bot.telegram_replies import (
    BotApi,
    BotApiBadRequest,
    BotApiError,
    BotApiForbidden,
    ReplyRenderer,
    StatusMessage,
    TelegramNotifier,
    TelegramOutbox,
    split_notice,
)
from core.errors import RoundsError
from core.texts import personal
from handlers.materials import picture_album
from handlers.router import ADMIN_BUTTONS, ADMIN_COMMANDS
from handlers.types import Actor, ChatRef, Document, EventKind, Incoming, Reply, Tone
from storage.enums import ChatKind, Platform

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query"]
POLL_TIMEOUT_S = 25
# Updates of different chats run side by side; one chat's updates keep their order. An update
# waits for its chat first and takes one of these slots only when its turn comes, so one
# chat holds at most one slot however much it sends (its excess is rate-limited away).
MAX_CONCURRENT_UPDATES = 64
# Uploads (a file or a photo to read) take one of these instead of an update slot. An upload
# holds its slot, and a database connection, while it waits for the CPU pool, which reads one
# file at a time per pool worker: with a hundred uploads on one shared slot pool, clicks of
# other chats waited for a slot (and a connection) for half a minute. A few uploads in flight
# keep the pool busy; the rest wait in their own line, holding neither.
MAX_CONCURRENT_UPLOADS = 2
# A 429 is retried this many times (after the retry_after Telegram names) before giving up.
RATE_LIMIT_RETRIES = 3
# Bots may download files up to 20 MB through getFile (decimal MB, as PTB's
# FileSizeLimit.FILESIZE_DOWNLOAD says); a self-hosted Bot API server lifts it, not Rounds.
TELEGRAM_DOWNLOAD_LIMIT = 20_000_000
# Admin lists are cached briefly for ordinary events and asked afresh before an admin-only
# action (handlers.router.ADMIN_COMMANDS / ADMIN_BUTTONS), so a demotion counts at once.
ADMIN_CACHE_S = 60.0
SORRY = "Sorry, something went wrong on my side. Please try again in a moment."
# An album counts once against the rate limits: its later parts are recognised this long.
ALBUM_MEMORY_S = 60.0


class FileTooBigForTelegram(RoundsError):
    """Telegram itself refuses bots a download above 20 MB, whatever Rounds would accept."""

    def __init__(self, size: int) -> None:
        super().__init__(
            f"That file is {size / 1_000_000:.1f} MB, and Telegram lets bots download files "
            f"of at most {TELEGRAM_DOWNLOAD_LIMIT // 1_000_000} MB. Please split the PDF "
            "(one chapter per file works well) and send the parts.",
            reason="telegram_download_limit",
        )


def meant_for_us(*, private: bool, button: bool, text: str) -> bool:
    """What Rounds reacts to: everything in a private chat, buttons, and in groups only
    commands (a bot that is a group admin sees all chatter, which must not count)."""
    return private or button or text.startswith("/")


def admin_only(kind: EventKind, fields: dict[str, Any]) -> bool:
    if kind is EventKind.COMMAND:
        return str(fields.get("command", "")).lower() in ADMIN_COMMANDS
    if kind is EventKind.BUTTON:
        return str(fields.get("payload", "")).split(":", 1)[0] in ADMIN_BUTTONS
    return False


def parse_command(text: str, bot_username: str) -> tuple[str, tuple[str, ...]] | None:
    """`/quiz@RoundsBot heart 5` -> ("quiz", ("heart", "5")); None when meant for another bot."""
    first, *more = text.strip().split(maxsplit=1) or ["/"]
    rest = more[0] if more else ""
    name, _, addressee = first[1:].partition("@")
    if addressee and addressee.lower() != bot_username.lower():
        return None
    try:
        args = tuple(shlex.split(rest))
    except ValueError:  # an unbalanced quote: take the words as they are
        args = tuple(rest.split())
    return name.lower(), args


def bot_token(app: App) -> str:
    token = app.settings.telegram_bot_token
    if token is None or not token.get_secret_value():
        raise RuntimeError("TELEGRAM_BOT_TOKEN is not set")
    return token.get_secret_value()


def webhook_secret(app: App) -> str:
    """The configured secret, else one derived from the bot token: stable across workers.
    An empty one (docker-compose's `${ROUNDS_TELEGRAM_WEBHOOK_SECRET:-}`) counts as unset: it
    would let any POST through."""
    settings = app.settings
    configured = settings.telegram_webhook_secret
    if configured is not None and configured.get_secret_value():
        return configured.get_secret_value()
    token = bot_token(app).encode()
    return hmac.new(token, b"rounds-telegram-webhook", hashlib.sha256).hexdigest()


class ChatTurns:
    """Concurrent across chats, in order within one: a double press is handled after the
    first press finished, so the answer check in the handler sees the first one. An update
    waits for its chat, and only then for a global slot: a busy chat's queue holds no slot.
    An upload takes an upload slot instead (`heavy`), so uploads never fill the slots clicks
    need."""

    def __init__(self, max_concurrent: int, max_uploads: int = MAX_CONCURRENT_UPLOADS) -> None:
        self._slots = asyncio.Semaphore(max_concurrent)
        self._upload_slots = asyncio.Semaphore(max_uploads)
        # chat id -> (its lock, how many updates hold or await it); dropped when idle.
        self._chats: dict[int, tuple[asyncio.Lock, int]] = {}
        self._idle = asyncio.Event()
        self._idle.set()

    async def idle(self) -> None:
        """Returns once no update holds or awaits a turn (a graceful stop waits for it)."""
        await self._idle.wait()

    @asynccontextmanager
    async def turn(self, chat_id: int, *, heavy: bool = False) -> AsyncIterator[None]:
        lock, users = self._chats.get(chat_id, (asyncio.Lock(), 0))
        self._chats[chat_id] = (lock, users + 1)
        self._idle.clear()
        try:
            async with lock, self._upload_slots if heavy else self._slots:
                yield
        finally:
            lock, users = self._chats[chat_id]
            if users == 1:
                del self._chats[chat_id]
            else:
                self._chats[chat_id] = (lock, users - 1)
            if not self._chats:
                self._idle.set()


class AdminCache:
    """A group's admins, asked at most every ADMIN_CACHE_S (one call serves everyone), or
    asked now when `fresh`. `fetch` returns None when the call failed: nobody is an admin."""

    def __init__(self, fetch: Callable[[int], Awaitable[frozenset[int] | None]]) -> None:
        self._fetch = fetch
        self._admins: dict[int, tuple[float, frozenset[int]]] = {}

    async def of(self, chat_id: int, *, fresh: bool = False) -> frozenset[int]:
        cached = self._admins.get(chat_id)
        if cached and not fresh and time.monotonic() - cached[0] < ADMIN_CACHE_S:
            return cached[1]
        admins = await self._fetch(chat_id) or frozenset()
        self._admins[chat_id] = (time.monotonic(), admins)
        return admins


async def incoming(
    app: App,
    admins: AdminCache,
    *,
    user_id: int,
    user_name: str,
    chat_id: int,
    private: bool,
    chat_title: str,
    kind: EventKind,
    **fields: Any,
) -> Incoming:
    """The router's view of one update. Handlers check the admin flag for group commands and
    buttons (e.g. deleting group material)."""
    fresh = admin_only(kind, fields)
    is_admin = not private and user_id in await admins.of(chat_id, fresh=fresh)
    return Incoming(
        platform=Platform.TELEGRAM,
        user=Actor(str(user_id), user_name, is_admin),
        chat=ChatRef(str(chat_id), ChatKind.PRIVATE if private else ChatKind.GROUP, chat_title),
        kind=kind,
        received_at=app.services.clock(),
        **fields,
    )


IncomingFor = Callable[[Callable[[str], Awaitable[None]]], Awaitable[Incoming]]


def renderer(app: App, api: BotApi, chat_id: int) -> ReplyRenderer:
    return ReplyRenderer(api, app.router, app.services.clock, chat_id)


async def converse(app: App, api: BotApi, chat_id: int, incoming_for: IncomingFor) -> None:
    """Routes one event and delivers its replies. The handler's progress notes go to one
    status message, which its first reply then replaces. `incoming_for(progress)` builds
    the event around the status message's `show`."""
    status = StatusMessage(api, chat_id)
    event = await incoming_for(status.show)
    replies = await app.router.route(event)
    if event.chat.kind is ChatKind.GROUP:
        replies = await _delivered_privately(app, api, event, replies)
    await renderer(app, api, chat_id).deliver(replies, status=status)


async def _delivered_privately(
    app: App, api: BotApi, event: Incoming, replies: list[Reply]
) -> list[Reply]:
    """Sends a group event's `to_private` replies to the student's private chat (on Telegram
    its id is the user's id); what is left for the group says where they went, or that the
    private chat is not open yet."""
    private = [reply for reply in replies if reply.to_private]
    if not private:
        return replies
    rest = [reply for reply in replies if not reply.to_private]
    try:
        await renderer(app, api, int(event.user.external_id)).deliver(private)
    except (BotApiForbidden, BotApiBadRequest) as error:
        log.info("private delivery refused: %s", error.description)
        closed = personal.PRIVATE_CHAT_CLOSED.format(command=event.command)
        return [*rest, Reply(closed, tone=Tone.WARNING)]
    return [*rest, Reply(personal.SENT_PRIVATELY)]


async def refuse_too_big(app: App, api: BotApi, chat_id: int, size: int) -> bool:
    """Checked before any getFile: Telegram would refuse the download anyway. True when the
    file was refused. (The upload handler separately checks ROUNDS_MAX_UPLOAD_MB.)"""
    if size <= TELEGRAM_DOWNLOAD_LIMIT:
        return False
    error = FileTooBigForTelegram(size)
    await renderer(app, api, chat_id).deliver([Reply(error.user_message, tone=Tone.WARNING)])
    return True


@dataclass(frozen=True)
class AlbumPart:
    """One picture of a Telegram album (a photo or a picture file), with who sent it where."""

    message_id: int
    picture: Document
    caption: str
    user_id: int
    user_name: str
    chat_id: int
    private: bool
    chat_title: str


class AlbumCounter:
    """An album is one event for the rate limits however many pictures it holds: only the
    first of its parts counts, so a ten-picture album never loses pages to "slow down"."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.monotonic = monotonic
        self._seen: dict[tuple[int, str], float] = {}

    def counts(self, chat_id: int, media_group_id: str | None) -> bool:
        if not media_group_id:
            return True
        now = self.monotonic()
        self._seen = {key: at for key, at in self._seen.items() if now - at < ALBUM_MEMORY_S}
        key = (chat_id, media_group_id)
        if key in self._seen:
            return False
        self._seen[key] = now
        return True


class Albums:
    """Telegram sends an album as one message per picture, sharing a media_group_id. The
    parts are gathered per chat and album until none has come for `quiet_s`; then they are
    one upload, in message order, in the chat's turn, with one status message."""

    def __init__(
        self, app: App, api: BotApi, admins: AdminCache, turns: ChatTurns, quiet_s: float
    ) -> None:
        self.app, self.api, self.admins, self.turns = app, api, admins, turns
        self.quiet_s = quiet_s
        self._parts: dict[tuple[int, str], list[AlbumPart]] = {}
        self._timers: dict[tuple[int, str], asyncio.TimerHandle] = {}
        self._uploads: set[asyncio.Task[None]] = set()

    def add(self, media_group_id: str, part: AlbumPart) -> None:
        """Takes one part; the album's quiet window starts again."""
        key = (part.chat_id, media_group_id)
        self._parts.setdefault(key, []).append(part)
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        loop = asyncio.get_running_loop()
        self._timers[key] = loop.call_later(self.quiet_s, self._release, key)

    async def drain(self) -> None:
        """Uploads every album gathered so far without waiting for quiet, and waits for all
        uploads under way (a stopping bot loses no album)."""
        for key in list(self._timers):
            self._timers[key].cancel()
            self._release(key)
        while self._uploads:
            await asyncio.gather(*self._uploads, return_exceptions=True)

    def _release(self, key: tuple[int, str]) -> None:
        self._timers.pop(key, None)
        parts = sorted(self._parts.pop(key, []), key=lambda part: part.message_id)
        if parts:
            task = asyncio.ensure_future(self._upload(parts))
            self._uploads.add(task)
            task.add_done_callback(self._uploads.discard)

    async def _upload(self, parts: list[AlbumPart]) -> None:
        first = parts[0]
        # Telegram puts an album's caption on one of its parts, usually the first.
        caption = next((part.caption for part in parts if part.caption), "")
        if not first.private and (
            not caption.startswith("/") or parse_command(caption, self.api.username) is None
        ):
            return  # a group's album not sent with /upload (for this bot): not for us
        try:
            async with self.turns.turn(first.chat_id, heavy=True):
                await self._converse(parts, caption)
        except Exception as error:  # no library error handler runs for a gathered album
            log.error("album upload in chat %s failed: %s", first.chat_id, type(error).__name__,
                      exc_info=error)  # fmt: skip
            with contextlib.suppress(BotApiError):
                await self.api.send_text(first.chat_id, SORRY)

    async def _converse(self, parts: list[AlbumPart], caption: str) -> None:
        first = parts[0]
        for position, part in enumerate(parts, start=1):
            if part.picture.size > TELEGRAM_DOWNLOAD_LIMIT:
                refusal = Reply(
                    f"Picture {position} of the {len(parts)} you sent together is "
                    f"{part.picture.size / 1_000_000:.1f} MB, and Telegram lets bots download "
                    f"files of at most {TELEGRAM_DOWNLOAD_LIMIT // 1_000_000} MB, so I added "
                    "none of them. Please send it as a photo (Telegram makes it smaller) or "
                    "a smaller copy, with the others.",
                    tone=Tone.WARNING,
                )
                await renderer(self.app, self.api, first.chat_id).deliver([refusal])
                return
        album = picture_album(
            [part.picture for part in parts],
            name=f"photos {first.message_id}-{parts[-1].message_id}",
            max_megapixels=self.app.settings.max_image_megapixels,
        )

        async def incoming_for(progress: Callable[[str], Awaitable[None]]) -> Incoming:
            return await incoming(
                self.app, self.admins, user_id=first.user_id, user_name=first.user_name,
                chat_id=first.chat_id, private=first.private, chat_title=first.chat_title,
                kind=EventKind.DOCUMENT, document=album, text=caption, progress=progress,
            )  # fmt: skip

        await converse(self.app, self.api, first.chat_id, incoming_for)


async def answer_press(
    app: App, api: BotApi, chat_id: int, query_id: str, incoming_for: IncomingFor
) -> None:
    """Routes a button press, delivers what it changed, then answers the press (with a short
    notice as toast or alert). Answered even when routing failed, so no spinner is left
    turning; answered last, so the spinner stays until the message shows the result."""
    chat = renderer(app, api, chat_id)
    status = StatusMessage(api, chat_id)
    replies: list[Reply] = []
    try:
        replies = await app.router.route(await incoming_for(status.show))
    finally:
        notice, rest = split_notice(replies)
        try:
            await chat.deliver(rest, status=status)
        finally:
            await chat.answer(query_id, notice)


@asynccontextmanager
async def token_withheld(app: App) -> AsyncIterator[None]:
    """The token is in every Bot API URL; the process-wide filter (configure_logging) also
    withholds exception text, this one only guards the token while the adapter runs."""
    redactor = SecretRedactor([bot_token(app)], withhold_exception_text=False)
    root_handlers = list(logging.getLogger().handlers)
    for handler in root_handlers:
        handler.addFilter(redactor)
    try:
        yield
    finally:
        for handler in root_handlers:
            handler.removeFilter(redactor)


@asynccontextmanager
async def reachable_through(app: App, api: BotApi) -> AsyncIterator[None]:
    """The scheduler's notifier and the background jobs' outbox, while the adapter serves."""
    app.notifiers[Platform.TELEGRAM] = TelegramNotifier(api)
    app.services.outboxes[Platform.TELEGRAM] = TelegramOutbox(
        api, app.router, lambda: app.services.clock()
    )
    try:
        yield
    finally:
        app.notifiers.pop(Platform.TELEGRAM, None)
        app.services.outboxes.pop(Platform.TELEGRAM, None)
