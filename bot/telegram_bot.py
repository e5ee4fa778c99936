"""The Telegram adapter: a python-telegram-bot Application whose handlers turn Updates into
`Incoming` events for the router and hand the Replies to bot/telegram_render.py.

`serve(app, stop)` runs it until `stop` is set: long polling by default, PTB's webhook
server when ROUNDS_TELEGRAM_WEBHOOK_URL is set. Private chats are personal study; in groups
Rounds reacts only to commands, its own buttons and files sent with /upload.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import inspect
import logging
import os
import shlex
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from telegram import BotCommand, CallbackQuery, Update
from telegram import Document as TelegramDocument
from telegram.constants import ChatType, FileSizeLimit
from telegram.error import Forbidden, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    filters,
)

from bot.app import App, SecretRedactor
from bot.telegram_render import (
    ReplyRenderer,
    StatusMessage,
    TelegramNotifier,
    TelegramOutbox,
    split_notice,
)
from core.errors import RoundsError
from core.ratelimit import SLOW_DOWN_TEXT, EventLimiter, Verdict
from handlers.router import ADMIN_BUTTONS, ADMIN_COMMANDS
from handlers.types import Actor, ChatRef, Document, EventKind, Incoming, Reply, Tone
from storage.enums import ChatKind, Platform

log = logging.getLogger(__name__)

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
POLL_TIMEOUT_S = 25
# Updates of different chats run side by side; one chat's updates keep their order. An update
# waits for its chat first and takes one of these slots only when its turn comes, so one
# chat holds at most one slot however much it sends (its excess is rate-limited away).
MAX_CONCURRENT_UPDATES = 64
# A 429 is retried this many times (after the retry_after Telegram names) before giving up.
RATE_LIMIT_RETRIES = 3
# Bots may download files up to 20 MB through getFile (decimal MB, as PTB's constant says).
TELEGRAM_DOWNLOAD_LIMIT = int(FileSizeLimit.FILESIZE_DOWNLOAD)
# Admin lists are cached briefly for ordinary events and asked afresh before an admin-only
# action (handlers.router.ADMIN_COMMANDS / ADMIN_BUTTONS), so a demotion counts at once.
ADMIN_CACHE_S = 60.0
SORRY = "Sorry, something went wrong on my side. Please try again in a moment."


class FileTooBigForTelegram(RoundsError):
    """Telegram itself refuses bots a download above 20 MB, whatever Rounds would accept."""

    def __init__(self, size: int) -> None:
        super().__init__(
            f"That file is {size / 1_000_000:.1f} MB, and Telegram lets bots download files "
            f"of at most {TELEGRAM_DOWNLOAD_LIMIT // 1_000_000} MB. Please split the PDF "
            "(one chapter per file works well) and send the parts.",
            reason="telegram_download_limit",
        )


Limited = Callable[[Update], Awaitable[None]]


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Concurrent across chats, in order within one: a double press is handled after the
    first press finished, so the answer check in the handler sees the first one.

    Before anything else an update passes the per-user and per-chat rate limits (a refused
    one is dropped; the first refusal of a run calls `on_limited` once). Then it waits for
    its chat, and only then for a global slot: queued updates of a busy chat hold no slot.
    """

    def __init__(
        self,
        max_concurrent_updates: int,
        limiter: EventLimiter | None = None,
        on_limited: Limited | None = None,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self.limiter = limiter
        self.on_limited = on_limited
        # chat id -> (its lock, how many updates hold or await it); dropped when idle.
        self._chats: dict[int, tuple[asyncio.Lock, int]] = {}

    async def process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        if self.limiter is not None and isinstance(update, Update) and _meant_for_us(update):
            user = update.effective_user
            verdict = self.limiter.check(str(user.id if user else 0), str(_chat_key(update)))
            if verdict is not Verdict.ALLOW:
                if inspect.iscoroutine(coroutine):
                    coroutine.close()  # dropped: never run
                if verdict is Verdict.WARN and self.on_limited is not None:
                    await self.on_limited(update)
                return
        await self.do_process_update(update, coroutine)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _chat_key(update)
        lock, users = self._chats.get(key, (asyncio.Lock(), 0))
        self._chats[key] = (lock, users + 1)
        try:
            async with lock, self._semaphore:
                await coroutine
        finally:
            lock, users = self._chats[key]
            if users == 1:
                del self._chats[key]
            else:
                self._chats[key] = (lock, users - 1)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


def _chat_key(update: object) -> int:
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return update.effective_chat.id
        if update.effective_user is not None:
            return update.effective_user.id
    return 0


def _meant_for_us(update: Update) -> bool:
    """What Rounds reacts to: everything in a private chat, buttons, and in groups only
    commands (a bot that is a group admin sees all chatter, which must not count)."""
    chat, message = update.effective_chat, update.effective_message
    if update.callback_query is not None or chat is None or chat.type == ChatType.PRIVATE:
        return True
    text = (message.text or message.caption or "") if message is not None else ""
    return text.startswith("/")


def _admin_only(kind: EventKind, fields: dict[str, Any]) -> bool:
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


def webhook_secret(app: App) -> str:
    """The configured secret, else one derived from the bot token: stable across workers."""
    settings = app.settings
    if settings.telegram_webhook_secret is not None:
        return settings.telegram_webhook_secret.get_secret_value()
    token = _token(app).encode()
    return hmac.new(token, b"rounds-telegram-webhook", hashlib.sha256).hexdigest()


def _token(app: App) -> str:
    token = app.settings.telegram_bot_token
    if token is None or not token.get_secret_value():
        raise RuntimeError("TELEGRAM_BOT_TOKEN is not set")
    return token.get_secret_value()


class TelegramAdapter:
    """Registers the handlers on an Application and serves one App's router."""

    def __init__(self, app: App, application: Application) -> None:
        self.app = app
        self.application = application
        self._admins: dict[int, tuple[float, frozenset[int]]] = {}
        group_upload = filters.ChatType.GROUPS & filters.CaptionRegex(r"^/upload(@\w+)?\b")
        application.add_handler(
            MessageHandler(
                filters.Document.ALL & (filters.ChatType.PRIVATE | group_upload), self.on_document
            )
        )
        application.add_handler(
            MessageHandler(
                filters.PHOTO & (filters.ChatType.PRIVATE | group_upload), self.on_photo
            )
        )
        application.add_handler(MessageHandler(filters.COMMAND, self.on_command))
        application.add_handler(
            MessageHandler(filters.TEXT & filters.ChatType.PRIVATE, self.on_text)
        )
        application.add_handler(CallbackQueryHandler(self.on_button))
        application.add_error_handler(self.on_error)

    @property
    def bot(self) -> ExtBot:
        return self.application.bot

    # ---- Update -> Incoming ------------------------------------------------------------

    async def _incoming(self, update: Update, kind: EventKind, **fields: Any) -> Incoming:
        user, chat = update.effective_user, update.effective_chat
        assert user is not None and chat is not None
        private = chat.type == ChatType.PRIVATE
        # Handlers check it for group commands and buttons (e.g. deleting group material).
        fresh = _admin_only(kind, fields)
        is_admin = not private and user.id in await self._chat_admins(chat.id, fresh=fresh)
        return Incoming(
            platform=Platform.TELEGRAM,
            user=Actor(str(user.id), user.first_name or user.full_name, is_admin),
            chat=ChatRef(
                str(chat.id), ChatKind.PRIVATE if private else ChatKind.GROUP, chat.title or ""
            ),
            kind=kind,
            received_at=self.app.services.clock(),
            **fields,
        )

    async def _chat_admins(self, chat_id: int, *, fresh: bool = False) -> frozenset[int]:
        """A group's admins, asked at most every ADMIN_CACHE_S (one call serves everyone),
        or asked now when `fresh`. Unknown (the call failed) means nobody is an admin."""
        cached = self._admins.get(chat_id)
        if cached and not fresh and time.monotonic() - cached[0] < ADMIN_CACHE_S:
            return cached[1]
        try:
            members = await self.bot.get_chat_administrators(chat_id)
            admins = frozenset(member.user.id for member in members)
        except TelegramError as error:
            log.info("could not list admins of a group: %s", type(error).__name__)
            admins = frozenset()
        self._admins[chat_id] = (time.monotonic(), admins)
        return admins

    def _renderer(self, chat_id: int) -> ReplyRenderer:
        return ReplyRenderer(self.bot, self.app.router, self.app.services.clock, chat_id)

    # ---- handlers ----------------------------------------------------------------------

    async def _converse(
        self, update: Update, kind: EventKind, chat_id: int, **fields: Any
    ) -> None:
        """Routes one event and delivers its replies. The handler's progress notes go to one
        status message, which its first reply then replaces."""
        status = StatusMessage(self.bot, chat_id)
        incoming = await self._incoming(update, kind, progress=status.show, **fields)
        replies = await self.app.router.route(incoming)
        await self._renderer(chat_id).deliver(replies, status=status)

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.text is not None
        parsed = parse_command(message.text, self.bot.username)
        if parsed is None:
            return
        command, args = parsed
        await self._converse(
            update, EventKind.COMMAND, message.chat_id, command=command, args=args,
            text=message.text,
        )  # fmt: skip

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        await self._converse(update, EventKind.TEXT, message.chat_id, text=message.text or "")

    async def on_document(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.document is not None
        if message.chat.type != ChatType.PRIVATE and (
            parse_command(message.caption or "", self.bot.username) is None
        ):
            return  # "/upload@SomeOtherBot": not for us
        document = message.document
        size = document.file_size or 0
        if size > TELEGRAM_DOWNLOAD_LIMIT:
            # Checked here, before any getFile: Telegram would refuse the download anyway.
            # The upload handler separately checks ROUNDS_MAX_UPLOAD_MB against `size`.
            error = FileTooBigForTelegram(size)
            await self._renderer(message.chat_id).deliver(
                [Reply(error.user_message, tone=Tone.WARNING)]
            )
            return
        await self._converse(
            update, EventKind.DOCUMENT, message.chat_id, document=self._document(document),
            text=message.caption or "",
        )  # fmt: skip

    async def on_photo(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A photo of a page goes the way of a picture file: read by OCR into one page."""
        message = update.effective_message
        assert message is not None and message.photo
        if message.chat.type != ChatType.PRIVATE and (
            parse_command(message.caption or "", self.bot.username) is None
        ):
            return
        largest = message.photo[-1]  # Telegram lists a photo's sizes smallest first

        async def read() -> bytes:
            return bytes(await (await largest.get_file()).download_as_bytearray())

        photo = Document(
            filename=f"photo {message.message_id}.jpg", size=largest.file_size or 0, read=read,
            mime_type="image/jpeg",
        )  # fmt: skip
        await self._converse(
            update, EventKind.DOCUMENT, message.chat_id, document=photo, text=message.caption or ""
        )

    def _document(self, document: TelegramDocument) -> Document:
        async def read() -> bytes:
            telegram_file = await document.get_file()
            return bytes(await telegram_file.download_as_bytearray())

        return Document(
            filename=document.file_name or "document.pdf",
            size=document.file_size or 0,
            read=read,
            mime_type=document.mime_type or "",
        )

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        replies: list[Reply] = []
        renderer: ReplyRenderer | None = None
        status: StatusMessage | None = None
        try:
            if query.message is None or query.data is None:
                return  # an inline-mode press: Rounds posts no inline messages
            chat_id = query.message.chat.id
            renderer = self._renderer(chat_id)
            status = StatusMessage(self.bot, chat_id)
            incoming = await self._incoming(
                update,
                EventKind.BUTTON,
                payload=query.data,
                message_ref=str(query.message.message_id),
                progress=status.show,
            )
            replies = await self.app.router.route(incoming)
        finally:
            # Every press is answered, even when routing failed, so no spinner is left turning.
            await self._answer(query, replies, renderer, status)

    async def _answer(
        self,
        query: CallbackQuery,
        replies: list[Reply],
        renderer: ReplyRenderer | None,
        status: StatusMessage | None,
    ) -> None:
        if renderer is None:
            await query.answer()
            return
        notice, rest = split_notice(replies)
        try:
            await renderer.deliver(rest, status=status)
        finally:
            # Answered last: the spinner stays until the question message shows the result.
            await renderer.answer(query.id, notice)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The one place errors land: logged without message text, a short word to the user."""
        error = context.error
        chat_id = (
            update.effective_chat.id
            if isinstance(update, Update) and update.effective_chat
            else None
        )
        update_id = update.update_id if isinstance(update, Update) else None
        if isinstance(error, Forbidden):
            log.info("chat %s is unreachable (%s); update %s dropped", chat_id, error, update_id)
            return
        log.error(
            "update %s in chat %s failed: %s",
            update_id,
            chat_id,
            type(error).__name__,
            exc_info=error,
        )
        if chat_id is None:
            return
        try:
            await context.bot.send_message(chat_id, SORRY)
        except TelegramError as second:
            log.warning("could not tell chat %s about the failure: %s", chat_id, second)


def build_application(app: App) -> Application:
    """The PTB Application for `app`'s settings; handlers registered, not yet initialised."""
    settings = app.settings

    async def slow_down(update: Update) -> None:
        await _say_slow_down(application, update)

    processor = PerChatUpdateProcessor(MAX_CONCURRENT_UPDATES, app.limiter, slow_down)
    application = (
        ApplicationBuilder()
        .token(_token(app))
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.telegram_file_base_url)
        .rate_limiter(AIORateLimiter(max_retries=RATE_LIMIT_RETRIES))
        .concurrent_updates(processor)
        .job_queue(None)  # the scheduler is ours (scheduler/), not PTB's JobQueue
        .get_updates_read_timeout(POLL_TIMEOUT_S + 10)
        .build()
    )
    TelegramAdapter(app, application)
    return application


async def _say_slow_down(application: Application, update: Update) -> None:
    """The one reply a rate-limited run gets: a toast on a button, else a chat message."""
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(SLOW_DOWN_TEXT[:200], show_alert=False)
        elif update.effective_chat is not None:
            await application.bot.send_message(update.effective_chat.id, SLOW_DOWN_TEXT)
    except TelegramError as error:
        log.info("slow-down notice not delivered: %s", type(error).__name__)


async def serve(app: App, stop: asyncio.Event, *, started: asyncio.Event | None = None) -> None:
    """Serves Telegram until `stop` is set; updates in flight finish before it returns.

    `started` (optional) is set once updates are being received, for tests and the runner.
    """
    # PTB 22 warns on every 429 unless retry_after is opted in as a timedelta (its v23
    # behaviour); Rounds never reads it, AIORateLimiter does.
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    # The token is in every Bot API URL; the process-wide filter (configure_logging) also
    # withholds exception text, this one only guards the token while the adapter runs.
    redactor = SecretRedactor([_token(app)], withhold_exception_text=False)
    root_handlers = list(logging.getLogger().handlers)
    for handler in root_handlers:
        handler.addFilter(redactor)
    application = build_application(app)
    try:
        async with application:  # initialize() (getMe) ... shutdown()
            await _set_commands(app, application)
            try:
                await _start_receiving(app, application)
                await application.start()
                app.notifiers[Platform.TELEGRAM] = TelegramNotifier(application.bot)
                app.services.outboxes[Platform.TELEGRAM] = TelegramOutbox(
                    application.bot, app.router, lambda: app.services.clock()
                )
                log.info("Telegram bot @%s is serving", application.bot.username)
                if started is not None:
                    started.set()
                await stop.wait()
            finally:
                log.info("Telegram bot stopping: finishing updates in flight")
                app.notifiers.pop(Platform.TELEGRAM, None)
                app.services.outboxes.pop(Platform.TELEGRAM, None)
                if application.updater is not None and application.updater.running:
                    await application.updater.stop()
                if application.running:
                    await application.stop()
    finally:
        for handler in root_handlers:
            handler.removeFilter(redactor)


async def _set_commands(app: App, application: Application) -> None:
    commands = [BotCommand(name, line[:256]) for name, line in app.router.menu]
    try:
        await application.bot.set_my_commands(commands)
    except TelegramError as error:  # the menu is a nicety; the bot works without it
        log.warning("setMyCommands failed: %s", type(error).__name__)


async def _start_receiving(app: App, application: Application) -> None:
    updater = application.updater
    assert updater is not None
    url = app.settings.telegram_webhook_url
    if url:
        await updater.start_webhook(
            listen=app.settings.telegram_webhook_listen,
            port=app.settings.telegram_webhook_port,
            url_path=urlsplit(url).path.lstrip("/"),
            webhook_url=url,
            secret_token=webhook_secret(app),
            allowed_updates=ALLOWED_UPDATES,
            bootstrap_retries=3,
        )
    else:
        await updater.start_polling(
            timeout=POLL_TIMEOUT_S, allowed_updates=ALLOWED_UPDATES, bootstrap_retries=3
        )
