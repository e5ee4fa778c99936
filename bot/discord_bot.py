"""The tutor on Discord (discord.py 2.x): slash commands and persistent buttons in, embeds out.

`serve(app, stop)` logs in, syncs one slash command per handler command (to one guild when
ROUNDS_DISCORD_GUILD_ID is set), registers the payload buttons, and translates interactions
and DMs into `Incoming` events for the router. Every interaction is acknowledged within
Discord's 3-second deadline: long work defers at once, anything else as soon as it takes
longer than ACK_DEADLINE_S. In a server channel private study is ephemeral; in DMs it is
ordinary messages. It also registers the Discord `Notifier` the scheduler pushes through.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, Literal, TypeVar

import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.app import App
from bot.discord_render import (
    ChannelSender,
    InteractionReplier,
    PayloadButton,
    Sender,
    in_server,
    render,
)
from core.buttons import Button
from core.ratelimit import SLOW_DOWN_TEXT, Verdict
from core.settings import Settings
from core.texts import personal
from core.texts.commands import COMMAND_CATALOGUE
from core.upload_errors import TooLarge
from handlers.materials import is_picture, picture_album
from handlers.router import Router
from handlers.types import (
    Actor,
    ChatRef,
    Document,
    EventKind,
    Incoming,
    Reply,
    SentMessage,
    Tone,
)
from scheduler.notifier import RecipientUnreachable
from storage.enums import ChatKind, Platform

log = logging.getLogger(__name__)

# Discord drops an interaction not answered within 3 s; leave room for the callback's trip.
ACK_DEADLINE_S = 2.0
# Commands that ingest or generate: acknowledged before any work starts.
LONG_COMMANDS = frozenset({"upload", "quiz", "review", "round", "export"})
# In a server channel these are for everyone to see; every other command is the student's own.
PUBLIC_IN_SERVERS = frozenset({"upload", "round", "leaderboard", "stop_round"})
SHUTDOWN_GRACE_S = 10.0
# Discord JSON error codes the notifier maps to "this recipient can never be reached".
UNKNOWN_CHANNEL, UNKNOWN_USER, MISSING_ACCESS, CANNOT_DM_USER = 10003, 10013, 50001, 50007
UNREACHABLE_CODES = frozenset({UNKNOWN_USER, MISSING_ACCESS, CANNOT_DM_USER})

T = TypeVar("T")


def discord_intents() -> discord.Intents:
    """No privileged intents: interactions arrive whatever the intents; DMs carry content."""
    intents = discord.Intents.none()
    intents.guilds = True  # discord.py's channel and permission state is built on it
    intents.dm_messages = True  # a PDF dropped into the bot's DM is an upload
    return intents


@contextmanager
def discord_endpoints(settings: Settings) -> Iterator[None]:
    """Points discord.py at DISCORD_API_BASE_URL / DISCORD_GATEWAY_URL while serving.

    discord.py reads both from class attributes (`Route.BASE`, the gateway's
    `DEFAULT_GATEWAY`), so they are process-wide: one process talks to one Discord.
    """
    saved = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    Route.BASE = settings.discord_api_base_url.rstrip("/")
    if settings.discord_gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)
    try:
        yield
    finally:
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved


class RoundsDiscord(discord.AutoShardedClient):
    """This process's Discord shards (one gateway connection each) serving the app's router.

    ROUNDS_DISCORD_SHARD_COUNT / ROUNDS_DISCORD_SHARD_IDS split the shards between processes
    (e.g. 2 shards: ids 0 in one worker, 1 in the other); Discord routes a guild's events to
    shard (guild_id >> 22) % count and DMs to shard 0. Unset, the count is Discord's
    recommendation, all of them here (1 when DISCORD_GATEWAY_URL points elsewhere).
    """

    def __init__(self, app: App) -> None:
        settings = app.settings
        super().__init__(
            intents=discord_intents(),
            shard_count=settings.discord_shard_count
            or (1 if settings.discord_gateway_url else None),
            shard_ids=settings.discord_shard_ids,
        )
        self.app = app
        self.tree = app_commands.CommandTree(self)
        self._in_flight: set[asyncio.Task[Any]] = set()

    # -- start-up -----------------------------------------------------------------------

    async def setup_hook(self) -> None:
        self.add_dynamic_items(PayloadButton)
        for name, description in slash_commands(self.app.router):
            shape = COMMAND_SHAPES.get(name, _plain)
            self.tree.add_command(
                app_commands.Command(
                    name=name, description=description[:100], callback=shape(self, name)
                )
            )
        if not self.app.settings.discord_gateway_url:
            # Asked here, not by discord.py, so that a proxy or fake API can announce its own
            # gateway also when the shard count is set (Discord answers with its default).
            shards, url, _limits = await self.http.get_bot_gateway()
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
            if self.shard_count is None:
                self.shard_count = shards
        await self._sync_commands()

    async def _sync_commands(self) -> None:
        guild_id = self.app.settings.discord_guild_id
        try:
            if guild_id:
                guild = discord.Object(guild_id)
                self.tree.copy_global_to(guild=guild)
                synced = await self.tree.sync(guild=guild)
            else:
                synced = await self.tree.sync()
        except discord.HTTPException:
            log.exception("slash command sync failed; Discord keeps the previous commands")
            return
        log.info("synced %d slash commands (%s)", len(synced), guild_id or "global")

    # -- incoming -----------------------------------------------------------------------

    async def on_command(
        self, interaction: discord.Interaction, name: str, args: Sequence[str] = ()
    ) -> None:
        if not await self._admitted(interaction):
            return
        text = " ".join([f"/{name}", *args])
        incoming = self._incoming(
            interaction, EventKind.COMMAND, command=name, args=tuple(args), text=text
        )
        private = in_server(interaction) and name not in PUBLIC_IN_SERVERS
        await self._answer(interaction, incoming, private=private, long_work=name in LONG_COMMANDS)

    async def on_upload(self, interaction: discord.Interaction, file: discord.Attachment) -> None:
        if not await self._admitted(interaction):
            return
        private = in_server(interaction) and "upload" not in PUBLIC_IN_SERVERS
        limit = self.app.settings.max_upload_bytes
        if file.size > limit:  # refused before a single byte is downloaded
            replier = InteractionReplier(interaction, private=private)
            too_large = TooLarge(size_bytes=file.size, max_bytes=limit).user_message
            await self._deliver(replier, [Reply(too_large, tone=Tone.WARNING)])
            return
        incoming = self._incoming(interaction, EventKind.DOCUMENT, document=_document(file))
        await self._answer(interaction, incoming, private=private, long_work=True)

    async def on_button(self, interaction: discord.Interaction, payload: str) -> None:
        if not await self._admitted(interaction):
            return
        message = interaction.message
        # A button answers the way its message was shown: ephemeral stays ephemeral.
        private = bool(message is not None and message.flags.ephemeral)
        incoming = self._incoming(
            interaction,
            EventKind.BUTTON,
            payload=payload,
            message_ref=str(message.id) if message is not None else "",
        )
        await self._answer(interaction, incoming, private=private, long_work=False)

    async def on_message(self, message: discord.Message) -> None:
        """Direct messages: a PDF is an upload, `/word args` a command, anything else text."""
        if message.author.bot or message.guild is not None:
            return
        if not await self._admitted_message(message):
            return
        with self._tracked():
            sender = ChannelSender(message.channel)
            chat = ChatRef(str(message.channel.id), ChatKind.PRIVATE, "DM")
            fields: dict[str, Any]
            if message.attachments:
                # Several pictures in one message are one material; otherwise the first file.
                pictures = [
                    a for a in message.attachments if is_picture(a.content_type or "", a.filename)
                ]
                sent = pictures if len(pictures) > 1 else message.attachments[:1]
                limit = self.app.settings.max_upload_bytes
                largest = max(sent, key=lambda attachment: attachment.size)
                if largest.size > limit:
                    too_large = TooLarge(size_bytes=largest.size, max_bytes=limit)
                    await self._deliver(sender, [Reply(too_large.user_message, tone=Tone.WARNING)])
                    return
                document = picture_album(
                    [_document(attachment) for attachment in sent],
                    name=f"photos {message.id}",
                    max_megapixels=self.app.settings.max_image_megapixels,
                )
                fields = {"kind": EventKind.DOCUMENT, "document": document}
            elif message.content.startswith("/") and len(message.content) > 1:
                command, args = _split_command(message.content)
                fields = {"kind": EventKind.COMMAND, "command": command, "args": args}
            else:
                fields = {"kind": EventKind.TEXT}
            incoming = Incoming(
                platform=Platform.DISCORD,
                user=Actor(str(message.author.id), message.author.display_name),
                chat=chat,
                received_at=self.app.services.clock(),
                text=message.content,
                message_ref=str(message.id),
                progress=sender.progress,
                **fields,
            )
            await self._deliver(sender, await self.app.router.route(incoming))

    def _verdict(self, user_id: int, chat_id: int | None) -> Verdict:
        limiter = self.app.limiter
        if limiter is None:
            return Verdict.ALLOW
        return limiter.check(str(user_id), str(chat_id or user_id))

    async def _admitted(self, interaction: discord.Interaction) -> bool:
        """Per-user and per-chat rate limits: a refused interaction is dropped; the first of
        a run gets one ephemeral "slow down"."""
        verdict = self._verdict(interaction.user.id, interaction.channel_id)
        if verdict is Verdict.WARN:
            try:
                await interaction.response.send_message(SLOW_DOWN_TEXT, ephemeral=True)
            except discord.HTTPException:
                log.info("slow-down notice not delivered")
        return verdict is Verdict.ALLOW

    async def _admitted_message(self, message: discord.Message) -> bool:
        verdict = self._verdict(message.author.id, message.channel.id)
        if verdict is Verdict.WARN:
            try:
                await message.channel.send(SLOW_DOWN_TEXT)
            except discord.HTTPException:
                log.info("slow-down notice not delivered")
        return verdict is Verdict.ALLOW

    def _incoming(
        self, interaction: discord.Interaction, kind: EventKind, **fields: Any
    ) -> Incoming:
        user = interaction.user
        if in_server(interaction):
            permissions = interaction.permissions
            is_admin = permissions.administrator or permissions.manage_guild
            title = getattr(interaction.channel, "name", "") or ""
            chat = ChatRef(
                str(interaction.channel_id), ChatKind.GROUP, f"#{title}" if title else ""
            )
        else:
            is_admin = False
            chat = ChatRef(str(interaction.channel_id), ChatKind.PRIVATE, "DM")
        return Incoming(
            platform=Platform.DISCORD,
            user=Actor(str(user.id), user.display_name, is_admin=is_admin),
            chat=chat,
            kind=kind,
            received_at=self.app.services.clock(),
            **fields,
        )

    async def _answer(
        self,
        interaction: discord.Interaction,
        incoming: Incoming,
        *,
        private: bool,
        long_work: bool,
    ) -> None:
        """Routes one interaction, acknowledging it in time, then delivers the replies."""
        with self._tracked():
            replier = InteractionReplier(interaction, private=private)
            if long_work:
                await replier.acknowledge()
            incoming = _with_progress(incoming, replier.progress)
            route = asyncio.create_task(self.app.router.route(incoming))
            done, _ = await asyncio.wait({route}, timeout=ACK_DEADLINE_S)
            if not done:
                await replier.acknowledge()
            replies = await route
            pointer = next((reply for reply in replies if reply.open_private), None)
            if pointer is not None:
                replies = [await self._answer_in_dm(interaction, incoming, pointer)]
            elif in_server(interaction) and any(reply.to_private for reply in replies):
                replies = await self._delivered_in_dm(interaction, incoming, replies)
            await self._deliver(replier, replies)

    async def _answer_in_dm(
        self, interaction: discord.Interaction, asked: Incoming, pointer: Reply
    ) -> Reply:
        """A personal command used in a server channel: it runs in the student's DMs (as
        they typed it: no link is involved), and the channel gets only the ephemeral pointer."""
        command, args = asked.command, asked.args
        try:
            dm = await self.create_dm(interaction.user)
        except discord.HTTPException:
            log.info("could not open a DM for a personal command")
            return Reply(
                personal.DM_CLOSED.format(command=command), tone=Tone.WARNING, ephemeral=True
            )
        sender = ChannelSender(dm)
        incoming = Incoming(
            platform=Platform.DISCORD,
            user=Actor(str(interaction.user.id), interaction.user.display_name),
            chat=ChatRef(str(dm.id), ChatKind.PRIVATE, "DM"),
            kind=EventKind.COMMAND,
            received_at=self.app.services.clock(),
            command=command,
            args=args,
            text=" ".join((f"/{command}", *args)),
            progress=sender.progress,
        )
        await self._deliver(sender, await self.app.router.route(incoming))
        return Reply(
            personal.IN_OUR_DMS.format(text=pointer.text, link=_dm_link(dm)), ephemeral=True
        )

    async def _delivered_in_dm(
        self, interaction: discord.Interaction, asked: Incoming, replies: list[Reply]
    ) -> list[Reply]:
        """A server channel's `to_private` replies go to the student's DMs; the channel gets
        an ephemeral line saying where, or that DMs are closed."""
        private = [reply for reply in replies if reply.to_private]
        rest = [reply for reply in replies if not reply.to_private]
        try:
            dm = await self.create_dm(interaction.user)
            sender = ChannelSender(dm)
            for reply in sender.in_delivery_order(private):
                await sender.send(reply)
        except discord.HTTPException:
            log.info("could not deliver a private reply in a DM")
            closed = personal.DM_CLOSED_FOR_GROUP.format(command=asked.command)
            return [*rest, Reply(closed, tone=Tone.WARNING, ephemeral=True)]
        sent = personal.IN_OUR_DMS.format(text=personal.SENT_PRIVATELY, link=_dm_link(dm))
        return [*rest, Reply(sent, ephemeral=True)]

    async def _deliver(self, sender: Sender, replies: list[Reply]) -> None:
        try:
            for reply in sender.in_delivery_order(replies):
                message_ref = await sender.send(reply)
                if reply.track:
                    sent = SentMessage(reply.track, message_ref, self.app.services.clock())
                    await self.app.router.message_sent(sent)
        except discord.HTTPException:
            # Later replies would arrive out of context; the student can simply retry.
            log.exception("could not deliver a reply")
        finally:
            await sender.finish()

    # -- shutdown -----------------------------------------------------------------------

    @contextmanager
    def _tracked(self) -> Iterator[None]:
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        try:
            yield
        finally:
            if task is not None:
                self._in_flight.discard(task)

    async def drain(self, grace_s: float) -> None:
        """Lets events being handled finish (their replies sent) before the client closes."""
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=grace_s)


# -- the scheduler's way in -----------------------------------------------------------------


class DiscordOutbox:
    """Posts a background job's replies (progress edits, the quiz it started) in a channel."""

    def __init__(self, client: RoundsDiscord) -> None:
        self.client = client

    async def post(self, chat_address: str, replies: Sequence[Reply]) -> None:
        sender = ChannelSender(self.client.get_partial_messageable(int(chat_address)))
        await self.client._deliver(sender, list(replies))


