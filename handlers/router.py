"""Dispatch: finds the handler for an event, runs it in one transaction, maps errors."""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from types import ModuleType

from sqlalchemy.ext.asyncio import AsyncSession

import handlers
from core.buttons import MalformedPayload, decode
from core.errors import RoundsError
from core.texts.commands import (
    CANNOT_READ_DOCUMENTS,
    COMMAND_CATALOGUE,
    GENERIC_FAILURE,
    SEE_HELP,
    UNKNOWN_COMMAND,
)
from handlers.context import Services, Turn
from handlers.personal import (
    PERSONAL_BUTTONS,
    PERSONAL_COMMANDS,
    parse_start_parameter,
    pointer_text,
    start_parameter,
)
from handlers.types import EventKind, Incoming, Reply, SentMessage, Tone
from storage.enums import ChatKind
from storage.repos.chats import ensure_membership, get_or_create_chat, group_scope, personal_scope
from storage.repos.users import get_or_create_user

log = logging.getLogger(__name__)

Handler = Callable[[Turn], Awaitable[list[Reply]]]
SentHook = Callable[[Services, SentMessage], Awaitable[None]]


# Actions that need a group admin: adapters ask the platform afresh (no cache) before them.
ADMIN_COMMANDS = frozenset({"stop_round"})
ADMIN_BUTTONS = frozenset({"matdel", "matok", "bkdy", "bkr", "bks"})


class PersonalInGroup(RoundsError):
    user_message = "That button is personal: it only works in your private chat with me."


def _handler_modules() -> list[ModuleType]:
    skip = {"router", "context", "types", "personal"}
    return [
        importlib.import_module(f"handlers.{info.name}")
        for info in pkgutil.iter_modules(handlers.__path__)
        if info.name not in skip and not info.name.startswith("_")
    ]


class Router:
    """Routes events to handler modules, which declare COMMANDS / BUTTONS / TEXT / ON_SENT."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.commands: dict[str, Handler] = {}
        self.buttons: dict[str, Handler] = {}
        self.text_handlers: list[Handler] = []
        self.document_handler: Handler | None = None
        self.sent_hooks: list[SentHook] = []
        for module in _handler_modules():
            self._register(module)

    def _register(self, module: ModuleType) -> None:
        commands: Mapping[str, Handler] = getattr(module, "COMMANDS", {})
        buttons: Mapping[str, Handler] = getattr(module, "BUTTONS", {})
        for table, new in ((self.commands, commands), (self.buttons, buttons)):
            clash = table.keys() & new.keys()
            if clash:
                raise RuntimeError(f"{module.__name__} re-registers {sorted(clash)}")
            table.update(new)
        if text := getattr(module, "TEXT", None):
            self.text_handlers.append(text)
        if document := getattr(module, "DOCUMENT", None):
            self.document_handler = document
        if on_sent := getattr(module, "ON_SENT", None):
            self.sent_hooks.append(on_sent)

    @property
    def menu(self) -> list[tuple[str, str]]:
        """The catalogue entries that have a handler right now, for /help and platform menus."""
        return [(name, line) for name, line in COMMAND_CATALOGUE if name in self.commands]

    async def route(self, incoming: Incoming) -> list[Reply]:
        """Handles one event in one transaction; a user error becomes one friendly reply."""
        try:
            incoming = _replayed(incoming)
            handler = self._handler_for(incoming)
            if handler is None:
                return self._fallback(incoming)
            if incoming.chat.kind is ChatKind.GROUP:
                pointer = _personal_pointer(incoming)
                if pointer is not None:
                    return [pointer]
            async with self.services.db.session() as session:
                turn = await self._open_turn(incoming, session)
                return await handler(turn)
        except RoundsError as error:
            log.info("user error %s on %s", error.reason, incoming.kind)
            return [
                Reply(
                    error.user_message,
                    tone=Tone.WARNING,
                    is_alert=incoming.kind is EventKind.BUTTON,
                    ephemeral=incoming.kind is EventKind.BUTTON,
                )
            ]
        except Exception:
            log.exception("handler failed for %s /%s", incoming.kind, incoming.command)
            return [Reply(GENERIC_FAILURE, tone=Tone.BAD)]

    async def message_sent(self, sent: SentMessage) -> None:
        """Adapters call this after delivering a tracked reply (stores sent_at, message id)."""
        for hook in self.sent_hooks:
            try:
                await hook(self.services, sent)
            except Exception:
                log.exception("sent hook failed for %s", sent.track)

    def _handler_for(self, incoming: Incoming) -> Handler | None:
        match incoming.kind:
            case EventKind.COMMAND:
                return self.commands.get(incoming.command.lower())
            case EventKind.BUTTON:
                action = decode(incoming.payload).action
                handler = self.buttons.get(action)
                if handler is None:
                    raise MalformedPayload(reason=f"unknown action {action}")
                return handler
            case EventKind.DOCUMENT:
                return self.document_handler
            case EventKind.TEXT:
                return self.text_handlers[0] if self.text_handlers else None
        return None

    def _fallback(self, incoming: Incoming) -> list[Reply]:
        if incoming.kind is EventKind.COMMAND:
            return [Reply(UNKNOWN_COMMAND.format(command=incoming.command))]
        if incoming.kind is EventKind.DOCUMENT:
            return [Reply(CANNOT_READ_DOCUMENTS, tone=Tone.WARNING)]
        if incoming.chat.kind is ChatKind.GROUP:
            return []  # privacy: in groups Rounds only reacts to commands and its own buttons
        return [Reply(SEE_HELP)]

    async def _open_turn(self, incoming: Incoming, session: AsyncSession) -> Turn:
        user = await get_or_create_user(
            session, incoming.platform, incoming.user.external_id, incoming.user.display_name
        )
        chat = await get_or_create_chat(
            session,
            incoming.platform,
            incoming.chat.external_id,
            incoming.chat.kind,
            incoming.chat.title,
        )
        await ensure_membership(session, user, chat, is_admin=incoming.user.is_admin)
        # The student just reached us, so a block that made pushes fail is over.
        if user.unreachable:
            user.unreachable = False
        if incoming.chat.kind is ChatKind.PRIVATE:
            if not user.notify_address:
                user.notify_address = incoming.chat.external_id
            scope = await personal_scope(session, user)
        else:
            scope = await group_scope(session, chat)
        return Turn(incoming, self.services, session, user, chat, scope, tuple(self.menu))


def _replayed(incoming: Incoming) -> Incoming:
    """`/start <parameter>` in a private chat (a group pointer's deep link) -> the command."""
    if (
        incoming.kind is not EventKind.COMMAND
        or incoming.command.lower() != "start"
        or incoming.chat.kind is not ChatKind.PRIVATE
        or len(incoming.args) != 1
    ):
        return incoming
    parsed = parse_start_parameter(incoming.args[0])
    if parsed is None:
        return incoming
    command, args = parsed
    return replace(incoming, command=command, args=args, text=" ".join((f"/{command}", *args)))


def _personal_pointer(incoming: Incoming) -> Reply | None:
    """In a group: a pointer instead of a personal answer; a personal button is refused."""
    if incoming.kind is EventKind.COMMAND:
        command = incoming.command.lower()
        if command in PERSONAL_COMMANDS:
            return Reply(
                pointer_text(command),
                open_private=start_parameter(command, incoming.args),
            )
    if incoming.kind is EventKind.BUTTON and decode(incoming.payload).action in PERSONAL_BUTTONS:
        raise PersonalInGroup(reason="personal button pressed in a group")
    return None
