"""Offline question generation speed: items/s through the real pipeline, and per run.

The heart chapter (59 pages) is uploaded once (untimed); then generate() writes 20
questions per run, five runs with different seeds, on SQLite with the bundled MiniLM.
A run includes everything a /quiz waits for: reading the material's glossary and
sentences, embedding its term bank, validation, duplicate checks, storing. Goal: a run of
20 in under 5 s on this 2-core machine (items/s >= 4). Writes bench/results/generate.json.
"""

from __future__ import annotations

import json
import statistics
import tempfile
from pathlib import Path

from bench.eval import SHARED_DATA, generate_for, open_library, upload

PDF = "ap2e_ch19_heart.pdf"
RUNS = 5
PER_RUN = 20
GOAL_ITEMS_PER_S = 4.0


async def run(results_dir: Path) -> list[tuple[str, str, object, str, str]]:
    with tempfile.TemporaryDirectory(prefix="rounds-bench-generate-") as work:
        library = await open_library(Path(work))
        material = await upload(library, SHARED_DATA / PDF)
        # Warm the embedding model so the first run is not charged for loading it.
        await library.embedder.embed(["warm up"])
        seconds: list[float] = []
        inserted = 0
        for seed in range(RUNS):
            _, questions, took = await generate_for(library, material.id, PER_RUN, seed=seed)
            seconds.append(took)
            inserted += len(questions)
        await library.db.dispose()
    items_per_s = inserted / sum(seconds)
    report = {
        "pdf": PDF,
        "runs": RUNS,
        "per_run": PER_RUN,
        "inserted": inserted,
        "items_per_s": round(items_per_s, 2),
        "run_seconds": [round(s, 3) for s in seconds],
        "run_p50_s": round(statistics.median(seconds), 3),
    }
    (results_dir / "generate.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    return [
        ("generate", "offline items/s", f"{items_per_s:.1f}", "items/s", f">= {GOAL_ITEMS_PER_S}"),
        ("generate", f"run of {PER_RUN}, p50", f"{statistics.median(seconds):.2f}", "s", "< 5"),
        ("generate", "items stored", inserted, "items", f"{RUNS * PER_RUN}"),
    ]
