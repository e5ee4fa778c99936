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


# --- SQL lives in storage/ -----------------------------------------------------------------

SQL_FREE_ROOMS = ("bot", "handlers", "core", "scheduler")
# What a module outside storage/ may take from SQLAlchemy: the session and connection types
# it is handed, the errors it catches, and URL parsing for settings. Anything else (select,
# func, text, the ORM query API) builds SQL, and that belongs in storage/repos.
SQLALCHEMY_ALLOWED = {"sqlalchemy.ext.asyncio", "sqlalchemy.exc", "sqlalchemy.engine"}
# Calls that run SQL, whatever object they are called on.
EXECUTING_CALLS = {"execute", "scalar", "scalars", "stream", "stream_scalars"}
# Still to move (issue 18): the stats and recommendation queries. Empty this set then.
SQL_MOVING_ELSEWHERE = {
    "core/stats.py",
    "core/recommend.py",
}


def sql_offences(path: Path) -> list[str]:
    """Lines of `path` that build or run SQL: a SQLAlchemy import beyond the allowed
    modules, or a call that executes a statement."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [node.module]
        for module in modules:
            if module.split(".")[0] == "sqlalchemy" and module not in SQLALCHEMY_ALLOWED:
                found.append(f"line {node.lineno}: imports {module}")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in EXECUTING_CALLS
        ):
            found.append(f"line {node.lineno}: calls .{node.func.attr}()")
    return found


def test_no_sql_outside_storage() -> None:
    offenders = []
    for room in SQL_FREE_ROOMS:
        for path in sorted((ROOT / room).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative in SQL_MOVING_ELSEWHERE:
                continue
            offenders += [f"{relative} {offence}" for offence in sql_offences(path)]
    assert offenders == []


def test_the_sql_checker_sees_a_query_and_its_execution(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from sqlalchemy import select\nfrom sqlalchemy.ext.asyncio import AsyncSession\n"
        "import sqlalchemy as sa\n"
        "async def f(session: AsyncSession) -> None:\n"
        "    await session.scalar(select(1))\n"
        "    session.add(object())\n"
    )
    assert sql_offences(sample) == [
        "line 1: imports sqlalchemy",
        "line 3: imports sqlalchemy",
        "line 5: calls .scalar()",
    ]