class DiscordNotifier:
    """Pushes messages (with buttons) to a DM or a server channel; see scheduler/notifier.py.

    `address` is a channel id (a user's DM channel, a server channel) or, for someone who
    never opened a DM with the bot, their user id: then the DM is opened first.
    """

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    @property
    def platform(self) -> Platform:
        return Platform.DISCORD

    async def send(self, address: str, text: str, buttons: Sequence[Sequence[Button]] = ()) -> str:
        rendered = render(Reply(text, buttons=_button_rows(buttons)))

        async def post(channel: discord.abc.Messageable) -> discord.Message:
            return await channel.send(**rendered.new_message())

        message = await self._in_channel(address, post)
        return str(message.id)

    async def edit(
        self,
        address: str,
        message_ref: str,
        text: str,
        buttons: Sequence[Sequence[Button]] = (),
    ) -> None:
        rendered = render(Reply(text, buttons=_button_rows(buttons)))

        async def change(channel: discord.abc.Messageable) -> None:
            await channel.get_partial_message(int(message_ref)).edit(**rendered.edit())  # type: ignore[attr-defined]

        await self._in_channel(address, change)

    async def _in_channel(
        self, address: str, action: Callable[[discord.abc.Messageable], Awaitable[T]]
    ) -> T:
        try:
            try:
                return await action(self.client.get_partial_messageable(int(address)))
            except discord.NotFound as error:
                if error.code != UNKNOWN_CHANNEL:
                    raise
            # Not a channel: a user id. Discord returns the existing DM if there is one.
            dm = await self.client.create_dm(discord.Object(int(address)))
            return await action(dm)
        except discord.HTTPException as error:
            if error.code in UNREACHABLE_CODES or error.code == UNKNOWN_CHANNEL:
                raise RecipientUnreachable(address, error.text or str(error.code)) from error
            raise


