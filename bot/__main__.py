"""`python -m bot console | telegram | discord | all`."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.app import configure_logging, offline_environment
from core.settings import Settings

MODES = ("console", "telegram", "discord", "all")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Run the Rounds tutor.")
    parser.add_argument("mode", choices=MODES, nargs="?", default="console")
    mode = parser.parse_args(argv).mode
    offline_environment()
    settings = Settings()
    if mode == "console":
        from bot.console import run_console

        return asyncio.run(run_console(settings))
    configure_logging(settings)
    from bot.runner import run_platforms, startup_failure

    try:
        return asyncio.run(run_platforms(settings, mode))
    except Exception as error:  # the one place a fatal error becomes one line, no traceback
        print(f"rounds: cannot run {mode}: {startup_failure(error)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
