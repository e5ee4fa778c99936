"""`python -m bot console | telegram | discord | all | worker | health | runs`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta

from bot.app import configure_logging, offline_environment
from core.settings import Settings

MODES = ("console", "telegram", "discord", "all", "worker", "health", "runs")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["runs"]:
        return runs_report(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m bot", description="Run the Rounds tutor.")
    parser.add_argument("mode", choices=MODES, nargs="?", default="console")
    mode = parser.parse_args(argv).mode
    offline_environment()
    settings = Settings()
    if mode == "console":
        from bot.console import run_console

        return asyncio.run(run_console(settings))
    configure_logging(settings)
    if mode == "health":
        from bot.health import health

        return asyncio.run(health(settings))
    from bot.runner import run_platforms, startup_failure
    from bot.worker import run_worker

    try:
        if mode == "worker":
            return asyncio.run(run_worker(settings))
        return asyncio.run(run_platforms(settings, mode))
    except Exception as error:  # the one place a fatal error becomes one line, no traceback
        print(f"rounds: cannot run {mode}: {startup_failure(error)}", file=sys.stderr)
        return 1


def runs_report(argv: list[str]) -> int:
    """`python -m bot runs [--since 7d] [--by model|prompt|generator|day|trigger] [--json]`."""
    from core.run_report import GROUPINGS, parse_since

    parser = argparse.ArgumentParser(
        prog="python -m bot runs", description="The question-generation run report."
    )
    parser.add_argument("--since", default="7d", help="window: 7d, 36h, 90m, 2w (default 7d)")
    parser.add_argument("--by", choices=GROUPINGS, default="model")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)
    try:
        since = parse_since(args.since)
    except ValueError as error:
        parser.error(str(error))
    return asyncio.run(_print_runs(Settings(), since=since, by=args.by, as_json=args.json))


async def _print_runs(settings: Settings, *, since: timedelta, by: str, as_json: bool) -> int:
    from core.run_report import build_report, render_text
    from storage.db import Database

    db = Database(settings.database_url)
    try:
        await db.migrate()
        async with db.session() as session:
            report = await build_report(
                session, now=datetime.now(UTC), since=since, by=by,
                alert_margin=settings.approval_alert_margin,
            )  # fmt: skip
    finally:
        await db.dispose()
    print(json.dumps(report.to_dict(), indent=2) if as_json else render_text(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
