"""Where the shared test corpus lives (OpenStax CC BY 4.0 PDFs and reference questions)."""

from __future__ import annotations

import os
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """ROUNDS_SHARED_DATA, else ../shared/data beside the checkout, else the workplace copy.

    A clone in a temporary directory (as CI makes) has no sibling shared/, so the fixed
    workplace path is the fallback rather than skipping every corpus test.
    """
    candidates = [
        os.environ.get("ROUNDS_SHARED_DATA", ""),
        str(_REPO_ROOT.parent / "shared" / "data"),
        "/work/shared/data",
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate).resolve()
    return (_REPO_ROOT.parent / "shared" / "data").resolve()