# -- slash commands -------------------------------------------------------------------------

CommandCallback = Callable[..., Awaitable[None]]


def _plain(client: RoundsDiscord, name: str) -> CommandCallback:
    async def command(interaction: discord.Interaction) -> None:
        await client.on_command(interaction, name)

    return command


def _quiz(client: RoundsDiscord, name: str) -> CommandCallback:
    @app_commands.describe(topic="A topic from your material (empty: everything)", n="Questions")
    async def command(
        interaction: discord.Interaction,
        topic: str | None = None,
        n: app_commands.Range[int, 1, None] | None = None,
    ) -> None:
        await client.on_command(interaction, name, _words(topic, n))

    return command


def _upload(client: RoundsDiscord, name: str) -> CommandCallback:
    @app_commands.describe(file="A PDF, .pptx or .docx file, or a photo of a page")
    async def command(interaction: discord.Interaction, file: discord.Attachment) -> None:
        await client.on_upload(interaction, file)

    return command


def _topics(client: RoundsDiscord, name: str) -> CommandCallback:
    @app_commands.describe(material="The material's number in /materials (empty: all)")
    async def command(
        interaction: discord.Interaction, material: app_commands.Range[int, 1, None] | None = None
    ) -> None:
        await client.on_command(interaction, name, _words(material))

    return command


