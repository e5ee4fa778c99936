"""Start-up wiring: settings -> logging -> database (migrated) -> services -> router."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from functools import partial

from core.embed import embedder_for
from core.generation_jobs import GenerationJobs
from core.settings import Settings
from handlers import generation
from handlers.context import Services
from handlers.router import Router
from storage.db import Database
from storage.enums import Platform
from storage.files import FileStore
from storage.vector_index import VectorIndexes


@dataclass
class App:
    settings: Settings
    services: Services
    router: Router
    # Each running adapter registers how to push a message to its users (scheduler/).
    notifiers: dict[Platform, object] = field(default_factory=dict)

    async def close(self) -> None:
        if self.services.jobs is not None:
            await self.services.jobs.close()
        await self.services.db.dispose()


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level_number,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx logs every request URL at INFO, and Telegram URLs contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)


async def build_app(settings: Settings | None = None, services: Services | None = None) -> App:
    """Builds a ready-to-serve app: the schema is migrated before the first event."""
    settings = settings or Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if services is None:
        db = Database(settings.database_url)
        services = Services(settings=settings, db=db)
    _add_material_services(services)
    await services.db.migrate()
    _add_generation_jobs(services)
    return App(settings=settings, services=services, router=Router(services))


def _add_generation_jobs(services: Services) -> None:
    """Background question writing; its heartbeat also picks up a stopped process's runs."""
    if services.jobs is not None:
        return
    services.jobs = jobs = GenerationJobs.build(
        db=services.db, settings=services.settings, embedder=services.embedder,
        indexes=services.indexes, clock=lambda: services.clock(),
    )  # fmt: skip
    jobs.resume = partial(generation.resume, services)
    jobs.abandoned = partial(generation.abandoned, services)
    jobs.start()


def _add_material_services(services: Services) -> None:
    """Fills in the materials collaborators a caller did not supply; the embedding model
    itself loads only on the first embed, never at start-up."""
    settings = services.settings
    if services.embedder is None:
        offline_environment()
        services.embedder = embedder_for(settings)
    if services.indexes is None:
        services.indexes = VectorIndexes(settings.data_dir, dim=services.embedder.dim)
    if services.files is None:
        services.files = FileStore(settings.data_dir)


def offline_environment() -> None:
    """Rounds never reaches a model hub at run time; embeddings come from local packages."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
