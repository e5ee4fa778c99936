"""The Telegram adapter on python-telegram-bot (ROUNDS_TELEGRAM_RUNTIME=ptb, the default): an
Application whose handlers turn Updates into `Incoming` events for the router and hand the
Replies to bot/telegram_replies.py through PTB's Bot (bot/telegram_render.py).

`serve(app, stop)` runs it until `stop` is set: long polling by default, PTB's webhook
server when ROUNDS_TELEGRAM_WEBHOOK_URL is set. Private chats are personal study; in groups
Rounds reacts only to commands, its own buttons and files sent with /upload. What both
runtimes share (rules for updates, rendering) is in bot/telegram_events.py.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from telegram import BotCommand, Message, Update
from telegram import Document as TelegramDocument
from telegram.constants import ChatType
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

from bot.app import App
from bot.telegram_events import (
    ALLOWED_UPDATES,
    MAX_CONCURRENT_UPDATES,
    POLL_TIMEOUT_S,
    RATE_LIMIT_RETRIES,
    SORRY,
    AdminCache,
    AlbumCounter,
    AlbumPart,
    Albums,
    ChatTurns,
    answer_press,
    bot_token,
    converse,
    incoming,
    meant_for_us,
    parse_command,
    reachable_through,
    refuse_too_big,
    token_withheld,
    webhook_secret,
)
from bot.telegram_render import PtbBotApi
from bot.telegram_replies import BotApiForbidden
from bot.telegram_webhook import serving as webhook_inbox
from core.ratelimit import SLOW_DOWN_TEXT, EventLimiter, Verdict
from handlers.materials import is_picture
from handlers.types import Document, EventKind, Incoming

log = logging.getLogger(__name__)

Limited = Callable[[Update], Awaitable[None]]


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Concurrent across chats, in order within one (bot/telegram_events.ChatTurns).

    Before anything else an update passes the per-user and per-chat rate limits (a refused
    one is dropped; the first refusal of a run calls `on_limited` once); an album counts once.
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
        self.turns = ChatTurns(max_concurrent_updates)
        self._albums_seen = AlbumCounter()

    async def process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        if self.limiter is not None and isinstance(update, Update) and self._counted(update):
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
        async with self.turns.turn(_chat_key(update), heavy=_is_upload(update)):
            await coroutine

    def _counted(self, update: Update) -> bool:
        message = update.effective_message
        album = message.media_group_id if message is not None else None
        return _meant_for_us(update) and self._albums_seen.counts(_chat_key(update), album)

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


def _is_upload(update: object) -> bool:
    """A file or a photo: read (in the CPU pool) if the handlers take it."""
    message = update.effective_message if isinstance(update, Update) else None
    return message is not None and bool(message.document or message.photo)


def _meant_for_us(update: Update) -> bool:
    chat, message = update.effective_chat, update.effective_message
    text = (message.text or message.caption or "") if message is not None else ""
    return meant_for_us(
        private=chat is None or chat.type == ChatType.PRIVATE,
        button=update.callback_query is not None,
        text=text,
    )


class _InAlbum(filters.MessageFilter):
    """Messages that are part of an album (in a group, only one part carries /upload)."""

    def filter(self, message: Message) -> bool:
        return bool(message.media_group_id)


class TelegramAdapter:
    """Registers the handlers on an Application and serves one App's router."""

    def __init__(self, app: App, application: Application, turns: ChatTurns) -> None:
        self.app = app
        self.application = application
        self.api = PtbBotApi(application.bot)
        self.admins = AdminCache(self._fetch_admins)
        self.albums = Albums(app, self.api, self.admins, turns, app.settings.album_quiet_s)
        group_upload = filters.ChatType.GROUPS & filters.CaptionRegex(r"^/upload(@\w+)?\b")
        upload = filters.ChatType.PRIVATE | group_upload | (filters.ChatType.GROUPS & _InAlbum())
        application.add_handler(MessageHandler(filters.Document.ALL & upload, self.on_document))
        application.add_handler(MessageHandler(filters.PHOTO & upload, self.on_photo))
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
        return await incoming(
            self.app, self.admins, user_id=user.id, user_name=user.first_name or user.full_name,
            chat_id=chat.id, private=chat.type == ChatType.PRIVATE, chat_title=chat.title or "",
            kind=kind, **fields,
        )  # fmt: skip

    async def _fetch_admins(self, chat_id: int) -> frozenset[int] | None:
        try:
            members = await self.bot.get_chat_administrators(chat_id)
        except TelegramError as error:
            log.info("could not list admins of a group: %s", type(error).__name__)
            return None
        return frozenset(member.user.id for member in members)

    # ---- handlers ----------------------------------------------------------------------

    async def _converse(
        self, update: Update, kind: EventKind, chat_id: int, **fields: Any
    ) -> None:
        async def incoming_for(progress: Callable[[str], Awaitable[None]]) -> Incoming:
            return await self._incoming(update, kind, progress=progress, **fields)

        await converse(self.app, self.api, chat_id, incoming_for)

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
        named = (message.document.mime_type or "", message.document.file_name or "")
        if message.media_group_id and is_picture(*named):
            self._gather(update, message, self._document(message.document))
            return
        if message.chat.type != ChatType.PRIVATE and (
            parse_command(message.caption or "", self.bot.username) is None
        ):
            return  # "/upload@SomeOtherBot": not for us
        document = message.document
        if await refuse_too_big(self.app, self.api, message.chat_id, document.file_size or 0):
            return
        await self._converse(
            update, EventKind.DOCUMENT, message.chat_id, document=self._document(document),
            text=message.caption or "",
        )  # fmt: skip

    async def on_photo(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A photo of a page goes the way of a picture file: read by OCR into one page; the
        photos of an album become one material."""
        message = update.effective_message
        assert message is not None and message.photo
        largest = message.photo[-1]  # Telegram lists a photo's sizes smallest first

        async def read() -> bytes:
            return bytes(await (await largest.get_file()).download_as_bytearray())

        photo = Document(
            filename=f"photo {message.message_id}.jpg", size=largest.file_size or 0, read=read,
            mime_type="image/jpeg",
        )  # fmt: skip
        if message.media_group_id:
            self._gather(update, message, photo)
            return
        if message.chat.type != ChatType.PRIVATE and (
            parse_command(message.caption or "", self.bot.username) is None
        ):
            return
        await self._converse(
            update, EventKind.DOCUMENT, message.chat_id, document=photo, text=message.caption or ""
        )

    def _gather(self, update: Update, message: Message, picture: Document) -> None:
        """One picture of an album: uploaded with the others once the album is complete."""
        user, chat = update.effective_user, message.chat
        assert user is not None and message.media_group_id is not None
        self.albums.add(
            message.media_group_id,
            AlbumPart(
                message.message_id, picture, message.caption or "", user.id,
                user.first_name or user.full_name, chat.id, chat.type == ChatType.PRIVATE,
                chat.title or "",
            ),
        )  # fmt: skip

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
        if query.message is None or query.data is None:
            await query.answer()  # an inline-mode press: Rounds posts no inline messages
            return
        payload, message_ref = query.data, str(query.message.message_id)

        async def incoming_for(progress: Callable[[str], Awaitable[None]]) -> Incoming:
            return await self._incoming(
                update, EventKind.BUTTON, payload=payload, message_ref=message_ref,
                progress=progress,
            )  # fmt: skip

        await answer_press(self.app, self.api, query.message.chat.id, query.id, incoming_for)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The one place errors land: logged without message text, a short word to the user."""
        error = context.error
        chat_id = (
            update.effective_chat.id
            if isinstance(update, Update) and update.effective_chat
            else None
        )
        update_id = update.update_id if isinstance(update, Update) else None
        if isinstance(error, Forbidden | BotApiForbidden):
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


def build_application(app: App) -> tuple[Application, TelegramAdapter]:
    """The PTB Application for `app`'s settings, handlers registered, not yet initialised;
    and the adapter (its albums are drained when the bot stops)."""
    settings = app.settings

    async def slow_down(update: Update) -> None:
        await _say_slow_down(application, update)

    processor = PerChatUpdateProcessor(MAX_CONCURRENT_UPDATES, app.limiter, slow_down)
    application = (
        ApplicationBuilder()
        .token(bot_token(app))
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.telegram_file_base_url)
        .rate_limiter(AIORateLimiter(max_retries=RATE_LIMIT_RETRIES))
        .concurrent_updates(processor)
        .job_queue(None)  # the scheduler is ours (scheduler/), not PTB's JobQueue
        .get_updates_read_timeout(POLL_TIMEOUT_S + 10)
        .build()
    )
    return application, TelegramAdapter(app, application, processor.turns)


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
    async with token_withheld(app):
        application, adapter = build_application(app)
        async with application:  # initialize() (getMe) ... shutdown()
            await _set_commands(app, application)
            try:
                async with (
                    _receiving(app, application),
                    reachable_through(app, PtbBotApi(application.bot)),
                ):
                    log.info("Telegram bot @%s is serving (ptb)", application.bot.username)
                    if started is not None:
                        started.set()
                    await stop.wait()
                    log.info("Telegram bot stopping: finishing updates in flight")
            finally:
                if application.updater is not None and application.updater.running:
                    await application.updater.stop()
                if application.running:
                    await application.stop()
                # After the updates in flight (which may add pictures), before the bot closes.
                await adapter.albums.drain()


async def _set_commands(app: App, application: Application) -> None:
    commands = [BotCommand(name, line[:256]) for name, line in app.router.menu]
    try:
        await application.bot.set_my_commands(commands)
    except TelegramError as error:  # the menu is a nicety; the bot works without it
        log.warning("setMyCommands failed: %s", type(error).__name__)


@asynccontextmanager
async def _receiving(app: App, application: Application) -> AsyncIterator[None]:
    """Updates arrive through the webhook inbox when ROUNDS_TELEGRAM_WEBHOOK_URL is set (bot/
    telegram_webhook.py), else by long polling."""
    url = app.settings.telegram_webhook_url
    if not url:
        updater = application.updater
        assert updater is not None
        await updater.start_polling(
            timeout=POLL_TIMEOUT_S, allowed_updates=ALLOWED_UPDATES, bootstrap_retries=3
        )
        await application.start()
        yield
        return
    secret = webhook_secret(app)
    await application.bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)
    await application.start()

    async def feed(data: dict[str, Any]) -> None:
        update = Update.de_json(data, application.bot)
        # Through the update processor, as polling does: rate limits and the chat's turn.
        await application.update_processor.process_update(
            update, application.process_update(update)
        )

    async with webhook_inbox(app, feed, secret):
        yield
