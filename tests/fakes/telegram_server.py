"""A fake Telegram Bot API server (aiohttp) that the real python-telegram-bot and aiogram talk
HTTP to.

It implements the methods Rounds uses, stores every call and every message the bot sent
(with its edit history), lets a test inject updates (a user's text or command, a document,
a button press) and can misbehave on request: one 429 with `retry_after`, a 403 "bot was
blocked by the user" for a chat, a slow response. Like the real server it refuses HTML it
cannot parse, texts over 4096 characters, callback_data over 64 bytes, a second answer to
one callback query, getFile above 20 MB, and an edit that changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from aiohttp import web

BOT_ID = 777000111
BOT_USERNAME = "rounds_test_bot"
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_CALLBACK_ANSWER = 200
DOWNLOAD_LIMIT = 20_000_000
# Long polls are cut short so a stuck test never waits for a client-sized timeout.
MAX_LONG_POLL_S = 2.0
# Parameters PTB sends as raw strings; every other form field is JSON encoded.
RAW_STRING_PARAMS = {
    "text", "caption", "parse_mode", "callback_query_id", "file_id", "url", "secret_token",
    "action", "title", "description", "language_code", "ip_address",
}  # fmt: skip
ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
    "tg-spoiler", "span", "blockquote", "tg-emoji",
}  # fmt: skip


class ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: dict | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


@dataclass
class ApiCall:
    """One HTTP call the bot made: method, decoded parameters, outcome, monotonic time."""

    method: str
    params: dict[str, Any]
    at: float
    status: int = 200
    files: dict[str, tuple[str, int]] = field(default_factory=dict)


@dataclass
class Message:
    """A message in the fake's chats; bot messages keep what they looked like before edits."""

    chat_id: int
    message_id: int
    from_bot: bool
    text: str = ""
    html: str = ""
    kind: str = "text"  # text | photo | document | user
    reply_markup: dict | None = None
    file_name: str = ""
    file_size: int = 0
    history: list[str] = field(default_factory=list)
    date: int = 0

    @property
    def buttons(self) -> list[list[dict]]:
        return (self.reply_markup or {}).get("inline_keyboard", [])

    @property
    def callback_data(self) -> list[str]:
        return [b["callback_data"] for row in self.buttons for b in row if "callback_data" in b]

    def button(self, label_part: str) -> str:
        """The callback_data of the first button whose label contains `label_part`."""
        for row in self.buttons:
            for button in row:
                if label_part.lower() in button["text"].lower():
                    return button["callback_data"]
        raise AssertionError(f"no button with {label_part!r} in {self.buttons}")


@dataclass
class CallbackQuery:
    id: str
    user_id: int
    data: str
    answered: bool = False
    text: str = ""
    show_alert: bool = False
    answered_at: float = 0.0  # monotonic, when the bot answered it


@dataclass
class StoredFile:
    file_id: str
    data: bytes | None
    size: int
    file_path: str


