"""What a handler gets: the process-wide services and this event's unit of work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.embed import Embedder
from core.generation_jobs import GenerationJobs
from core.offload import Offload
from core.rounds import RoundTimer
from core.settings import Settings
from handlers.types import Incoming, Outbox
from storage.db import Database
from storage.enums import Platform
from storage.files import FileStore
from storage.models import Chat, Scope, User
from storage.vector_index import VectorIndexes


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    """Long-lived collaborators, built once in bot/app.py and shared by every event."""

    settings: Settings
    db: Database
    clock: Callable[[], datetime] = system_clock
    # Materials: the embedding model (loads on first use), per-scope FAISS indexes, uploads.
    embedder: Embedder | None = None
    indexes: VectorIndexes | None = None
    files: FileStore | None = None
    # Group-round timers (scheduler/rounds.py); None where no scheduler runs (console).
    round_timers: RoundTimer | None = None
    # Where CPU-heavy work runs (core/offload.py); None: this process's threads.
    offload: Offload | None = None
    # Background question writing (core/generation_jobs.py); None: callers generate inline.
    jobs: GenerationJobs | None = None
    # How a finished job reaches a chat, per platform (each adapter registers its own).
    outboxes: dict[Platform, Outbox] = field(default_factory=dict)


@dataclass
class Turn:
    """One incoming event being handled: its own DB session, committed once at the end."""

    incoming: Incoming
    services: Services
    session: AsyncSession
    user: User
    chat: Chat
    # The student's own scope in a private chat, the group's scope in a group chat.
    scope: Scope
    # (command, description) pairs that have a handler, for /help.
    menu: tuple[tuple[str, str], ...] = ()

    @property
    def now(self) -> datetime:
        return self.incoming.received_at

    @property
    def in_group(self) -> bool:
        return self.scope.chat_id is not None
