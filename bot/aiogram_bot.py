"""The Telegram adapter on aiogram 3 (ROUNDS_TELEGRAM_RUNTIME=aiogram): a Dispatcher with one
Router whose handlers turn messages and callback queries into `Incoming` events, and a Bot
whose own AiohttpSession talks to TELEGRAM_API_BASE_URL through an outbound rate limiter.

`serve(app, stop)` runs it until `stop` is set: long polling by default, an aiohttp webhook
server when ROUNDS_TELEGRAM_WEBHOOK_URL is set. What both runtimes share (rules for updates,
rendering) is in bot/telegram_events.py and bot/telegram_replies.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiogram import BaseMiddleware, Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.types import (
    BotCommand,
    CallbackQuery,
    Chat,
    ErrorEvent,
    Message,
    TelegramObject,
    Update,
    User,
)
from aiogram.types import Document as TelegramDocument

from bot.aiogram_ratelimit import OutboundRateLimiter
from bot.aiogram_render import AiogramBotApi
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
from bot.telegram_replies import BotApiForbidden
from bot.telegram_webhook import serving as webhook_inbox
from core.ratelimit import SLOW_DOWN_TEXT, EventLimiter, Verdict
from core.settings import Settings
from handlers.materials import is_picture
from handlers.types import Document, EventKind, Incoming

log = logging.getLogger(__name__)

GROUPS = {ChatType.GROUP, ChatType.SUPERGROUP}
Progress = Callable[[str], Awaitable[None]]


class OneChatAtATime(BaseMiddleware):
    """Outer update middleware: the per-user and per-chat rate limits first (a refused update
    is dropped, the first refusal of a run says "slow down"; an album counts once), then the
    chat's turn."""

    def __init__(self, turns: ChatTurns, limiter: EventLimiter | None, bot: Bot) -> None:
        self.turns = turns
        self.limiter = limiter
        self.bot = bot
        self._albums_seen = AlbumCounter()

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        assert isinstance(event, Update)
        chat: Chat | None = data.get("event_chat")
        user: User | None = data.get("event_from_user")
        key = chat.id if chat else user.id if user else 0
        album = event.message.media_group_id if event.message is not None else None
        if (
            self.limiter is not None
            and _meant_for_us(event, chat)
            and self._albums_seen.counts(key, album)
        ):
            verdict = self.limiter.check(str(user.id if user else 0), str(key))
            if verdict is not Verdict.ALLOW:
                if verdict is Verdict.WARN:
                    await self._say_slow_down(event, key)
                return None
        message = event.message
        upload = message is not None and bool(message.document or message.photo)
        async with self.turns.turn(key, heavy=upload):
            return await handler(event, data)

    async def _say_slow_down(self, update: Update, chat_id: int) -> None:
        """The one reply a rate-limited run gets: a toast on a button, else a chat message."""
        try:
            if update.callback_query is not None:
                await update.callback_query.answer(SLOW_DOWN_TEXT[:200], show_alert=False)
            else:
                await self.bot.send_message(chat_id, SLOW_DOWN_TEXT)
        except TelegramAPIError as error:
            log.info("slow-down notice not delivered: %s", type(error).__name__)


def _meant_for_us(update: Update, chat: Chat | None) -> bool:
    message = update.message
    text = (message.text or message.caption or "") if message is not None else ""
    return meant_for_us(
        private=chat is None or chat.type == ChatType.PRIVATE,
        button=update.callback_query is not None,
        text=text,
    )


