"""Shared fixtures: settings in a temp data dir, a migrated SQLite database, PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from bench.corpus import shared_data_dir
from core.settings import Settings
from storage.db import Database

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = shared_data_dir()
POSTGRES_ENV = "ROUNDS_TEST_POSTGRES_URL"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def pytest_report_header(config: pytest.Config) -> list[str]:
    url = os.environ.get(POSTGRES_ENV)
    if url:
        return [f"postgres: {make_url(url).render_as_string(hide_password=True)}"]
    return [f"postgres: {POSTGRES_ENV} is unset, so PostgreSQL tests are skipped"]


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"test corpus not found at {SHARED_DATA}")
    return SHARED_DATA


# Telegram tests marked `telegram_runtimes` run once per Telegram library
# (ROUNDS_TELEGRAM_RUNTIME), against the same fake Bot API with the same assertions.
TELEGRAM_RUNTIMES = ("ptb", "aiogram")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marked = metafunc.definition.get_closest_marker("telegram_runtimes") is not None
    chosen = any(
        "telegram_runtime" in str(mark.args[0])
        for mark in metafunc.definition.iter_markers("parametrize")
    )  # a test that names its own runtimes (a slow one may not need every combination)
    if marked and not chosen and "telegram_runtime" in metafunc.fixturenames:
        metafunc.parametrize("telegram_runtime", TELEGRAM_RUNTIMES)


@pytest.fixture
def telegram_runtime() -> str:
    """The Telegram runtime of a test not marked `telegram_runtimes`: the default."""
    return "ptb"


@pytest.fixture
def settings(tmp_path: Path, telegram_runtime: str) -> Settings:
    # In-process CPU work: a worker pool per test app would load the model again each time.
    # The pool has its own tests (test_offload.py), and the console process test uses it.
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path / "var",
        telegram_runtime=telegram_runtime,
        cpu_workers=0,
    )


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings.database_url)
    await database.migrate()
    yield database
    await database.dispose()


@pytest.fixture
def postgres_url() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"{POSTGRES_ENV} is not set; PostgreSQL tests need a server (see .ci/run)")
    return url


def _run_blocking(coro_factory: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Runs a coroutine from sync fixture code even while pytest's event loop is running."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(lambda: asyncio.run(coro_factory())).result()


async def _admin_execute(admin_dsn: str, sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(admin_dsn)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture
def postgres_db_url(postgres_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    base = make_url(postgres_url)
    name = f"rounds_{uuid.uuid4().hex[:12]}"
    admin_dsn = base.set(drivername="postgresql").render_as_string(hide_password=False)
    _run_blocking(lambda: _admin_execute(admin_dsn, f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    _run_blocking(
        lambda: _admin_execute(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    )


@pytest.fixture
async def pg_db(postgres_db_url: str) -> AsyncIterator[Database]:
    database = Database(postgres_db_url)
    await database.migrate()
    yield database
    await database.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
async def any_db(request: pytest.FixtureRequest, settings: Settings) -> AsyncIterator[Database]:
    """The same test on SQLite and, when a server is configured, on PostgreSQL."""
    if request.param == "sqlite":
        url = settings.database_url
    else:
        url = request.getfixturevalue("postgres_db_url")
    database = Database(url)
    await database.migrate()
    yield database
    await database.dispose()


@pytest.fixture(scope="session")
def embedder() -> Any:
    """The real MiniLM embedder, shared by the whole test session (the model loads once)."""
    from core.embed import MiniLMEmbedder

    return MiniLMEmbedder()
