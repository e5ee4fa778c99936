"""The processes a load test runs against: `python -m bot telegram` workers pointed at the fake
Telegram server, a throwaway PostgreSQL when none is given, and their RSS and CPU sampled."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import psutil
from sqlalchemy.engine import make_url

from bench.load_worker import OUTBOUND_ENV

REPO_ROOT = Path(__file__).resolve().parents[1]
# Our own port, so a throwaway server never meets a sibling's or CI's (.ci/run).
PG_PORT = int(os.environ.get("ROUNDS_BENCH_PG_PORT", "55483"))
# A server to use instead of starting one (each run makes and drops its own database there).
PG_URL_ENVS = ("ROUNDS_BENCH_POSTGRES_URL", "ROUNDS_TEST_POSTGRES_URL")
SERVING_LINE = "is serving"
START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 30.0
WEBHOOK_PATH = "/telegram"


@dataclass
class Worker:
    """One bot process; `port` is its webhook listener (0 when it polls)."""

    process: asyncio.subprocess.Process
    port: int
    log: deque[str] = field(default_factory=lambda: deque(maxlen=200))
    log_file: Path | None = None  # the whole log, when the run keeps one
    serving: asyncio.Event = field(default_factory=asyncio.Event)
    exited: asyncio.Event = field(default_factory=asyncio.Event)
    rss_mb: list[float] = field(default_factory=list)
    cpu_percent: list[float] = field(default_factory=list)
    # CPU seconds (user + system, with the children) at the first and the latest sample.
    cpu_s: list[float] = field(default_factory=lambda: [0.0, 0.0])


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def webhook_env(port: int, ingress_url: str, secret: str) -> dict[str, str]:
    """The webhook settings of one worker: it listens on `port` and announces the ingress."""
    return {
        "ROUNDS_TELEGRAM_WEBHOOK_URL": ingress_url,
        "ROUNDS_TELEGRAM_WEBHOOK_LISTEN": f"127.0.0.1:{port}",
        "ROUNDS_TELEGRAM_WEBHOOK_SECRET": secret,
    }


async def start_workers(
    count: int,
    *,
    data_dir: Path,
    database_url: str,
    api_base_url: str,
    file_base_url: str,
    token: str,
    webhook: tuple[str, str] | None,
    extra_env: dict[str, str],
    outbound_per_s: float | None = None,
    log_dir: Path | None = None,
) -> list[Worker]:
    """Starts `count` workers and returns once each says it is serving. `webhook` is
    (ingress URL, secret) for webhook mode; None polls (one worker only). `outbound_per_s`
    raises the bot's outbound cap (bench/load_worker.py); None keeps Telegram's."""
    command = ["-m", "bot", "telegram"]
    if outbound_per_s is not None:
        command = ["-m", "bench.load_worker"]
        extra_env = {**extra_env, OUTBOUND_ENV: str(outbound_per_s)}
    workers = []
    for number in range(count):
        env = {
            **os.environ,
            "ROUNDS_DATA_DIR": str(data_dir / f"worker-{number}") if count > 1 else str(data_dir),
            "ROUNDS_DATABASE_URL": database_url,
            "TELEGRAM_BOT_TOKEN": token,
            "TELEGRAM_API_BASE_URL": api_base_url,
            "TELEGRAM_FILE_BASE_URL": file_base_url,
            "ROUNDS_TELEGRAM_RUNTIME": "ptb",
            "ROUNDS_LOG_LEVEL": "INFO",
            "HF_HUB_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
            **extra_env,
        }
        for name in ("ROUNDS_TELEGRAM_WEBHOOK_URL", "DISCORD_BOT_TOKEN", "ROUNDS_LLM_MODEL"):
            env.pop(name, None)
        port = 0
        if webhook is not None:
            port = free_port()
            env.update(webhook_env(port, *webhook))
        process = await asyncio.create_subprocess_exec(
            sys.executable, *command, cwd=REPO_ROOT, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # its own process group: a kill reaches its CPU pool too
        )  # fmt: skip
        worker = Worker(process, port)
        if log_dir is not None:
            await asyncio.to_thread(log_dir.mkdir, parents=True, exist_ok=True)
            worker.log_file = log_dir / f"worker-{number}.log"
        asyncio.get_running_loop().create_task(_follow_log(worker))
        workers.append(worker)
    try:
        for worker in workers:
            await asyncio.wait_for(_until_serving(worker), START_TIMEOUT_S)
    except BaseException:
        await stop_workers(workers)
        raise
    return workers


async def _follow_log(worker: Worker) -> None:
    """Drains the worker's stderr (a full pipe would stall it) and notes when it serves."""
    assert worker.process.stderr is not None
    with contextlib.ExitStack() as files:
        copy = files.enter_context(worker.log_file.open("w")) if worker.log_file else None
        async for raw in worker.process.stderr:
            line = raw.decode(errors="replace").rstrip()
            worker.log.append(line)
            if copy is not None:
                print(line, file=copy, flush=True)
            if SERVING_LINE in line:
                worker.serving.set()
    worker.exited.set()  # stderr closes when the process ends