class AiogramAdapter:
    """Registers the handlers on a Router and serves one App's router."""

    def __init__(self, app: App, bot: Bot, username: str, turns: ChatTurns) -> None:
        self.app = app
        self.bot = bot
        self.api = AiogramBotApi(bot, username)
        self.admins = AdminCache(self._fetch_admins)
        self.albums = Albums(app, self.api, self.admins, turns, app.settings.album_quiet_s)
        self.router = Router(name="rounds")
        private = F.chat.type == ChatType.PRIVATE
        group_upload = F.chat.type.in_(GROUPS) & F.caption.regexp(r"^/upload(@\w+)?\b")
        # In a group only one part of an album carries /upload: the others come along.
        upload = private | group_upload | (F.chat.type.in_(GROUPS) & F.media_group_id)
        self.router.message.register(self.on_document, F.document, upload)
        self.router.message.register(self.on_photo, F.photo, upload)
        self.router.message.register(self.on_command, F.text.startswith("/"))
        self.router.message.register(self.on_text, F.text, private)
        self.router.callback_query.register(self.on_button)
        self.router.errors.register(self.on_error)

    # ---- Message / CallbackQuery -> Incoming -------------------------------------------

    async def _incoming(
        self, user: User | None, chat: Chat, kind: EventKind, **fields: Any
    ) -> Incoming:
        assert user is not None
        return await incoming(
            self.app, self.admins, user_id=user.id, user_name=user.first_name or user.full_name,
            chat_id=chat.id, private=chat.type == ChatType.PRIVATE, chat_title=chat.title or "",
            kind=kind, **fields,
        )  # fmt: skip

    async def _fetch_admins(self, chat_id: int) -> frozenset[int] | None:
        try:
            members = await self.bot.get_chat_administrators(chat_id)
        except TelegramAPIError as error:
            log.info("could not list admins of a group: %s", type(error).__name__)
            return None
        return frozenset(member.user.id for member in members)

    # ---- handlers ----------------------------------------------------------------------

    async def _converse(self, message: Message, kind: EventKind, **fields: Any) -> None:
        async def incoming_for(progress: Progress) -> Incoming:
            return await self._incoming(
                message.from_user, message.chat, kind, progress=progress, **fields
            )

        await converse(self.app, self.api, message.chat.id, incoming_for)

    async def on_command(self, message: Message) -> None:
        assert message.text is not None
        parsed = parse_command(message.text, self.api.username)
        if parsed is None:
            return
        command, args = parsed
        await self._converse(
            message, EventKind.COMMAND, command=command, args=args, text=message.text
        )

    async def on_text(self, message: Message) -> None:
        await self._converse(message, EventKind.TEXT, text=message.text or "")

    async def on_document(self, message: Message) -> None:
        assert message.document is not None
        named = (message.document.mime_type or "", message.document.file_name or "")
        if message.media_group_id and is_picture(*named):
            self._gather(message, self._document(message.document))
            return
        if message.chat.type != ChatType.PRIVATE and (
            parse_command(message.caption or "", self.api.username) is None
        ):
            return  # "/upload@SomeOtherBot": not for us
        document = message.document
        if await refuse_too_big(self.app, self.api, message.chat.id, document.file_size or 0):
            return
        await self._converse(
            message, EventKind.DOCUMENT, document=self._document(document),
            text=message.caption or "",
        )  # fmt: skip

    async def on_photo(self, message: Message) -> None:
        """A photo of a page goes the way of a picture file: read by OCR into one page; the
        photos of an album become one material."""
        assert message.photo
        largest = message.photo[-1]  # Telegram lists a photo's sizes smallest first

        async def read() -> bytes:
            downloaded = await self.bot.download(largest)
            assert downloaded is not None
            return downloaded.read()

        photo = Document(
            filename=f"photo {message.message_id}.jpg", size=largest.file_size or 0, read=read,
            mime_type="image/jpeg",
        )  # fmt: skip
        if message.media_group_id:
            self._gather(message, photo)
            return
        if message.chat.type != ChatType.PRIVATE and (
            parse_command(message.caption or "", self.api.username) is None
        ):
            return
        await self._converse(
            message, EventKind.DOCUMENT, document=photo, text=message.caption or ""
        )

    def _gather(self, message: Message, picture: Document) -> None:
        """One picture of an album: uploaded with the others once the album is complete."""
        user, chat = message.from_user, message.chat
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
            downloaded = await self.bot.download(document)
            assert downloaded is not None
            return downloaded.read()  # a BytesIO, rewound by aiogram

        return Document(
            filename=document.file_name or "document.pdf",
            size=document.file_size or 0,
            read=read,
            mime_type=document.mime_type or "",
        )

    async def on_button(self, query: CallbackQuery) -> None:
        if query.message is None or query.data is None:
            await query.answer()  # an inline-mode press: Rounds posts no inline messages
            return
        payload, message_ref = query.data, str(query.message.message_id)

        async def incoming_for(progress: Progress) -> Incoming:
            assert query.message is not None
            return await self._incoming(
                query.from_user, query.message.chat, EventKind.BUTTON, payload=payload,
                message_ref=message_ref, progress=progress,
            )  # fmt: skip

        await answer_press(self.app, self.api, query.message.chat.id, query.id, incoming_for)

    async def on_error(self, event: ErrorEvent) -> None:
        """The one place errors land: logged without message text, a short word to the user."""
        error, update = event.exception, event.update
        chat = update.message.chat if update.message else None
        if chat is None and update.callback_query and update.callback_query.message:
            chat = update.callback_query.message.chat
        chat_id = chat.id if chat else None
        if isinstance(error, TelegramForbiddenError | BotApiForbidden):
            log.info(
                "chat %s is unreachable (%s); update %s dropped", chat_id, error, update.update_id
            )
            return
        log.error(
            "update %s in chat %s failed: %s",
            update.update_id,
            chat_id,
            type(error).__name__,
            exc_info=error,
        )
        if chat_id is None:
            return
        try:
            await self.bot.send_message(chat_id, SORRY)
        except TelegramAPIError as second:
            log.warning("could not tell chat %s about the failure: %s", chat_id, second)


