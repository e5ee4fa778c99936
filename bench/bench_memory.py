"""Memory of the bot's processes around a 279-page upload, measured from outside.

A real `python -m bot console` (SQLite, ROUNDS_CPU_WORKERS=1) is the process that answers
clicks; its CPU worker (a spawned child) reads and embeds uploads. psutil samples the
resident set (RSS) of both every SAMPLE_S: idle after start-up, during the upload of the
benchmark PDF until the console says it is ready, and idle again after it. Goal: under
700 MB for the process that serves clicks.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from bench.console_process import ConsoleProcess
from bench.corpus import shared_data_dir
from bench.load import LoadWindow, Row, write_results

BENCH_PDF = shared_data_dir() / "ap2e_selected_chapters_benchmark.pdf"
SAMPLE_S = 0.05
IDLE_S = 3.0
TIMEOUT_S = 600.0
GOAL_MB = 700
MB = 1024 * 1024


@dataclass
class Peaks:
    """Largest RSS seen per role while sampling, in MB."""

    click: float = 0.0
    worker: float = 0.0
    samples: int = 0
    worker_pids: set[int] = field(default_factory=set)


class Console(ConsoleProcess):
    """The console process with one CPU worker, sampled from outside."""

    def __init__(self, data_dir: Path) -> None:
        env = {
            **os.environ, "ROUNDS_DATA_DIR": str(data_dir), "ROUNDS_CPU_WORKERS": "1",
            "PYTHONUNBUFFERED": "1",
        }  # fmt: skip
        for name in ("ROUNDS_DATABASE_URL", "ROUNDS_LLM_MODEL"):
            env.pop(name, None)
        super().__init__(env)
        self.me = psutil.Process(self.process.pid)

    def sample(self, peaks: Peaks) -> None:
        try:
            peaks.click = max(peaks.click, self.me.memory_info().rss / MB)
            for child in self.me.children(recursive=True):
                if "resource_tracker" in " ".join(child.cmdline()):
                    continue
                peaks.worker_pids.add(child.pid)
                peaks.worker = max(peaks.worker, child.memory_info().rss / MB)
        except psutil.NoSuchProcess:
            return
        peaks.samples += 1

    def sample_until(self, text: str | None, *, seconds: float = TIMEOUT_S) -> Peaks:
        """Samples until `text` is printed (from now on), or for `seconds` when it is None."""
        peaks = Peaks()
        start = len(self.seen)
        ends = time.monotonic() + seconds
        while time.monotonic() < ends:
            self.sample(peaks)
            with contextlib.suppress(queue.Empty):
                self.seen += self.lines.get(timeout=SAMPLE_S)
            if text is not None and text in self.seen[start:]:
                return peaks
        if text is not None:
            raise RuntimeError(f"the console never printed {text!r}: {self.seen[start:]!r}")
        return peaks

    def close(self) -> None:
        self.send("/quit")
        self.process.wait(timeout=60)


def _measure(data_dir: Path) -> dict[str, Any]:
    console = Console(data_dir)
    try:
        console.sample_until("/help")
        started_idle = console.sample_until(None, seconds=IDLE_S)
        console.send(f"/upload {BENCH_PDF}")
        started = time.perf_counter()
        during = console.sample_until("is ready")
        upload_s = time.perf_counter() - started
        after = console.sample_until(None, seconds=IDLE_S)
    finally:
        console.close()
    return {
        "pdf": BENCH_PDF.name,
        "upload_s": upload_s,
        "click_idle_at_start_mb": started_idle.click,
        "click_peak_during_ingest_mb": during.click,
        "worker_peak_during_ingest_mb": during.worker,
        "click_idle_after_ingest_mb": after.click,
        "worker_idle_after_ingest_mb": after.worker,
        "worker_processes": len(during.worker_pids | after.worker_pids),
        "samples": during.samples,
    }


async def run(results_dir: Path) -> list[Row]:
    load = LoadWindow()
    with tempfile.TemporaryDirectory(prefix="rounds-bench-memory-") as tmp:
        figures = await asyncio.to_thread(_measure, Path(tmp))
    load.close()
    f = figures
    rows: list[Row] = [
        ("memory", "upload", f"{f['pdf']} in {f['upload_s']:.0f} s", "", ""),
        ("memory", "click process idle (start-up)", f"{f['click_idle_at_start_mb']:.0f}", "MB",
         f"< {GOAL_MB}"),
        ("memory", "click process peak during ingest", f"{f['click_peak_during_ingest_mb']:.0f}",
         "MB", f"< {GOAL_MB}"),
        ("memory", "click process idle after ingest", f"{f['click_idle_after_ingest_mb']:.0f}",
         "MB", f"< {GOAL_MB}"),
        ("memory", "worker peak during ingest (model loaded)",
         f"{f['worker_peak_during_ingest_mb']:.0f}", "MB", ""),
        ("memory", "worker idle after ingest (model loaded)",
         f"{f['worker_idle_after_ingest_mb']:.0f}", "MB", ""),
        load.row("memory"),
    ]  # fmt: skip
    await write_results(results_dir / "memory.json", figures, rows, load)
    return rows