async def _until_serving(worker: Worker) -> None:
    waiting = asyncio.ensure_future(worker.serving.wait())
    exited = asyncio.ensure_future(worker.process.wait())
    await asyncio.wait({waiting, exited}, return_when=asyncio.FIRST_COMPLETED)
    waiting.cancel()
    exited.cancel()
    if not worker.serving.is_set():
        raise RuntimeError("a bot worker did not start:\n" + "\n".join(worker.log))


async def stop_workers(workers: list[Worker]) -> list[int | None]:
    """SIGTERM (updates in flight finish), then a kill after STOP_TIMEOUT_S; exit codes."""
    for worker in workers:
        if worker.process.returncode is None:
            worker.process.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            await asyncio.wait_for(worker.process.wait(), STOP_TIMEOUT_S)
        except TimeoutError:
            # The whole group: an orphaned pool process would hold the log pipe open, and
            # asyncio's wait() returns only once that pipe closes.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.process.pid, signal.SIGKILL)
            await worker.process.wait()
    return [worker.process.returncode for worker in workers]


async def sample(workers: list[Worker], stop: asyncio.Event, every_s: float = 1.0) -> None:
    """RSS (with the children: the CPU offload pool) and CPU% of each worker, every second."""
    handles = [psutil.Process(worker.process.pid) for worker in workers]
    for worker, handle in zip(workers, handles, strict=True):
        handle.cpu_percent(None)
        worker.cpu_s = [_cpu_s(_family(handle))] * 2
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)
        for worker, handle in zip(workers, handles, strict=True):
            with contextlib.suppress(psutil.NoSuchProcess):
                family = _family(handle)
                worker.rss_mb.append(sum(_read(p.memory_info, "rss") for p in family) / 2**20)
                worker.cpu_percent.append(handle.cpu_percent(None))
                worker.cpu_s[1] = _cpu_s(family)


def _family(handle: psutil.Process) -> list[psutil.Process]:
    return [handle, *handle.children(recursive=True)]


def _cpu_s(family: list[psutil.Process]) -> float:
    return sum(_read(p.cpu_times, "user") + _read(p.cpu_times, "system") for p in family)


def _read(method: Any, name: str) -> float:
    """One figure of a process that may have ended meanwhile (then 0)."""
    try:
        return float(getattr(method(), name))
    except psutil.NoSuchProcess:
        return 0.0


# --- PostgreSQL ------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A fresh database for one run: on the server PG_URL_ENVS names, else on a throwaway
    server started here (like .ci/run) and stopped afterwards."""
    given = next((os.environ[name] for name in PG_URL_ENVS if os.environ.get(name)), "")
    if given:
        async with _fresh_database(given) as url:
            yield url
        return
    with _throwaway_server() as server_url:
        async with _fresh_database(server_url) as url:
            yield url


@contextlib.asynccontextmanager
async def _fresh_database(server_url: str) -> AsyncIterator[str]:
    url = make_url(server_url)
    name = f"rounds_load_{uuid.uuid4().hex[:8]}"
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    admin = await asyncpg.connect(plain)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@contextlib.contextmanager
def _throwaway_server() -> Iterator[str]:
    pg_bin = Path(subprocess.check_output(["pg_config", "--bindir"], text=True).strip())
    root = Path(tempfile.mkdtemp(prefix="rounds-load-pg-"))
    data = root / "data"
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root
        shutil.chown(root, "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    run = {"cwd": "/", "check": True, "stdout": subprocess.DEVNULL}
    try:
        subprocess.run([*as_postgres, str(pg_bin / "initdb"), "-D", str(data), "-U", "postgres",
                        "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"], **run)  # fmt: skip
        options = f"-c listen_addresses=127.0.0.1 -p {PG_PORT} -k {data} -c fsync=off"
        subprocess.run([*as_postgres, str(pg_bin / "pg_ctl"), "-D", str(data), "-l",
                        str(data / "log"), "-w", "-o", options, "start"], **run)  # fmt: skip
        yield f"postgresql+asyncpg://postgres@127.0.0.1:{PG_PORT}/postgres"
    finally:
        subprocess.run([*as_postgres, str(pg_bin / "pg_ctl"), "-D", str(data), "-m", "fast",
                        "stop"], cwd="/", stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()
