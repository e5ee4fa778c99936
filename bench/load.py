"""The machine's load around a benchmark: shared cores make every timing relative to it."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

Row = tuple[str, str, Any, str, str]


class LoadWindow:
    """Load averages (1/5/15 min) at the start of a benchmark and at its end."""

    def __init__(self) -> None:
        self.start = os.getloadavg()
        self.end = self.start

    def close(self) -> None:
        self.end = os.getloadavg()

    def row(self, benchmark: str) -> Row:
        def shown(load: tuple[float, float, float]) -> str:
            return "/".join(f"{x:.1f}" for x in load)

        return (
            benchmark, "load average 1/5/15 min at start -> end",
            f"{shown(self.start)} -> {shown(self.end)}", "", f"{os.cpu_count()} cores",
        )  # fmt: skip


async def write_results(
    path: Path, figures: dict[str, Any], rows: list[Row], load: LoadWindow
) -> None:
    """The figures, the load they were measured under and the printed rows, as JSON."""
    payload = {
        **figures,
        "cpu_count": os.cpu_count(),
        "load_average_at_start": load.start,
        "load_average_at_end": load.end,
        "rows": [list(row) for row in rows],
    }
    text = json.dumps(payload, indent=2) + "\n"
    await asyncio.to_thread(path.write_text, text)
