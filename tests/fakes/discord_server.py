"""A local fake of Discord (REST API v10 + gateway websocket) for the real discord.py client.

It speaks just enough of the real protocol for the Rounds adapter: login, application
commands, the gateway handshake, interactions (slash commands and button clicks), webhooks
for interaction responses, channel messages, DM channels and an attachment CDN. It keeps
every message the bot created as Discord would (ephemeral or not, edits in order), enforces
the 3-second interaction deadline and "already acknowledged", refuses privileged intents,
and can answer 50007 for users who block DMs or a 429 to exercise discord.py's rate limiter.

Tests drive it like the Discord client of a student would: `slash()`, `click()`, `send_dm()`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Any

from aiohttp import WSMsgType, web

DISCORD_EPOCH_MS = 1_420_070_400_000
EPHEMERAL = 1 << 6
LOADING = 1 << 7
INTERACTION_DEADLINE_S = 3.0
# Intents Discord refuses (close code 4014) unless enabled in the developer portal.
PRIVILEGED_INTENTS = {
    "GUILD_MEMBERS": 1 << 1,
    "GUILD_PRESENCES": 1 << 8,
    "MESSAGE_CONTENT": 1 << 15,
}
BOT_ID = 900_000_000_000_000_001
APP_ID = 900_000_000_000_000_002
OWNER_ID = 900_000_000_000_000_003
ZLIB_SUFFIX = b"\x00\x00\xff\xff"
# The content_type Discord gives an attachment, by its name.
CONTENT_TYPES = {".pdf": "application/pdf", ".jpg": "image/jpeg", ".png": "image/png"}

# Interaction callback types.
PONG, MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE = 1, 4, 5, 6, 7


@dataclass(frozen=True)
class FakeUser:
    id: int
    username: str

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.username,
            "global_name": self.username.title(),
            "discriminator": "0",
            "avatar": None,
            "bot": False,
            "public_flags": 0,
        }


@dataclass(frozen=True)
class FakeChannel:
    """A guild text channel (guild_id set) or the DM channel between the bot and one user."""

    id: int
    name: str = ""
    guild_id: int | None = None
    recipient: FakeUser | None = None

    @property
    def is_dm(self) -> bool:
        return self.guild_id is None

    def payload(self) -> dict[str, Any]:
        if self.is_dm:
            assert self.recipient is not None
            return {
                "id": str(self.id),
                "type": 1,
                "last_message_id": None,
                "recipients": [self.recipient.payload()],
                "flags": 0,
            }
        return {
            "id": str(self.id),
            "type": 0,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "rate_limit_per_user": 0,
            "flags": 0,
        }


@dataclass
class FakeMessage:
    """One message as Discord stores it; `versions` keeps every edit, oldest first."""

    id: int
    channel_id: int
    payload: dict[str, Any]
    ephemeral: bool = False
    interaction_id: int | None = None
    author_id: int = BOT_ID
    versions: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.versions:
            self.versions.append(json.loads(json.dumps(self.payload)))

    @property
    def text(self) -> str:
        """Content plus every embed's title, description and fields, as a reader sees it."""
        parts = [self.payload.get("content") or ""]
        for embed in self.payload.get("embeds") or []:
            parts += [embed.get("title", ""), embed.get("description", "")]
            for embed_field in embed.get("fields", []):
                parts += [embed_field.get("name", ""), embed_field.get("value", "")]
            parts.append((embed.get("footer") or {}).get("text", ""))
        return "\n".join(part for part in parts if part)

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(label, custom_id) of every button, row by row."""
        return [
            (button.get("label", ""), button.get("custom_id", ""))
            for row in self.payload.get("components") or []
            for button in row.get("components", [])
            if button.get("type") == 2
        ]

    @property
    def attachment_names(self) -> list[str]:
        return [item["filename"] for item in self.payload.get("attachments") or []]

    @property
    def loading(self) -> bool:
        return bool(self.payload.get("flags", 0) & LOADING)

    def custom_id(self, label_part: str) -> str:
        """The custom_id of the first button whose label contains `label_part`."""
        for label, custom_id in self.buttons:
            if label_part.lower() in label.lower():
                return custom_id
        raise KeyError(f"no button like {label_part!r} in {self.buttons}")


@dataclass
class FakeInteraction:
    """One interaction the fake dispatched, and everything the bot answered to it."""

    id: int
    token: str
    kind: int
    user: FakeUser
    channel: FakeChannel
    dispatched_at: float
    message_id: int | None = None  # the message a clicked button sits on
    callbacks: list[tuple[int, dict[str, Any], float]] = field(default_factory=list)
    original_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)

    @property
    def callback_types(self) -> list[int]:
        return [kind for kind, _data, _latency in self.callbacks]

    @property
    def ack_latency_s(self) -> float | None:
        return self.callbacks[0][2] if self.callbacks else None


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    files: dict[str, bytes]


class DiscordError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py parses a body as JSON only for exactly "application/json" (no charset).
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def snowflake_now(counter: int) -> int:
    return ((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22) | (counter & 0xFFF)


def iso_now() -> str:
    return datetime.now(UTC).isoformat()


class FakeDiscord:
    """Start with `await fake.start()`; point discord.py at `api_base` (and `gateway_url`)."""

    def __init__(self, *, token: str = "fake-bot-token", host: str = "127.0.0.1") -> None:
        self.token = token
        self.host = host
        self.port = 0
        self.bot = FakeUser(BOT_ID, "rounds")
        self.allowed_privileged_intents = 0
        # What GET /gateway/bot recommends.
        self.recommended_shards = 1
        self.requests: list[RecordedRequest] = []
        self.messages: dict[int, FakeMessage] = {}
        self.interactions: dict[int, FakeInteraction] = {}
        self.global_commands: list[dict[str, Any]] = []
        self.guild_commands: dict[int, list[dict[str, Any]]] = {}
        self.identify_payloads: list[dict[str, Any]] = []
        self.gateway_paths: list[str] = []
        self.downloads: list[str] = []
        self.unreachable_user_ids: set[int] = set()
        self.rate_limit_once: dict[str, float] = {}
        self.rate_limited: list[str] = []
        self._ids = itertools.count(1)
        self._files: dict[str, bytes] = {}
        self._dm_channels: dict[int, FakeChannel] = {}
        self._guild_channels: dict[int, FakeChannel] = {}
        self._sockets: list[_GatewaySession] = []
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024, middlewares=[self._errors])
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/gateway-override", self._gateway)
        app.router.add_get("/cdn/{name:.+}", self._cdn)
        app.router.add_route("*", "/api/v10/{path:.+}", self._api)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        for session in list(self._sockets):
            await session.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway"

    def next_id(self) -> int:
        return snowflake_now(next(self._ids)) + next(self._ids)

    # -- what tests read -------------------------------------------------------------------

    async def wait_for(self, predicate: Callable[[], Any], within_s: float = 15.0) -> Any:
        """Waits until `predicate()` is truthy (re-checked whenever the bot does something)."""

        async def _wait() -> Any:
            async with self._changed:
                while not (result := predicate()):
                    await self._changed.wait()
                return result

        return await asyncio.wait_for(_wait(), within_s)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def channel_messages(self, channel: FakeChannel) -> list[FakeMessage]:
        return [message for message in self.messages.values() if message.channel_id == channel.id]

    def bot_messages(self, channel: FakeChannel | None = None) -> list[FakeMessage]:
        return [
            message
            for message in self.messages.values()
            if message.author_id == BOT_ID
            and (channel is None or message.channel_id == channel.id)
        ]

    def requests_to(self, method: str, path_part: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and path_part in r.path]

    def shard_sessions(self) -> dict[int, list[dict[str, Any]]]:
        """The events each identified shard connection received, by shard id."""
        return {s.shard[0]: s.received for s in self._sockets if s.shard is not None}

    @property
    def connected(self) -> bool:
        return any(session.identified and not session.ws.closed for session in self._sockets)

    # -- the world: users, channels, files --------------------------------------------------

    def guild_channel(self, channel_id: int, *, guild_id: int, name: str = "study") -> FakeChannel:
        """A text channel in a server the bot is in."""
        channel = FakeChannel(channel_id, name, guild_id)
        self._guild_channels[channel_id] = channel
        return channel

    def dm_channel(self, user: FakeUser) -> FakeChannel:
        if user.id not in self._dm_channels:
            self._dm_channels[user.id] = FakeChannel(id=self.next_id(), recipient=user)
        return self._dm_channels[user.id]

    def host_file(self, filename: str, data: bytes, *, size: int | None = None) -> dict[str, Any]:
        """Puts a file on the fake CDN; returns the attachment object Discord would send.

        `size` may claim more than `data` holds, so a 60 MB upload costs nothing to fake.
        """
        attachment_id = self.next_id()
        path = f"attachments/{attachment_id}/{filename}"
        self._files[path] = data
        return {
            "id": str(attachment_id),
            "filename": filename,
            "size": len(data) if size is None else size,
            "url": f"{self.base_url}/cdn/{path}",
            "proxy_url": f"{self.base_url}/cdn/{path}",
            "content_type": CONTENT_TYPES.get(PurePath(filename).suffix.lower(), "text/plain"),
        }

    # -- driving the bot through the gateway ------------------------------------------------

    async def wait_until_connected(self, within_s: float = 15.0) -> None:
        await self.wait_for(lambda: self.connected, within_s)

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """To every connection, or, when the bot identified with shards, as Discord routes:
        a guild's events to shard (guild_id >> 22) % count, everything else to shard 0."""
        sessions = [s for s in self._sockets if s.identified and not s.ws.closed]
        sharded = [s for s in sessions if s.shard is not None]
        if sharded:
            count = sharded[0].shard[1]  # type: ignore[index]
            guild_id = data.get("guild_id")
            wanted = (int(guild_id) >> 22) % count if guild_id else 0
            sessions = [s for s in sharded if s.shard == (wanted, count)]
        if not sessions:
            raise RuntimeError(f"no bot is connected to receive {event}")
        for session in sessions:
            await session.dispatch(event, data)

    async def slash(
        self,
        user: FakeUser,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        channel: FakeChannel | None = None,
        attachments: dict[str, dict[str, Any]] | None = None,
    ) -> FakeInteraction:
        """The student runs /name with options; attachment options name hosted files."""
        channel = channel or self.dm_channel(user)
        command = self._registered_command(name, channel.guild_id)
        option_types = {option["name"]: option["type"] for option in command.get("options", [])}
        data_options = []
        for option_name, value in (options or {}).items():
            if option_name not in option_types:
                raise ValueError(f"/{name} has no option {option_name!r}: {option_types}")
            data_options.append(
                {"name": option_name, "type": option_types[option_name], "value": value}
            )
        resolved: dict[str, Any] = {}
        for option_name, attachment in (attachments or {}).items():
            if option_types.get(option_name) != 11:
                raise ValueError(f"/{name} option {option_name!r} is not an attachment")
            data_options.append({"name": option_name, "type": 11, "value": attachment["id"]})
            resolved.setdefault("attachments", {})[attachment["id"]] = attachment
        data: dict[str, Any] = {
            "id": command["id"],
            "name": name,
            "type": 1,
            "options": data_options,
        }
        if resolved:
            data["resolved"] = resolved
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        return await self._interact(2, user, channel, data)

    async def click(
        self,
        user: FakeUser,
        message: FakeMessage,
        custom_id: str,
        *,
        forged: bool = False,
        stale: bool = False,
    ) -> FakeInteraction:
        """The user presses a button on `message`. `stale=True`: on the last version that had
        the button (a second press before the first one's edit reached the client). Discord
        only delivers custom_ids that are on the message; `forged=True` models a hand-crafted
        request carrying any custom_id."""
        payload = message.payload
        if stale:
            payload = next(
                version
                for version in reversed(message.versions)
                if custom_id in {cid for _l, cid in FakeMessage(0, 0, version).buttons}
            )
        payload = json.loads(json.dumps(payload))
        shown = FakeMessage(message.id, message.channel_id, payload)
        if forged:
            row = {"type": 1, "components": [
                {"type": 2, "style": 2, "label": "forged", "custom_id": custom_id}
            ]}  # fmt: skip
            payload["components"] = [*payload.get("components", [])[:4], row]
        elif custom_id not in {cid for _label, cid in shown.buttons}:
            raise ValueError(f"{custom_id!r} is not a button on message {message.id}")
        channel = self.channel_by_id(message.channel_id)
        assert channel is not None
        data = {"custom_id": custom_id, "component_type": 2}
        return await self._interact(3, user, channel, data, message=payload)

    async def send_dm(
        self, user: FakeUser, content: str = "", attachments: list[dict[str, Any]] | None = None
    ) -> FakeMessage:
        """The user writes to the bot in their DM channel (MESSAGE_CREATE)."""
        channel = self.dm_channel(user)
        payload = self._message_payload(
            channel, {"content": content, "attachments": attachments or []}, author=user
        )
        message = FakeMessage(int(payload["id"]), channel.id, payload, author_id=user.id)
        self.messages[message.id] = message
        await self.dispatch("MESSAGE_CREATE", payload)
        return message

    async def _interact(
        self,
        kind: int,
        user: FakeUser,
        channel: FakeChannel,
        data: dict[str, Any],
        message: dict[str, Any] | None = None,
    ) -> FakeInteraction:
        interaction = FakeInteraction(
            id=self.next_id(),
            token=f"itoken-{next(self._ids)}-{time.monotonic_ns()}",
            kind=kind,
            user=user,
            channel=channel,
            dispatched_at=time.monotonic(),
            message_id=int(message["id"]) if message else None,
        )
        self.interactions[interaction.id] = interaction
        if not channel.is_dm:
            self._guild_channels.setdefault(channel.id, channel)
        payload: dict[str, Any] = {
            "id": str(interaction.id),
            "application_id": str(APP_ID),
            "type": kind,
            "data": data,
            "token": interaction.token,
            "version": 1,
            "channel_id": str(channel.id),
            "channel": channel.payload(),
            "locale": "en-US",
            "app_permissions": "2248473465835073",
            "attachment_size_limit": 10 * 1024 * 1024,
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(channel.guild_id or user.id)},
            "context": 1 if channel.is_dm else 0,
        }
        if channel.is_dm:
            payload["user"] = user.payload()
        else:
            payload["guild_id"] = str(channel.guild_id)
            payload["guild_locale"] = "en-US"
            payload["member"] = {
                "user": user.payload(),
                "roles": [],
                "joined_at": iso_now(),
                "deaf": False,
                "mute": False,
                "flags": 0,
                "pending": False,
                "nick": None,
                "avatar": None,
                "permissions": "8" if user.username.startswith("admin") else "68608",
            }
        if message is not None:
            payload["message"] = message
        await self.dispatch("INTERACTION_CREATE", payload)
        return interaction

    def _registered_command(self, name: str, guild_id: int | None) -> dict[str, Any]:
        pools = [self.guild_commands.get(guild_id, [])] if guild_id else []
        for pool in [*pools, self.global_commands]:
            for command in pool:
                if command["name"] == name:
                    return command
        raise KeyError(f"/{name} was never synced (guild {guild_id})")

    def channel_by_id(self, channel_id: int) -> FakeChannel | None:
        for channel in [*self._dm_channels.values(), *self._guild_channels.values()]:
            if channel.id == channel_id:
                return channel
        return None

    # -- messages ---------------------------------------------------------------------------

    def _message_payload(
        self,
        channel: FakeChannel,
        fields: dict[str, Any],
        *,
        author: FakeUser | None = None,
        flags: int = 0,
        interaction_id: int | None = None,
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": str(self.next_id()),
            "channel_id": str(channel.id),
            "type": 0 if interaction_id is None else 20,
            "content": "",
            "author": {**(author or self.bot).payload(), "bot": author is None},
            "embeds": [],
            "components": [],
            "attachments": [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": False,
            "timestamp": iso_now(),
            "edited_timestamp": None,
            "flags": flags,
        }
        if channel.guild_id is not None:
            payload["guild_id"] = str(channel.guild_id)
        if interaction_id is not None:
            payload["webhook_id"] = str(APP_ID)
            payload["application_id"] = str(APP_ID)
        payload.update(fields)
        return payload

    def _create_bot_message(
        self,
        channel: FakeChannel,
        fields: dict[str, Any],
        *,
        flags: int = 0,
        interaction_id: int | None = None,
    ) -> FakeMessage:
        payload = self._message_payload(
            channel, fields, flags=flags, interaction_id=interaction_id
        )
        message = FakeMessage(
            int(payload["id"]),
            channel.id,
            payload,
            ephemeral=bool(flags & EPHEMERAL),
            interaction_id=interaction_id,
            versions=[json.loads(json.dumps(payload))],
        )
        self.messages[message.id] = message
        return message

    def _edit_message(self, message: FakeMessage, fields: dict[str, Any]) -> FakeMessage:
        payload = dict(message.payload)
        for key, empty in (("content", ""), ("embeds", []), ("components", []),
                           ("attachments", [])):  # fmt: skip
            if key in fields:
                payload[key] = fields[key] if fields[key] is not None else empty
        # A deferred "thinking" response stops loading once it is edited with the answer.
        payload["flags"] = (payload.get("flags", 0) & ~LOADING) | (fields.get("flags", 0) or 0)
        payload["edited_timestamp"] = iso_now()
        message.payload = payload
        message.versions.append(json.loads(json.dumps(payload)))
        return message

    @staticmethod
    def _fields(body: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        """Message fields from a JSON body; uploaded files become attachments by name."""
        fields = {k: body[k] for k in ("content", "embeds", "components") if k in body}
        if "attachments" in body or files:
            # As Discord answers: size and URLs too (discord.py parses them from a message).
            fields["attachments"] = [
                {
                    "id": str(item.get("id", index)),
                    "filename": item.get("filename", ""),
                    "size": len(files.get(f"files[{index}]", b"")),
                    "url": f"https://cdn.invalid/{item.get('filename', '')}",
                    "proxy_url": f"https://cdn.invalid/{item.get('filename', '')}",
                }
                for index, item in enumerate(body.get("attachments") or [])
            ]
        return fields

    # -- HTTP plumbing ----------------------------------------------------------------------

    @web.middleware
    async def _errors(self, request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            return await handler(request)
        except DiscordError as error:
            return _json({"message": error.message, "code": error.code}, status=error.status)

    async def _read_body(self, request: web.Request) -> tuple[Any, dict[str, bytes]]:
        files: dict[str, bytes] = {}
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            body: Any = json.loads(str(form.get("payload_json", "{}")))
            for value in form.values():
                if hasattr(value, "file"):
                    files[value.filename] = value.file.read()  # type: ignore[union-attr]
            return body, files
        if request.can_read_body:
            text = await request.text()
            return (json.loads(text) if text else None), files
        return None, files

    async def _cdn(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self._files:
            raise web.HTTPNotFound()
        self.downloads.append(name)
        await self._notify()
        return web.Response(body=self._files[name], content_type="application/octet-stream")

    async def _api(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["path"]
        body, files = await self._read_body(request)
        self.requests.append(
            RecordedRequest(request.method, path, dict(request.query), body, files)
        )
        try:
            limited = self._maybe_rate_limit(request.method, path)
            if limited is not None:
                return limited
            public = path.startswith(("/interactions/", "/webhooks/"))
            if not public and request.headers.get("Authorization") != f"Bot {self.token}":
                raise DiscordError(401, 0, "401: Unauthorized")
            result = await self._route(request.method, path, request.query, body or {}, files)
        finally:
            await self._notify()
        if result is None:
            return web.Response(status=204)
        return _json(result)

    def _maybe_rate_limit(self, method: str, path: str) -> web.Response | None:
        for prefix, retry_after in list(self.rate_limit_once.items()):
            if f"{method} {path}".startswith(prefix):
                del self.rate_limit_once[prefix]
                self.rate_limited.append(f"{method} {path}")
                return _json(
                    {"message": "You are being rate limited.", "retry_after": retry_after,
                     "global": False},
                    status=429,
                    # discord.py treats a 429 without Via as a Cloudflare ban, not a rate limit.
                    headers={"Via": "1.1 google", "Retry-After": str(retry_after),
                             "X-RateLimit-Scope": "user"},
                )  # fmt: skip
        return None

    async def _route(
        self,
        method: str,
        path: str,
        query: Any,
        body: dict[str, Any],
        files: dict[str, bytes],
    ) -> Any:
        parts = path.strip("/").split("/")
        match method, parts:
            case "GET", ["users", "@me"]:
                return {**self.bot.payload(), "bot": True, "verified": True, "flags": 0,
                        "mfa_enabled": False}  # fmt: skip
            case "GET", ["oauth2", "applications", "@me"]:
                return self._application()
            case "GET", ["gateway", "bot"]:
                return {
                    "url": self.gateway_url,
                    "shards": self.recommended_shards,
                    "session_start_limit": {
                        "total": 1000, "remaining": 999, "reset_after": 0,
                        "max_concurrency": 1,
                    },
                }  # fmt: skip
            case "PUT", ["applications", app_id, "commands"]:
                self._check_app(app_id)
                self.global_commands = self._store_commands(body, None)  # type: ignore[arg-type]
                return self.global_commands
            case "PUT", ["applications", app_id, "guilds", guild_id, "commands"]:
                self._check_app(app_id)
                stored = self._store_commands(body, int(guild_id))  # type: ignore[arg-type]
                self.guild_commands[int(guild_id)] = stored
                return stored
            case "GET", ["applications", app_id, "commands"]:
                return self.global_commands
            case "POST", ["interactions", interaction_id, token, "callback"]:
                return self._interaction_callback(int(interaction_id), token, body, files)
            case "PATCH" | "GET" | "DELETE", ["webhooks", app_id, token, "messages", which]:
                self._check_app(app_id)
                return self._webhook_message(method, token, which, body, files)
            case "POST", ["webhooks", app_id, token]:
                self._check_app(app_id)
                return self._followup(token, body, files)
            case "POST", ["users", "@me", "channels"]:
                user_id = int(body["recipient_id"])
                user = FakeUser(user_id, f"user{user_id}")
                existing = self._dm_channels.get(user_id)
                return (existing or self.dm_channel(user)).payload()
            case "POST", ["channels", channel_id, "messages"]:
                channel = self.channel_by_id(int(channel_id))
                if channel is None:
                    raise DiscordError(404, 10003, "Unknown Channel")
                if (
                    channel.recipient is not None
                    and channel.recipient.id in self.unreachable_user_ids
                ):
                    raise DiscordError(403, 50007, "Cannot send messages to this user")
                return self._create_bot_message(channel, self._fields(body, files)).payload
            case "PATCH", ["channels", channel_id, "messages", message_id]:
                message = self.messages.get(int(message_id))
                if message is None or message.channel_id != int(channel_id) or message.ephemeral:
                    raise DiscordError(404, 10008, "Unknown Message")
                return self._edit_message(message, self._fields(body, files)).payload
        raise DiscordError(404, 0, f"404: Not Found ({method} {path})")

    def _application(self) -> dict[str, Any]:
        return {
            "id": str(APP_ID),
            "name": "Rounds",
            "description": "A study tutor",
            "icon": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": FakeUser(OWNER_ID, "owner").payload(),
            "verify_key": "0" * 64,
            "flags": 0,
            "team": None,
        }

    def _check_app(self, app_id: str) -> None:
        if int(app_id) != APP_ID:
            raise DiscordError(404, 10002, "Unknown Application")

    def _store_commands(
        self, commands: list[dict[str, Any]], guild_id: int | None
    ) -> list[dict[str, Any]]:
        stored = []
        for command in commands:
            entry = {
                **command,
                "id": str(self.next_id()),
                "application_id": str(APP_ID),
                "version": str(self.next_id()),
                "type": command.get("type", 1),
            }
            if guild_id is not None:
                entry["guild_id"] = str(guild_id)
            stored.append(entry)
        return stored

    def _interaction_by_token(self, token: str) -> FakeInteraction:
        for interaction in self.interactions.values():
            if interaction.token == token:
                return interaction
        raise DiscordError(404, 10015, "Unknown Webhook")

    def _interaction_callback(
        self, interaction_id: int, token: str, body: dict[str, Any], files: dict[str, bytes]
    ) -> dict[str, Any]:
        interaction = self.interactions.get(interaction_id)
        if interaction is None or interaction.token != token:
            raise DiscordError(404, 10062, "Unknown interaction")
        latency = time.monotonic() - interaction.dispatched_at
        if interaction.callbacks:
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        if latency > INTERACTION_DEADLINE_S:
            raise DiscordError(404, 10062, "Unknown interaction")
        kind = int(body["type"])
        data = body.get("data") or {}
        interaction.callbacks.append((kind, data, latency))
        flags = int(data.get("flags") or 0)
        message: FakeMessage | None = None
        if kind == MESSAGE:
            message = self._create_bot_message(
                interaction.channel, self._fields(data, files), flags=flags,
                interaction_id=interaction.id,
            )  # fmt: skip
            interaction.original_id = message.id
        elif kind == DEFERRED_MESSAGE:
            message = self._create_bot_message(
                interaction.channel, {}, flags=flags | LOADING, interaction_id=interaction.id
            )
            interaction.original_id = message.id
        elif kind in (DEFERRED_UPDATE, UPDATE_MESSAGE):
            if interaction.message_id is None:
                raise DiscordError(400, 40043, "Interaction is not a component interaction")
            interaction.original_id = interaction.message_id
            if kind == UPDATE_MESSAGE:
                message = self._edit_message(
                    self.messages[interaction.message_id], self._fields(data, files)
                )
        answer: dict[str, Any] = {
            "interaction": {
                "id": str(interaction.id),
                "type": interaction.kind,
                "response_message_id": str(message.id) if message else None,
                "response_message_loading": kind == DEFERRED_MESSAGE,
                "response_message_ephemeral": bool(flags & EPHEMERAL),
            }
        }
        if message is not None:
            answer["resource"] = {"type": kind, "message": message.payload}
        return answer

    def _webhook_message(
        self, method: str, token: str, which: str, body: dict[str, Any], files: dict[str, bytes]
    ) -> Any:
        interaction = self._interaction_by_token(token)
        if which == "@original":
            message_id = interaction.original_id
        else:
            message_id = int(which)
            if (
                message_id not in interaction.followup_ids
                and message_id != interaction.original_id
            ):
                raise DiscordError(404, 10008, "Unknown Message")
        if message_id is None or message_id not in self.messages:
            raise DiscordError(404, 10008, "Unknown Message")
        message = self.messages[message_id]
        if method == "GET":
            return message.payload
        if method == "DELETE":
            del self.messages[message_id]
            return None
        return self._edit_message(message, self._fields(body, files)).payload

    def _followup(self, token: str, body: dict[str, Any], files: dict[str, bytes]) -> Any:
        interaction = self._interaction_by_token(token)
        if not interaction.callbacks:
            raise DiscordError(404, 10015, "Unknown Webhook")
        flags = int(body.get("flags") or 0)
        message = self._create_bot_message(
            interaction.channel, self._fields(body, files), flags=flags,
            interaction_id=interaction.id,
        )  # fmt: skip
        interaction.followup_ids.append(message.id)
        return message.payload

    # -- the gateway ------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        self.gateway_paths.append(request.path)
        session = _GatewaySession(
            self, ws, zlib_stream=request.query.get("compress") == "zlib-stream"
        )
        self._sockets.append(session)
        try:
            await session.run()
        finally:
            self._sockets.remove(session)
            await self._notify()
        return ws


class _GatewaySession:
    """One bot connection: HELLO, IDENTIFY -> READY, heartbeats, then dispatches."""

    HEARTBEAT_INTERVAL_MS = 41_250

    def __init__(self, fake: FakeDiscord, ws: web.WebSocketResponse, *, zlib_stream: bool) -> None:
        self.fake = fake
        self.ws = ws
        self.sequence = 0
        self.identified = False
        self.session_id = f"session-{fake.next_id()}"
        # (shard id, shard count) from IDENTIFY, and the events this connection was sent.
        self.shard: tuple[int, int] | None = None
        self.received: list[dict[str, Any]] = []
        self._compressor = zlib.compressobj() if zlib_stream else None
        self._send_lock = asyncio.Lock()

    async def send(self, op: int, data: Any, event: str | None = None) -> None:
        async with self._send_lock:
            message: dict[str, Any] = {"op": op, "d": data, "s": None, "t": event}
            if op == 0:
                self.sequence += 1
                message["s"] = self.sequence
            raw = json.dumps(message).encode()
            if self._compressor is not None:
                frame = self._compressor.compress(raw) + self._compressor.flush(zlib.Z_SYNC_FLUSH)
                assert frame.endswith(ZLIB_SUFFIX)
                await self.ws.send_bytes(frame)
            else:
                await self.ws.send_str(raw.decode())

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        self.received.append({"t": event, **data})
        await self.send(0, data, event)

    async def run(self) -> None:
        await self.send(10, {"heartbeat_interval": self.HEARTBEAT_INTERVAL_MS})
        async for frame in self.ws:
            if frame.type != WSMsgType.TEXT:
                continue
            message = json.loads(frame.data)
            op, data = message.get("op"), message.get("d")
            if op == 1:
                await self.send(11, None)
            elif op == 2:
                await self._identify(data)
            elif op == 6:
                # Sessions are not kept across connections: ask for a fresh IDENTIFY.
                await self.send(9, False)

    async def _identify(self, data: dict[str, Any]) -> None:
        self.fake.identify_payloads.append(data)
        if data.get("token") != self.fake.token:
            await self.ws.close(code=4004, message=b"Authentication failed.")
            return
        refused = int(data.get("intents", 0)) & ~self.fake.allowed_privileged_intents
        if any(refused & bit for bit in PRIVILEGED_INTENTS.values()):
            await self.ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        if data.get("shard"):
            self.shard = (int(data["shard"][0]), int(data["shard"][1]))
        await self.dispatch(
            "READY",
            {
                **({"shard": list(self.shard)} if self.shard else {}),
                "v": 10,
                "user": {**self.fake.bot.payload(), "bot": True, "verified": True,
                         "mfa_enabled": False, "flags": 0},
                "guilds": [],
                "session_id": self.session_id,
                "resume_gateway_url": self.fake.gateway_url,
                "application": {"id": str(APP_ID), "flags": 0},
                "private_channels": [],
                "relationships": [],
            },
        )  # fmt: skip
        self.identified = True
        await self.fake._notify()


@asynccontextmanager
async def bot_running(
    fake: FakeDiscord, serve: Callable[[asyncio.Event], Awaitable[None]], within_s: float = 15.0
) -> AsyncIterator[asyncio.Task[None]]:
    """Runs `serve(stop)` until the bot has identified on the gateway; stops it on exit."""
    stop = asyncio.Event()
    identified = len(fake.identify_payloads)
    task = asyncio.create_task(serve(stop))

    def reconnected() -> bool:
        return fake.connected and len(fake.identify_payloads) > identified

    ready = asyncio.create_task(fake.wait_for(reconnected, within_s))
    done, _ = await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        ready.cancel()
        await task  # raises why the bot stopped
        raise RuntimeError("the bot stopped before connecting")
    await ready
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, within_s)