class _TelegramHtml(HTMLParser):
    """Parses Telegram's HTML subset the way the server does; errors mean HTTP 400."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.parts: list[str] = []
        self.bold: list[str] = []
        self.error = ""

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in ALLOWED_TAGS:
            self.error = self.error or f'Unsupported start tag "{tag}"'
        self.stack.append(tag)
        if tag in {"b", "strong"}:
            self.bold.append("")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.error = self.error or f'Unmatched end tag "{tag}"'
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        if self.bold and any(t in {"b", "strong"} for t in self.stack):
            self.bold[-1] += data


def parse_html(source: str) -> tuple[str, list[str]]:
    """Returns (plain text, bold runs) or raises the 400 the real server would."""
    # Bare '&' that is not an entity, and '<' that does not open a tag, are refused.
    for index, char in enumerate(source):
        if char == "&":
            end = source.find(";", index)
            entity = source[index : end + 1] if end != -1 else ""
            if not entity or html.unescape(entity) == entity:
                raise ApiError(400, f"Bad Request: can't parse entities: bad entity at {index}")
    parser = _TelegramHtml()
    parser.feed(source)
    parser.close()
    if parser.error or parser.stack or parser.rawdata:
        problem = parser.error or "unclosed tag or stray '<'"
        raise ApiError(400, f"Bad Request: can't parse entities: {problem}")
    return "".join(parser.parts), parser.bold


class FakeTelegram:
    """The fake server. `start()` binds 127.0.0.1 on an ephemeral port."""

    def __init__(self, token: str = "123456:TEST-token-not-real") -> None:
        self.token = token
        self.calls: list[ApiCall] = []
        self.messages: dict[tuple[int, int], Message] = {}
        self.callbacks: dict[str, CallbackQuery] = {}
        self.files: dict[str, StoredFile] = {}
        self.downloads: list[str] = []
        self.commands: list[dict] = []
        self.webhook: dict[str, Any] = {}
        self.admins: dict[int, set[int]] = {}
        self.chats: dict[int, dict] = {}
        self.users: dict[int, dict] = {}
        self.blocked_chats: set[int] = set()
        self.unknown_methods: list[str] = []
        self._failures: dict[str, list[tuple[int, str, dict | None]]] = {}
        self._delays: dict[str, float] = {}
        self._updates: list[dict] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count] = {}
        self._file_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.port = 0
        # Called with every call once it is answered (a load test follows the bot this way
        # instead of re-scanning all calls); and, when set, the webhook: every update goes to
        # it instead of waiting for getUpdates, as after setWebhook on the real server.
        self.observers: list[Callable[[ApiCall], None]] = []
        self.webhook_delivery: Callable[[dict], None] | None = None

    # ---- lifecycle -------------------------------------------------------------------

    async def start(self) -> FakeTelegram:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            self._closing = True
            await self._notify()  # ends open long polls at once
            await self._runner.cleanup()

    @property
    def api_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def file_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # ---- misbehaviour on request -----------------------------------------------------

    def fail_next(
        self, method: str, code: int = 429, description: str = "", retry_after: int = 1
    ) -> None:
        """The next call of `method` gets this error (429 carries retry_after)."""
        parameters = {"retry_after": retry_after} if code == 429 else None
        text = description or (
            f"Too Many Requests: retry after {retry_after}" if code == 429 else "Bad Request"
        )
        self._failures.setdefault(method, []).append((code, text, parameters))

    def block(self, chat_id: int) -> None:
        """Every send/edit to this chat answers 403, as when the user blocked the bot."""
        self.blocked_chats.add(chat_id)

    def delay(self, method: str, seconds: float) -> None:
        """Makes `method` slow, to keep an update in flight while the bot shuts down."""
        self._delays[method] = seconds

    # ---- what the test's users do ----------------------------------------------------

    def user(self, user_id: int, first_name: str, username: str = "") -> dict:
        user = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        self.users[user_id] = user
        self.chats.setdefault(
            user_id, {"id": user_id, "type": "private", "first_name": first_name}
        )
        return user

    def group(self, chat_id: int, title: str, admins: tuple[int, ...] = ()) -> dict:
        chat = {"id": chat_id, "type": "supergroup", "title": title}
        self.chats[chat_id] = chat
        self.admins[chat_id] = set(admins)
        return chat

    def send_text(self, user: dict, text: str, chat_id: int | None = None) -> int:
        """The user sends `text` (a /command gets its bot_command entity); returns its id."""
        message = self._user_message(user, chat_id)
        message["text"] = text
        if text.startswith("/"):
            length = len(text.split()[0]) if text.split() else 1
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        self._push({"message": message})
        return message["message_id"]

    def send_document(
        self,
        user: dict,
        filename: str,
        data: bytes | None = None,
        *,
        size: int | None = None,
        caption: str = "",
        chat_id: int | None = None,
        mime_type: str = "application/pdf",
        media_group_id: str = "",
    ) -> str:
        """The user sends a file. With `size` and no data it is a file nobody can download.
        Files sent together as an album share a `media_group_id`."""
        file_id = f"file-{next(self._file_ids)}"
        declared = size if size is not None else len(data or b"")
        self.files[file_id] = StoredFile(file_id, data, declared, f"documents/{file_id}.pdf")
        message = self._user_message(user, chat_id)
        message["document"] = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_name": filename,
            "mime_type": mime_type,
            "file_size": declared,
        }
        if media_group_id:
            message["media_group_id"] = media_group_id
        if caption:
            message["caption"] = caption
            if caption.startswith("/"):
                length = len(caption.split()[0])
                message["caption_entities"] = [
                    {"type": "bot_command", "offset": 0, "length": length}
                ]
        self._push({"message": message})
        return file_id

    def send_photo(
        self,
        user: dict,
        data: bytes,
        *,
        caption: str = "",
        chat_id: int | None = None,
        media_group_id: str = "",
    ) -> str:
        """The user sends a photo (not a file): Telegram lists its sizes smallest first, each
        a JPEG of its own; here the thumbnail is a stand-in and the largest is `data`. Photos
        sent together as an album arrive as one message each, sharing a `media_group_id`."""
        file_id = f"photo-{next(self._file_ids)}"
        self.files[file_id] = StoredFile(file_id, data, len(data), f"photos/{file_id}.jpg")
        message = self._user_message(user, chat_id)
        message["photo"] = [
            {"file_id": f"{file_id}-thumb", "file_unique_id": f"t{file_id}", "width": 90,
             "height": 60, "file_size": 1000},
            {"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 1280,
             "height": 960, "file_size": len(data)},
        ]  # fmt: skip
        if media_group_id:
            message["media_group_id"] = media_group_id
        if caption:
            message["caption"] = caption
        self._push({"message": message})
        return file_id

    def press(
        self,
        user: dict,
        message: Message | int,
        data: str,
        chat_id: int | None = None,
        query_id: str = "",
    ) -> str:
        """The user presses a button (or forges one) on a message; returns the query id
        (`query_id` names it, for a caller who waits for its answer before pressing)."""
        if isinstance(message, Message):
            chat_id, message_id = message.chat_id, message.message_id
        else:
            message_id = message
        chat_id = chat_id if chat_id is not None else user["id"]
        stored = self.messages.get((chat_id, message_id))
        query_id = query_id or f"cq-{next(self._callback_ids)}"
        self.callbacks[query_id] = CallbackQuery(query_id, user["id"], data)
        shown = self._message_json(stored) if stored else {
            "message_id": message_id, "date": int(time.time()), "chat": self.chats[chat_id],
            "from": self.me, "text": "(a message)",
        }  # fmt: skip
        self._push(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user,
                    "message": shown,
                    "chat_instance": f"ci-{chat_id}",
                    "data": data,
                }
            }
        )
        return query_id

    # ---- what tests read -------------------------------------------------------------

    @property
    def me(self) -> dict:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Rounds",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def bot_messages(self, chat_id: int) -> list[Message]:
        return [
            m
            for (cid, _), m in sorted(self.messages.items(), key=lambda kv: kv[0][1])
            if cid == chat_id and m.from_bot
        ]

    def calls_of(self, method: str) -> list[ApiCall]:
        return [call for call in self.calls if call.method == method]

    async def wait_until(self, predicate: Callable[[], Any], within: float = 15.0) -> Any:
        """Waits until `predicate()` is truthy (re-checked after every call the bot makes)."""

        async def _wait() -> Any:
            async with self._changed:
                while not (result := predicate()):
                    await self._changed.wait()
                return result

        try:
            return await asyncio.wait_for(_wait(), within)
        except TimeoutError:
            methods = [c.method for c in self.calls if c.method != "getUpdates"][-10:]
            texts = [m.text[:120] for m in self.messages.values() if m.from_bot][-5:]
            raise AssertionError(
                f"timed out; last calls: {methods}; last bot messages: {texts}"
            ) from None

    async def wait_for_message(self, chat_id: int, contains: str, within: float = 15.0) -> Message:
        """The first bot message in the chat whose current text contains `contains`."""

        def found() -> Message | None:
            return next((m for m in self.bot_messages(chat_id) if contains in m.text), None)

        return await self.wait_until(found, within)

    async def wait_answered(self, query_id: str, within: float = 15.0) -> CallbackQuery:
        query = self.callbacks[query_id]
        await self.wait_until(lambda: query.answered, within)
        return query

    def take_updates(self) -> list[dict]:
        """The updates the users' actions made so far, handed over for a webhook test to
        deliver (as Telegram would POST them) instead of being polled."""
        taken, self._updates = self._updates, []
        return taken

    # ---- the HTTP side ---------------------------------------------------------------

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _push(self, update: dict) -> None:
        update["update_id"] = next(self._update_ids)
        if self.webhook_delivery is not None:
            self.webhook_delivery(update)
            return
        self._updates.append(update)
        asyncio.get_running_loop().create_task(self._notify())

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def _user_message(self, user: dict, chat_id: int | None) -> dict:
        chat_id = chat_id if chat_id is not None else user["id"]
        message_id = self._next_message_id(chat_id)
        self.messages[(chat_id, message_id)] = Message(chat_id, message_id, False, kind="user")
        return {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self.chats[chat_id],
            "from": user,
        }

    def _message_json(self, message: Message) -> dict:
        shown: dict[str, Any] = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": self.chats.get(message.chat_id, {"id": message.chat_id, "type": "private"}),
            "from": self.me,
        }
        if message.kind == "text":
            shown["text"] = message.text
        elif message.kind == "photo":
            shown["photo"] = [{"file_id": "p", "file_unique_id": "p", "width": 10, "height": 10}]
            shown["caption"] = message.text
        elif message.kind == "document":
            shown["document"] = {
                "file_id": "d", "file_unique_id": "d", "file_name": message.file_name,
            }  # fmt: skip
            shown["caption"] = message.text
        if message.reply_markup:
            shown["reply_markup"] = message.reply_markup
        return shown

    async def _params(self, request: web.Request) -> tuple[dict[str, Any], dict]:
        params: dict[str, Any] = dict(request.query)
        files: dict[str, tuple[str, int]] = {}
        if request.content_type == "application/json":
            params.update(await request.json())
            return params, files
        if request.can_read_body:
            form = await request.post()
            for name, value in form.items():
                if isinstance(value, web.FileField):
                    files[name] = (value.filename, len(value.file.read()))
                else:
                    params[name] = value
        for name, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                # The Bot API's other way to upload: the field names the multipart part
                # (aiogram always uploads so; PTB uses the field's own name).
                files[name] = files.pop(value.removeprefix("attach://"), ("", 0))
            elif name not in RAW_STRING_PARAMS and isinstance(value, str):
                with contextlib.suppress(ValueError):
                    params[name] = json.loads(value)
        return params, files

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        params, files = await self._params(request)
        call = ApiCall(method, params, time.monotonic(), files=files)
        self.calls.append(call)
        await self._notify()
        try:
            if delay := self._delays.get(method):
                await asyncio.sleep(delay)
            if queued := self._failures.get(method):
                code, description, parameters = queued.pop(0)
                raise ApiError(code, description, parameters)
            handler = getattr(self, f"_m_{method.lower()}", None)
            if handler is None:
                self.unknown_methods.append(method)
                raise ApiError(404, "Not Found: method not found")
            result = handler(params, files)
            if asyncio.iscoroutine(result):
                result = await result
            body: dict[str, Any] = {"ok": True, "result": result}
        except ApiError as error:
            call.status = error.code
            body = {"ok": False, "error_code": error.code, "description": error.description}
            if error.parameters:
                body["parameters"] = error.parameters
        for observer in self.observers:
            observer(call)
        await self._notify()
        return web.json_response(body, status=call.status)

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        stored = next((f for f in self.files.values() if f.file_path == path), None)
        self.downloads.append(path)
        await self._notify()
        if stored is None or stored.data is None:
            return web.Response(status=404)
        return web.Response(body=stored.data, content_type="application/octet-stream")

    # ---- Bot API methods ---------------------------------------------------------------

    def _m_getme(self, params: dict, files: dict) -> dict:
        return self.me

    def _m_logout(self, params: dict, files: dict) -> bool:
        return True

    def _m_close(self, params: dict, files: dict) -> bool:
        return True

    def _m_deletewebhook(self, params: dict, files: dict) -> bool:
        self.webhook = {}
        return True

    def _m_setwebhook(self, params: dict, files: dict) -> bool:
        self.webhook = {"url": params.get("url", ""), "secret_token": params.get("secret_token")}
        return True

    def _m_getwebhookinfo(self, params: dict, files: dict) -> dict:
        return {"url": self.webhook.get("url", ""), "has_custom_certificate": False,
                "pending_update_count": 0}  # fmt: skip

    def _m_setmycommands(self, params: dict, files: dict) -> bool:
        commands = params.get("commands") or []
        for command in commands:
            name, description = command.get("command", ""), command.get("description", "")
            if not (1 <= len(name) <= 32 and name == name.lower() and len(description) >= 1):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        self.commands = commands
        return True

    async def _m_getupdates(self, params: dict, files: dict) -> list[dict]:
        offset = int(params.get("offset") or 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        timeout = min(float(params.get("timeout") or 0), MAX_LONG_POLL_S)
        if not self._updates and timeout > 0:
            async with self._changed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._changed.wait_for(lambda: bool(self._updates) or self._closing),
                        timeout,
                    )
        limit = int(params.get("limit") or 100)
        return self._updates[:limit]

    def _chat_id(self, params: dict) -> int:
        chat_id = params.get("chat_id")
        if chat_id is None:
            raise ApiError(400, "Bad Request: chat_id is empty")
        chat_id = int(chat_id)
        if chat_id in self.blocked_chats:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat_id not in self.chats:
            raise ApiError(400, "Bad Request: chat not found")
        return chat_id

    def _check_markup(self, params: dict) -> dict | None:
        markup = params.get("reply_markup")
        if not markup:
            return None
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                if not button.get("text"):
                    raise ApiError(400, "Bad Request: text buttons are unallowed")
        return markup

    def _render(self, params: dict, key: str, limit: int) -> tuple[str, str]:
        source = params.get(key) or ""
        if params.get("parse_mode") == "HTML":
            text, _ = parse_html(source)
        elif params.get("parse_mode"):
            raise ApiError(400, "Bad Request: unsupported parse_mode in this fake")
        else:
            text = source
        if len(text) > limit:
            raise ApiError(400, "Bad Request: message is too long")
        return text, source

    def _store(self, chat_id: int, message: Message) -> dict:
        self.messages[(chat_id, message.message_id)] = message
        return self._message_json(message)

    def _m_sendmessage(self, params: dict, files: dict) -> dict:
        chat_id = self._chat_id(params)
        text, source = self._render(params, "text", MAX_TEXT)
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        markup = self._check_markup(params)
        message = Message(chat_id, self._next_message_id(chat_id), True, text, source,
                          reply_markup=markup, date=int(time.time()))  # fmt: skip
        return self._store(chat_id, message)

    def _m_sendphoto(self, params: dict, files: dict) -> dict:
        chat_id = self._chat_id(params)
        if "photo" not in files and not params.get("photo"):
            raise ApiError(400, "Bad Request: there is no photo in the request")
        text, source = self._render(params, "caption", MAX_CAPTION)
        message = Message(
            chat_id,
            self._next_message_id(chat_id),
            True,
            text,
            source,
            kind="photo",
            reply_markup=self._check_markup(params),
            file_size=files.get("photo", ("", 0))[1],
            date=int(time.time()),
        )
        return self._store(chat_id, message)

    def _m_senddocument(self, params: dict, files: dict) -> dict:
        chat_id = self._chat_id(params)
        if "document" not in files:
            raise ApiError(400, "Bad Request: there is no document in the request")
        text, source = self._render(params, "caption", MAX_CAPTION)
        name, size = files["document"]
        message = Message(chat_id, self._next_message_id(chat_id), True, text, source,
                          kind="document", reply_markup=self._check_markup(params),
                          file_name=name, file_size=size, date=int(time.time()))  # fmt: skip
        return self._store(chat_id, message)

    def _editable(self, params: dict) -> Message:
        chat_id = self._chat_id(params)
        message = self.messages.get((chat_id, int(params.get("message_id") or 0)))
        if message is None or not message.from_bot:
            raise ApiError(400, "Bad Request: message to edit not found")
        return message

    def _m_editmessagetext(self, params: dict, files: dict) -> dict:
        message = self._editable(params)
        if message.kind != "text":
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text, source = self._render(params, "text", MAX_TEXT)
        markup = self._check_markup(params)
        if text == message.text and markup == message.reply_markup:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and "
                "reply markup are exactly the same as a current content and reply markup "
                "of the message",
            )
        message.history.append(message.text)
        message.text, message.html, message.reply_markup = text, source, markup
        return self._message_json(message)

    def _m_editmessagereplymarkup(self, params: dict, files: dict) -> dict:
        message = self._editable(params)
        markup = self._check_markup(params)
        if markup == message.reply_markup:
            raise ApiError(400, "Bad Request: message is not modified")
        message.reply_markup = markup
        return self._message_json(message)

    def _m_deletemessage(self, params: dict, files: dict) -> bool:
        message = self._editable(params)
        del self.messages[(message.chat_id, message.message_id)]
        return True

    def _m_answercallbackquery(self, params: dict, files: dict) -> bool:
        query = self.callbacks.get(params.get("callback_query_id", ""))
        if query is None or query.answered:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID "
                "is invalid",
            )
        text = params.get("text") or ""
        if len(text) > MAX_CALLBACK_ANSWER:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        query.answered, query.text = True, text
        query.answered_at = time.monotonic()
        query.show_alert = bool(params.get("show_alert"))
        return True

    def _m_sendchataction(self, params: dict, files: dict) -> bool:
        self._chat_id(params)
        return True

    def _m_getfile(self, params: dict, files: dict) -> dict:
        stored = self.files.get(params.get("file_id", ""))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if stored.size > DOWNLOAD_LIMIT:
            raise ApiError(400, "Bad Request: file is too big")
        return {"file_id": stored.file_id, "file_unique_id": f"u{stored.file_id}",
                "file_size": stored.size, "file_path": stored.file_path}  # fmt: skip

    def _m_getchatadministrators(self, params: dict, files: dict) -> list[dict]:
        chat_id = self._chat_id(params)
        return [
            {"status": "administrator", "user": self.users[uid], "can_be_edited": False,
             "is_anonymous": False, "can_manage_chat": True, "can_delete_messages": True,
             "can_manage_video_chats": True, "can_restrict_members": True,
             "can_promote_members": False, "can_change_info": True, "can_invite_users": True,
             "can_post_stories": False, "can_edit_stories": False, "can_delete_stories": False,
             "can_send_welcome_messages": False}
            for uid in sorted(self.admins.get(chat_id, ()))
            if uid in self.users
        ]  # fmt: skip