def _settings(client: RoundsDiscord, name: str) -> CommandCallback:
    @app_commands.describe(change="e.g. `reminder 7:30`, `tz Europe/Berlin`, `goal 20`, `pause`")
    async def command(interaction: discord.Interaction, change: str | None = None) -> None:
        await client.on_command(interaction, name, _split_args(change or ""))

    return command


def _round(client: RoundsDiscord, name: str) -> CommandCallback:
    @app_commands.describe(
        topic="Topic (empty: everything)", n="Questions", seconds="Per question"
    )
    async def command(
        interaction: discord.Interaction,
        topic: str | None = None,
        n: app_commands.Range[int, 1, None] | None = None,
        seconds: app_commands.Range[int, 1, None] | None = None,
    ) -> None:
        # "30s" is always read as seconds, even when no question count is given.
        timer = f"{seconds}s" if seconds is not None else None
        await client.on_command(interaction, name, _words(topic, n, timer))

    return command


def _leaderboard(client: RoundsDiscord, name: str) -> CommandCallback:
    @app_commands.describe(period="This week or all time")
    async def command(
        interaction: discord.Interaction, period: Literal["week", "all"] | None = None
    ) -> None:
        await client.on_command(interaction, name, _words(period))

    return command


COMMAND_SHAPES: dict[str, Callable[[RoundsDiscord, str], CommandCallback]] = {
    "quiz": _quiz,
    "upload": _upload,
    "topics": _topics,
    "settings": _settings,
    "round": _round,
    "leaderboard": _leaderboard,
}


