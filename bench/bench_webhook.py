"""The Telegram webhook inbox under load: 1 and 2 worker processes (each its own engine and
aiohttp webhook server) behind a round-robin client in this process.

50 chats x 20 updates are POSTed as Telegram sends them, a chat's next update once its last
was accepted, 20 chats at a time, alternating between the workers; every 10th update is sent
a second time (a redelivery). The runtime behind the inbox is a no-op, so what is timed is the
inbox's own cost: POST-to-200 (the update stored), and all updates processed (claimed, fed,
marked). Checked against the script: each update processed once, each chat in order.
SQLite (1 worker: one file, one writer) and PostgreSQL with 1 and 2 workers when
ROUNDS_BENCH_POSTGRES_URL is set. `python -m bench webhook`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import multiprocessing
import os
import socket
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bench.bench_contention import PG_ENV, _fresh_postgres
from bot.telegram_webhook import SECRET_HEADER, WebhookInbox
from storage.db import Database

CHATS = 50
PER_CHAT = 20
IN_FLIGHT = 20
SECRET = "bench-secret"
PATH = "/telegram/webhook"

Row = tuple[str, str, str, str, str]


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _updates() -> list[dict[str, Any]]:
    updates = []
    for n in range(PER_CHAT):
        for chat in range(CHATS):
            update_id = n * CHATS + chat + 1
            updates.append(
                {
                    "update_id": update_id,
                    "message": {
                        "message_id": n + 1,
                        "date": 0,
                        "text": f"/q{n}",
                        "chat": {"id": 10_000 + chat, "type": "private"},
                    },
                }
            )
    return updates


def _worker_process(url: str, port: int, shared: tuple[Any, Any, Any, Any]) -> None:
    asyncio.run(_worker(url, port, *shared))


async def _worker(url: str, port: int, counter: Any, done: Any, stop: Any, results: Any) -> None:
    """One worker: the webhook server over the inbox, feeding a no-op runtime that notes
    what it was given; reports it once `stop` is set."""
    processed: list[tuple[int, int, int]] = []

    async def feed(update: dict[str, Any]) -> None:
        # CLOCK_MONOTONIC is one clock for every process: the order across workers.
        processed.append(
            (time.monotonic_ns(), update["message"]["chat"]["id"], update["update_id"])
        )
        with counter.get_lock():
            counter.value += 1
            if counter.value >= CHATS * PER_CHAT:
                done.set()

    db = Database(url)
    receiver = WebhookInbox(db=db, feed=feed, secret=SECRET, clock=lambda: datetime.now(UTC))
    server = web.Application()
    server.router.add_post(PATH, receiver.receive)
    runner = web.AppRunner(server, handle_signals=False, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    results.put(("ready", port))
    await asyncio.to_thread(stop.wait)
    await runner.cleanup()
    await receiver.finish()
    await db.dispose()
    results.put(("processed", processed))


async def measure(url: str, workers: int) -> dict[str, Any]:
    database = Database(url)
    await database.migrate()
    await database.dispose()
    spawn = multiprocessing.get_context("spawn")
    counter, done, stop, results = spawn.Value("i", 0), spawn.Event(), spawn.Event(), spawn.Queue()
    ports = [_port() for _ in range(workers)]
    processes = [
        spawn.Process(target=_worker_process, args=(url, port, (counter, done, stop, results)))
        for port in ports
    ]
    for process in processes:
        process.start()
    for _ in processes:
        await asyncio.to_thread(results.get, True, 60)
    updates = _updates()
    latencies: list[float] = []
    slots = asyncio.Semaphore(IN_FLIGHT)
    turn = itertools.count()
    started = time.perf_counter()
    async with aiohttp.ClientSession() as client:

        async def post(update: dict[str, Any]) -> None:
            sent = time.perf_counter()
            async with client.post(
                f"http://127.0.0.1:{ports[next(turn) % workers]}{PATH}", json=update,
                headers={SECRET_HEADER: SECRET},
            ) as answer:  # fmt: skip
                assert answer.status == 200
            latencies.append((time.perf_counter() - sent) * 1000)

        async def post_chat(chat_updates: list[dict[str, Any]]) -> None:
            async with slots:
                for update in chat_updates:
                    await post(update)
                    if update["update_id"] % 10 == 0:
                        await post(update)

        chats: dict[int, list[dict[str, Any]]] = {}
        for update in updates:
            chats.setdefault(update["message"]["chat"]["id"], []).append(update)
        await asyncio.gather(*(post_chat(chat_updates) for chat_updates in chats.values()))
    stored_s = time.perf_counter() - started
    await asyncio.to_thread(done.wait, 120)  # what never came is reported as lost
    done_s = time.perf_counter() - started
    stop.set()
    noted: list[tuple[int, int, int]] = []
    for _ in processes:
        _kind, by_worker = await asyncio.to_thread(results.get, True, 60)
        noted += by_worker
    processed = [(chat, update_id) for _, chat, update_id in sorted(noted)]
    for process in processes:
        process.join(30)
    ids = [update_id for _, update_id in processed]
    by_chat: dict[int, list[int]] = {}
    for chat, update_id in processed:
        by_chat.setdefault(chat, []).append(update_id)
    quantiles = statistics.quantiles(latencies, n=100)
    return {
        "workers": workers,
        "posts": len(latencies),
        "updates": len(updates),
        "processed": len(processed),
        "duplicated": len(ids) - len(set(ids)),
        "lost": len(set(u["update_id"] for u in updates) - set(ids)),
        "chats_out_of_order": sum(seq != sorted(seq) for seq in by_chat.values()),
        "post_p50_ms": round(quantiles[49], 2),
        "post_p99_ms": round(quantiles[98], 2),
        "updates_per_s": round(len(updates) / done_s, 1),
        "stored_s": round(stored_s, 2),
        "all_processed_s": round(done_s, 2),
    }


async def run(results_dir: Path) -> list[Row]:
    runs: list[dict[str, Any]] = []
    targets: list[tuple[str, int]] = [("sqlite", 1)]
    if os.environ.get(PG_ENV):
        targets += [("postgres", 1), ("postgres", 2)]
    for target, workers in targets:
        with tempfile.TemporaryDirectory(prefix="rounds-bench-webhook-") as tmp:
            if target == "sqlite":
                url = f"sqlite+aiosqlite:///{Path(tmp) / 'rounds.db'}"
            else:
                url, _ = await _fresh_postgres(os.environ[PG_ENV])
            load_before = [round(x, 2) for x in os.getloadavg()]
            figures = await measure(url, workers)
            figures.update(database=target, load_avg_before=load_before)
            runs.append(figures)
    (results_dir / "webhook.json").write_text(
        json.dumps({"runs": runs, "cpus": os.cpu_count()}, indent=2) + "\n"
    )
    rows: list[Row] = []
    for r in runs:
        label = f"{r['database']} x{r['workers']}"
        rows.append(("webhook", f"{label}: POST p50/p99", f"{r['post_p50_ms']}/{r['post_p99_ms']}",
                     "ms", ""))  # fmt: skip
        rows.append(("webhook", f"{label}: processed", str(r["updates_per_s"]), "updates/s", ""))
        checked = f"{r['duplicated']}/{r['lost']}/{r['chats_out_of_order']}"
        rows.append(("webhook", f"{label}: duplicated/lost/chats out of order", checked, "",
                     "0/0/0"))  # fmt: skip
    return rows
