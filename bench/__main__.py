"""Runs every `bench/bench_*.py` module's `run()` and prints one table of figures.

Each benchmark returns rows of (benchmark, metric, value, unit, goal) and writes its own
JSON under bench/results/. `python -m bench ingest` runs only the matching ones; options
after the names (`python -m bench load --students 20`) go to benchmarks whose `run` takes them.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import os
import pkgutil
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

RESULTS_DIR = Path(__file__).with_name("results")


def discover(selected: list[str]) -> list[str]:
    names = sorted(
        info.name
        for info in pkgutil.iter_modules([str(Path(__file__).parent)])
        if info.name.startswith("bench_")
    )
    return [name for name in names if not selected or any(s in name for s in selected)]


def main(argv: list[str]) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    RESULTS_DIR.mkdir(exist_ok=True)
    table = Table(title="Rounds benchmarks")
    for column in ("benchmark", "metric", "value", "unit", "goal"):
        table.add_column(column)
    first_option = next((i for i, arg in enumerate(argv) if arg.startswith("-")), len(argv))
    names, options = discover(argv[:first_option]), argv[first_option:]
    if not names:
        table.add_row("(none)", "no bench_*.py modules match", "-", "-", "-")
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        started = time.perf_counter()
        takes_options = len(inspect.signature(module.run).parameters) > 1
        result = module.run(RESULTS_DIR, options) if takes_options else module.run(RESULTS_DIR)
        rows = asyncio.run(result) if inspect.isawaitable(result) else result
        for row in rows:
            table.add_row(*(str(cell) for cell in row))
        table.add_row(
            name, "wall time", f"{time.perf_counter() - started:.1f}", "s", "", end_section=True
        )
    Console().print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