def slash_commands(router: Router) -> list[tuple[str, str]]:
    """The router's menu; /upload too whenever documents have a handler (the attachment)."""
    menu = list(router.menu)
    if router.document_handler is not None and "upload" not in dict(menu):
        menu.insert(min(2, len(menu)), ("upload", dict(COMMAND_CATALOGUE)["upload"]))
    return menu


# -- small translations ---------------------------------------------------------------------


def _document(attachment: discord.Attachment) -> Document:
    return Document(
        filename=attachment.filename,
        size=attachment.size,
        read=attachment.read,
        mime_type=attachment.content_type or "",
    )


def _with_progress(incoming: Incoming, progress: Callable[[str], Awaitable[None]]) -> Incoming:
    return replace(incoming, progress=progress)


def _words(*values: object) -> tuple[str, ...]:
    """Slash options as the words a student would type after the command."""
    return tuple(word for value in values if value is not None for word in str(value).split())


def _split_args(text: str) -> tuple[str, ...]:
    try:
        return tuple(shlex.split(text))
    except ValueError:
        return tuple(text.split())


def _split_command(text: str) -> tuple[str, tuple[str, ...]]:
    words = _split_args(text[1:])
    return (words[0].lower(), words[1:]) if words else ("help", ())


def _dm_link(dm: discord.DMChannel) -> str:
    return f"https://discord.com/channels/@me/{dm.id}"


def _button_rows(rows: Sequence[Sequence[Button]]) -> tuple[tuple[Button, ...], ...]:
    return tuple(tuple(row) for row in rows)


# -- entry point ----------------------------------------------------------------------------


async def serve(app: App, stop: asyncio.Event) -> None:
    """Serves Discord until `stop` is set; in-flight events finish before the client closes."""
    token = app.settings.discord_bot_token
    if token is None or not token.get_secret_value():
        raise RuntimeError("DISCORD_BOT_TOKEN is not set")
    with discord_endpoints(app.settings):
        client = RoundsDiscord(app)
        app.notifiers[Platform.DISCORD] = DiscordNotifier(client)
        app.services.outboxes[Platform.DISCORD] = DiscordOutbox(client)
        runner = asyncio.create_task(client.start(token.get_secret_value()))
        stopper = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
            await client.drain(SHUTDOWN_GRACE_S)
            await client.close()
            app.notifiers.pop(Platform.DISCORD, None)
            app.services.outboxes.pop(Platform.DISCORD, None)
        await runner  # a failed login or a refused intent surfaces here
