"""Arrows go one way: bot -> handlers -> core -> storage; scheduler -> core."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAT_LIBRARIES = {"telegram", "discord", "aiogram"}
FORBIDDEN = {
    "core": CHAT_LIBRARIES | {"bot", "handlers", "scheduler"},
    "storage": CHAT_LIBRARIES | {"bot", "handlers", "scheduler", "core"},
    "scheduler": CHAT_LIBRARIES | {"bot", "handlers"},
    "handlers": CHAT_LIBRARIES | {"bot"},
}
# storage/migrations/env.py reads settings only when run from the alembic CLI.
ALLOWED = {("storage/migrations/env.py", "core")}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_room_imports_only_inward(room: str) -> None:
    offenders = []
    for path in sorted((ROOT / room).rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        for root in imported_roots(path) & FORBIDDEN[room]:
            if (relative, root) not in ALLOWED:
                offenders.append(f"{relative} imports {root}")
    assert offenders == []


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import telegram\nfrom discord.ui import View\nfrom . import sibling\n")
    assert imported_roots(sample) == {"telegram", "discord"}
