"""The load test (issue 20): simulated students against real `python -m bot telegram` workers.

`python -m bench load [--students 1000] [--workers 1|2] [--db sqlite|postgres] [--duration 60]
[--upload-share 0.1] [--think-s 45] [--route chat|round-robin] [--webhook]
[--outbound-per-s N] [--reseed]`. Loopback only: the fake Telegram server and the students
run in this process, the workers are child processes, PostgreSQL is a throwaway server (or
the one ROUNDS_BENCH_POSTGRES_URL / ROUNDS_TEST_POSTGRES_URL names, in a database of the
run's own). Without --workers/--db it runs SQLite x 1 worker, PostgreSQL x 1 and PostgreSQL
x 2 (webhook mode, the bench the ingress). Reported per run: answers/s, click p50/p95/p99,
errors, lost and duplicated attempts (confidence clicks sent against attempt rows), RSS and
CPU per worker, the bench's own CPU and the load average, to stdout and
bench/results/load.json. Goals: click p99 < 50 ms on PostgreSQL at 1,000 students per
worker; answers/s x1.7 from 1 to 2 workers (measure it with a short --think-s, where the
students click as fast as the workers answer).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import tempfile
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.corpus import shared_data_dir
from bench.load_seed import SEED_FILE, build_seed_file, load_seed_file, seed_database
from bench.load_students import Ingress, Log, Plan, Watch, simulate
from bench.load_workers import (
    WEBHOOK_PATH,
    Worker,
    postgres_database,
    sample,
    start_workers,
    stop_workers,
)
from storage.db import Database
from storage.enums import Platform
from storage.models import Attempt, User
from tests.fakes.telegram_server import FakeTelegram

# Each run's worker logs, kept for a look after the run (git ignores this folder).
LOG_DIR = Path(__file__).with_name("results") / "tmp" / "load"
UPLOAD_PDF = shared_data_dir() / "ap2e_19-5_heart_development_excerpt.pdf"
GOAL_P99_MS = 50.0
GOAL_SCALING = 1.7
MATRIX = (("sqlite", 1), ("postgres", 1), ("postgres", 2))
# Students who think less than this click faster than the per-user incoming limit allows (one
# event a second): such a run measures capacity, so the workers run without those limits.
HUMAN_THINK_S = 2.0
# Median seconds a student reads a board-style question before answering (NBME paces 90 s
# a question; a chapter's recall items are quicker); the confidence click takes a quarter.
THINK_S = 45.0
NO_EVENT_LIMITS = {
    "ROUNDS_RATE_USER_BURST": "0", "ROUNDS_RATE_USER_PER_MINUTE": "0",
    "ROUNDS_RATE_CHAT_BURST": "0", "ROUNDS_RATE_CHAT_PER_MINUTE": "0",
}  # fmt: skip

Row = tuple[str, str, Any, str, str]


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench load")
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--workers", type=int, choices=(1, 2))
    parser.add_argument("--db", choices=("sqlite", "postgres"))
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of clicking")
    parser.add_argument("--upload-share", type=float, default=0.1)
    parser.add_argument(
        "--think-s",
        type=float,
        default=10.0,
        help="median seconds before answering (confidence: a quarter)",
    )
    parser.add_argument(
        "--route",
        choices=("chat", "round-robin"),
        default="chat",
        help="webhook ingress: a chat to one worker, or round-robin",
    )
    parser.add_argument("--webhook", action="store_true", help="webhook mode with 1 worker too")
    parser.add_argument(
        "--outbound-per-s",
        type=float,
        default=None,
        help="what-if: raise the bot's outbound cap (Telegram's: 30/s)",
    )
    parser.add_argument("--reseed", action="store_true", help=f"rebuild {SEED_FILE.name}")
    parser.add_argument("--out", type=Path, default=None, help="results file (default load.json)")
    return parser.parse_args(argv)  # fmt: skip


def _percentile(samples: list[float], q: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def count_attempts(db: Database) -> tuple[dict[int, int], int]:
    """(attempt rows per Telegram user id, rows that repeat a user's answer to one question
    in one quiz session)."""
    async with db.session() as session:
        rows = await session.execute(
            select(User.external_id, func.count(Attempt.id))
            .join(Attempt, Attempt.user_id == User.id)
            .where(User.platform == Platform.TELEGRAM)
            .group_by(User.external_id)
        )
        per_user = {int(external): int(n) for external, n in rows}
        repeats = (
            select(func.count().label("n"))
            .select_from(Attempt)
            .group_by(Attempt.user_id, Attempt.session_id, Attempt.question_id)
            .having(func.count() > 1)
            .subquery()
        )
        duplicated = await session.scalar(select(func.coalesce(func.sum(repeats.c.n - 1), 0)))
    return per_user, int(duplicated or 0)


async def run_one(args: argparse.Namespace, db_kind: str, workers: int) -> dict[str, Any]:
    """One configuration end to end; returns its report row."""
    seed = load_seed_file()
    plan = Plan(args.students, args.duration, args.upload_share, args.think_s, UPLOAD_PDF)
    webhook = workers > 1 or args.webhook
    with tempfile.TemporaryDirectory(prefix="rounds-load-") as work:
        data_dir = Path(work)
        if db_kind == "postgres":
            async with postgres_database() as url:
                return await _measure(plan, seed, data_dir, url, workers, webhook, args)
        url = f"sqlite+aiosqlite:///{data_dir / 'rounds.db'}"
        return await _measure(plan, seed, data_dir, url, workers, webhook, args)


async def _measure(
    plan: Plan,
    seed: dict[str, Any],
    data_dir: Path,
    url: str,
    count: int,
    webhook: bool,
    args: argparse.Namespace,
) -> dict[str, Any]:
    limited = plan.think_s >= HUMAN_THINK_S
    db = Database(url)
    await db.migrate()
    _progress(f"seeding {plan.students} students on {url.split(':', 1)[0]}")
    await seed_database(db, seed, plan.user_ids())
    fake = await FakeTelegram().start()
    log = Log()
    watch = Watch(fake, log)
    secret = secrets.token_hex(16)
    ingress: Ingress | None = None
    workers = []
    stop_sampling = asyncio.Event()
    try:
        workers = await start_workers(
            count, data_dir=data_dir, database_url=url, api_base_url=fake.api_base_url,
            file_base_url=fake.file_base_url, token=fake.token,
            webhook=(f"http://127.0.0.1:{fake.port}{WEBHOOK_PATH}", secret) if webhook else None,
            extra_env={} if limited else NO_EVENT_LIMITS, outbound_per_s=args.outbound_per_s,
            log_dir=LOG_DIR / f"{url.split(':', 1)[0]}-x{count}",
        )  # fmt: skip
        _progress(f"{count} worker(s) serving; {plan.students} students click for "
                  f"{plan.duration_s:.0f} s")  # fmt: skip
        if webhook:
            ingress = Ingress([w.port for w in workers], WEBHOOK_PATH, secret, args.route)
            await ingress.open()
            fake.webhook_delivery = ingress.deliver
        sampler = asyncio.get_running_loop().create_task(sample(workers, stop_sampling))
        load_before = _load()
        bench_cpu = _own_cpu_s()
        took = await _unless_a_worker_dies(simulate(plan, fake, watch), workers, log)
        bench_cpu = _own_cpu_s() - bench_cpu
        load_after = _load()
        stop_sampling.set()
        await sampler
    finally:
        codes = await stop_workers(workers)
        if ingress is not None:
            await ingress.close()
        await fake.stop()
    per_user, duplicated = await count_attempts(db)
    await db.dispose()
    sent = log.confidences_sent
    lost = sum(max(0, n - per_user.get(uid, 0)) for uid, n in sent.items())
    extra = sum(max(0, n - sent.get(uid, 0)) for uid, n in per_user.items())
    clicks = log.latencies_ms["answer"] + log.latencies_ms["confidence"]
    errors = dict(log.errors)
    if ingress is not None:
        errors.update(ingress.failures)
    if any(code not in (0, None) for code in codes):
        errors["worker exit code"] = sum(1 for code in codes if code not in (0, None))
    return {
        "db": "postgres" if url.startswith("postgresql") else "sqlite",
        "workers": count,
        "mode": ("webhook, " + args.route) if webhook else "polling",
        "outbound_per_s": args.outbound_per_s or 30,
        "students": plan.students,
        "duration_s": plan.duration_s,
        "think_s": plan.think_s,
        "event_limits": limited,
        "answers": len(log.answers_at),  # confidence clicks answered by the bot
        "attempts_expected": sum(sent.values()),  # confidence clicks sent
        "answers_per_s": round(log.per_second(log.answers_at), 2),
        "bot_messages_per_s": round(log.per_second(log.messages_at), 1),
        "drain_s": round(took - plan.duration_s, 1),
        "clicks": len(clicks),
        "click_ms": {name: round(_percentile(clicks, q), 1)
                     for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))},
        "click_ms_by_kind": {kind: {"p50": round(_percentile(s, 0.5), 1),
                                    "p99": round(_percentile(s, 0.99), 1), "n": len(s)}
                             for kind, s in log.latencies_ms.items()},
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "lost": lost,
        "duplicated": duplicated + extra,
        "uploads": {"sent": log.uploads_sent, "ready": len(log.upload_seconds),
                    "p50_s": round(_percentile(log.upload_seconds, 0.5), 1),
                    "max_s": round(max(log.upload_seconds, default=float("nan")), 1),
                    "clicks_behind_own_upload": len(log.behind_upload_ms),
                    "their_p50_ms": round(_percentile(log.behind_upload_ms, 0.5), 1)},
        "rss_mb": {"max": [round(max(w.rss_mb, default=0), 0) for w in workers],
                   "median": [round(statistics.median(w.rss_mb or [0]), 0) for w in workers]},
        "cpu_percent_median": [round(statistics.median(w.cpu_percent or [0]), 0)
                               for w in workers],
        # What a click costs the workers (CPU of the whole run, uploads too, over its clicks).
        "worker_cpu_ms_per_click": round(1000 * sum(w.cpu_s[1] - w.cpu_s[0] for w in workers)
                                         / max(1, len(clicks) + len(log.behind_upload_ms)), 1),
        # The fake server and the students share this process: if it were saturated, the
        # latencies would be the bench's own.
        "bench_cpu_percent": round(100 * bench_cpu / took, 0),
        "load_average": {"before": load_before, "after": load_after},
        "cpus": os.cpu_count(),
    }  # fmt: skip


async def _unless_a_worker_dies(
    simulation: Coroutine[Any, Any, float], workers: list[Worker], log: Log
) -> float:
    """The simulation, cut short (and the run failed) if a worker process ends meanwhile."""
    running = asyncio.ensure_future(simulation)
    deaths = [asyncio.ensure_future(worker.exited.wait()) for worker in workers]
    await asyncio.wait([running, *deaths], return_when=asyncio.FIRST_COMPLETED)
    for death in deaths:
        death.cancel()
    if running.done():
        return running.result()
    running.cancel()
    dead = next(w for w in workers if w.exited.is_set())
    log.errors["worker died"] += 1
    raise RuntimeError("a bot worker died during the run:\n" + "\n".join(list(dead.log)[-40:]))


def _progress(message: str) -> None:
    print(f"bench load: {message}", file=sys.stderr, flush=True)


def _own_cpu_s() -> float:
    times = os.times()
    return times.user + times.system


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _joined(values: list[float], fmt: str = "{:.0f}") -> str:
    return ", ".join(fmt.format(v) for v in values)


def _rows(reports: list[dict[str, Any]]) -> list[Row]:
    rows: list[Row] = []
    for r in reports:
        name = f"load {r['db']} x{r['workers']} ({r['students']} students)"
        goal = f"< {GOAL_P99_MS:.0f}" if r["db"] == "postgres" else ""
        rows += [
            (name, "answers/s", r["answers_per_s"], "1/s", ""),
            (name, "bot messages sent or edited/s", r["bot_messages_per_s"], "1/s", ""),
            (name, "click p50 / p95", f"{r['click_ms']['p50']} / {r['click_ms']['p95']}", "ms",
             ""),
            (name, "click p99", r["click_ms"]["p99"], "ms", goal),
            (name, "errors / lost / duplicated",
             f"{r['errors']} / {r['lost']} / {r['duplicated']}", "", "0 / 0 / 0"),
            (name, "RSS max per worker", _joined(r["rss_mb"]["max"]), "MB", ""),
            (name, "CPU% median per worker", _joined(r["cpu_percent_median"]), "%", ""),
            (name, "worker CPU per click", r["worker_cpu_ms_per_click"], "ms", ""),
            (name, "bench process CPU%", r["bench_cpu_percent"], "%", ""),
            (name, "load average after", _joined(r["load_average"]["after"], "{:.2f}"), "", ""),
        ]  # fmt: skip
    pg = {r["workers"]: r for r in reports if r["db"] == "postgres"}
    if 1 in pg and 2 in pg and pg[1]["answers_per_s"]:
        scaling = pg[2]["answers_per_s"] / pg[1]["answers_per_s"]
        rows.append(("load postgres", "answers/s x2 / x1", round(scaling, 2), "x",
                     f">= {GOAL_SCALING}"))  # fmt: skip
    return rows


async def run(results_dir: Path, argv: list[str] | None = None) -> list[Row]:
    args = parse(argv or [])
    if args.reseed or not SEED_FILE.exists():
        await build_seed_file()
    matrix = [
        (db, workers)
        for db, workers in MATRIX
        if (args.db is None or db == args.db) and (args.workers is None or workers == args.workers)
    ] or [(args.db or "postgres", args.workers or 1)]
    reports = []
    for db, workers in matrix:
        _progress(f"{db} x{workers}")
        reports.append(await run_one(args, db, workers))
        row = reports[-1]
        _progress(f"{db} x{workers}: {row['answers_per_s']} answers/s, click p99 "
                  f"{row['click_ms']['p99']} ms, errors {row['errors']}, lost {row['lost']}, "
                  f"duplicated {row['duplicated']}")  # fmt: skip
    out = args.out or results_dir / "load.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"runs": reports}, indent=2) + "\n", encoding="utf-8")
    return _rows(reports)