def bot_api_server(settings: Settings) -> TelegramAPIServer:
    """TELEGRAM_API_BASE_URL and TELEGRAM_FILE_BASE_URL end where the token goes, as PTB's
    base_url does; aiogram wants the whole URL as a template."""
    return TelegramAPIServer(
        base=f"{settings.telegram_api_base_url}{{token}}/{{method}}",
        file=f"{settings.telegram_file_base_url}{{token}}/{{path}}",
    )


def build_bot(app: App) -> Bot:
    """A Bot with its own session: the configured Bot API server, rate-limited."""
    session = AiohttpSession(api=bot_api_server(app.settings))
    session.middleware(OutboundRateLimiter(max_retries=RATE_LIMIT_RETRIES))
    return Bot(bot_token(app), session=session)


async def serve(app: App, stop: asyncio.Event, *, started: asyncio.Event | None = None) -> None:
    """Serves Telegram until `stop` is set; updates in flight finish before it returns.

    `started` (optional) is set once updates are being received, for tests and the runner.
    """
    async with token_withheld(app):
        bot = build_bot(app)
        try:
            me = await bot.me()  # a wrong token or base URL fails here; polling reuses it
            assert me.username is not None
            turns = ChatTurns(MAX_CONCURRENT_UPDATES)
            adapter = AiogramAdapter(app, bot, me.username, turns)
            dispatcher = Dispatcher()
            dispatcher.update.outer_middleware(OneChatAtATime(turns, app.limiter, bot))
            dispatcher.include_router(adapter.router)
            await _set_commands(app, bot)
            async with _receiving(app, dispatcher, bot):
                async with reachable_through(app, adapter.api):
                    log.info("Telegram bot @%s is serving (aiogram)", me.username)
                    if started is not None:
                        started.set()
                    await stop.wait()
                    log.info("Telegram bot stopping: finishing updates in flight")
                await asyncio.sleep(0)  # updates just taken reach their chat's turn first
                await turns.idle()
                await adapter.albums.drain()  # after the updates that may add pictures
        finally:
            await bot.session.close()


async def _set_commands(app: App, bot: Bot) -> None:
    commands = [BotCommand(command=name, description=line[:256]) for name, line in app.router.menu]
    try:
        await bot.set_my_commands(commands)
    except TelegramAPIError as error:  # the menu is a nicety; the bot works without it
        log.warning("setMyCommands failed: %s", type(error).__name__)


@asynccontextmanager
async def _receiving(app: App, dispatcher: Dispatcher, bot: Bot) -> AsyncIterator[None]:
    """Updates arrive by webhook when ROUNDS_TELEGRAM_WEBHOOK_URL is set, else by polling;
    leaving stops taking new ones (those already taken finish in their chat's turn)."""
    url = app.settings.telegram_webhook_url
    if url:
        async with _webhook(app, dispatcher, bot, url):
            yield
        return
    await bot.delete_webhook()  # Telegram refuses getUpdates while a webhook is set
    polling = asyncio.create_task(
        dispatcher.start_polling(
            bot,
            polling_timeout=POLL_TIMEOUT_S,
            allowed_updates=ALLOWED_UPDATES,
            handle_signals=False,
            close_bot_session=False,
        )
    )
    try:
        yield
    finally:
        with contextlib.suppress(RuntimeError):  # polling had not started yet
            await dispatcher.stop_polling()
        polling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await polling


@asynccontextmanager
async def _webhook(app: App, dispatcher: Dispatcher, bot: Bot, url: str) -> AsyncIterator[None]:
    """The webhook inbox (bot/telegram_webhook.py) feeding the dispatcher."""
    secret = webhook_secret(app)
    await bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)

    async def feed(data: dict[str, Any]) -> None:
        await dispatcher.feed_raw_update(bot, data)

    async with webhook_inbox(app, feed, secret):
        yield
