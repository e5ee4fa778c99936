"""Start-up wiring: settings -> logging -> database (migrated) -> services -> router."""

from __future__ import annotations

import logging
import os
import traceback
from dataclasses import dataclass, field
from functools import partial

from core.embed import embedder_for
from core.generation_jobs import GenerationJobs
from core.housekeeping import sweep_orphans
from core.offload import embedder_here, offload_for
from core.ratelimit import EventLimiter, Rate
from core.settings import Settings
from handlers import generation
from handlers.context import Services
from handlers.router import Router
from storage.db import Database
from storage.enums import Platform
from storage.files import FileStore
from storage.vector_index import VectorIndexes

log = logging.getLogger(__name__)


@dataclass
class App:
    settings: Settings
    services: Services
    router: Router
    # Each running adapter registers how to push a message to its users (scheduler/).
    notifiers: dict[Platform, object] = field(default_factory=dict)
    # Incoming-event limits per user and per chat, checked by the adapters.
    limiter: EventLimiter | None = None

    async def close(self) -> None:
        if self.services.jobs is not None:
            await self.services.jobs.close()
        if self.services.offload is not None:
            await self.services.offload.close()
        await self.services.db.dispose()


def exception_without_text(error: BaseException) -> str:
    """A logged exception as its frames and type names only: an exception's message may
    quote a student's text, SQL parameters or a token, so it is never written out."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = "".join(traceback.format_tb(current.__traceback__))
        name = f"{type(current).__module__}.{type(current).__qualname__}"
        parts.insert(0, f"Traceback (most recent call last):\n{frames}{name} (text withheld)")
        current = current.__cause__ or current.__context__
    return "\n\nwhich led to:\n\n".join(parts)


class SecretRedactor(logging.Filter):
    """Blanks secrets (bot tokens, API keys, the database password) out of every log line,
    and writes logged exceptions without their message text."""

    def __init__(self, secrets: list[str], *, withhold_exception_text: bool = True) -> None:
        super().__init__()
        self.secrets = [secret for secret in secrets if secret]
        self.withhold_exception_text = withhold_exception_text

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "<secret>")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and record.exc_info[1] is not None:
            if self.withhold_exception_text:
                text = exception_without_text(record.exc_info[1])
            else:
                text = logging.Formatter().formatException(record.exc_info)
            record.exc_info, record.exc_text = None, self.redact(text)
        elif record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level_number,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx logs every request URL at INFO, and Telegram URLs contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # aiosqlite logs every statement with its parameters at DEBUG (a student's own text).
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
    # For the whole run, not per adapter: a failure after an adapter stopped is logged too.
    redactor = SecretRedactor(settings.secret_values())
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)


async def build_app(
    settings: Settings | None = None, services: Services | None = None, *, job_worker: bool = False
) -> App:
    """Builds a ready-to-serve app: the schema is migrated before the first event.

    `job_worker` (the `worker` role) works the PostgreSQL job queue even when
    ROUNDS_JOBS_IN_BOT leaves it to a separate worker."""
    settings = settings or Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if services is None:
        db = Database(settings.database_url)
        services = Services(settings=settings, db=db)
    _add_material_services(services)
    await services.db.migrate()
    assert services.files is not None
    swept = await sweep_orphans(
        services.db, files=services.files, indexes=services.indexes, data_dir=settings.data_dir
    )
    if swept.uploads or swept.indexes or swept.charts:
        log.info(
            "start-up sweep removed %d orphaned uploads, %d index files, %d chart folders",
            len(swept.uploads), len(swept.indexes), len(swept.charts),
        )  # fmt: skip
    await _add_generation_jobs(services, work=job_worker or settings.jobs_in_bot)
    limiter = limiter_for(settings)
    return App(settings=settings, services=services, router=Router(services), limiter=limiter)


def limiter_for(settings: Settings) -> EventLimiter:
    return EventLimiter(
        user=Rate(settings.rate_user_burst, settings.rate_user_per_minute),
        chat=Rate(settings.rate_chat_burst, settings.rate_chat_per_minute),
    )


async def _add_generation_jobs(services: Services, *, work: bool = True) -> None:
    """Background question writing; its heartbeat also picks up a stopped process's runs."""
    if services.jobs is not None:
        return
    services.jobs = jobs = GenerationJobs.build(
        db=services.db, settings=services.settings, embedder=services.embedder,
        indexes=services.indexes, clock=lambda: services.clock(), offload=services.offload,
    )  # fmt: skip
    jobs.resume = partial(generation.resume, services)
    jobs.abandoned = partial(generation.abandoned, services)
    jobs.reports_for = partial(generation.reports_for, services)
    await jobs.start(work=work)


def _add_material_services(services: Services) -> None:
    """Fills in the materials collaborators a caller did not supply; the embedding model
    itself loads only on the first embed, never at start-up."""
    settings = services.settings
    if services.embedder is None:
        offline_environment()
        if services.offload is None:
            model = embedder_for(settings)
            services.offload = offload_for(model, workers=settings.cpu_workers)
        # With worker processes the model is loaded only there (a click process's memory).
        services.embedder = embedder_here(services.offload)
    if services.indexes is None:
        services.indexes = VectorIndexes(settings.data_dir, dim=services.embedder.dim)
    if services.files is None:
        services.files = FileStore(settings.data_dir)
    if services.offload is None:
        services.offload = offload_for(services.embedder, workers=settings.cpu_workers)


def offline_environment() -> None:
    """Rounds never reaches a model hub at run time; embeddings come from local packages."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
