"""`python -m bot runs`: totals per model / prompt / generator / day, percentiles, rejections
per rule, and the warning when the last day approves much less than the week."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.__main__ import main
from core.run_report import build_report, parse_since, render_text
from core.settings import Settings
from storage.db import Database
from storage.enums import Platform, RunStatus
from storage.models import GenerationRun
from storage.repos.chats import personal_scope
from storage.repos.users import get_or_create_user

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def _run(scope_id: int, hours_ago: float, **fields: Any) -> GenerationRun:
    base: dict[str, Any] = dict(
        scope_id=scope_id, status=RunStatus.COMPLETED, generator="offline",
        model="rounds-offline", prompt_version="offline-3", requested=10, generated=10,
        inserted=8, exact_duplicates=1, semantic_duplicates=1, duration_ms=1000,
        triggered_by="quiz", rejected_by_rule={},
        created_at=NOW - timedelta(hours=hours_ago),
    )  # fmt: skip
    base.update(fields)
    return GenerationRun(**base)


async def _seed(db: Database) -> None:
    async with db.session() as session:
        user = await get_or_create_user(session, Platform.CONSOLE, "ada", "Ada")
        scope = await personal_scope(session, user)
        session.add_all([
            # The week: 3 good offline runs, one LLM run with a failure.
            _run(scope.id, 100, duration_ms=1000),
            _run(scope.id, 70, duration_ms=2000),
            _run(scope.id, 50, duration_ms=3000),
            _run(scope.id, 60, generator="llm", model="openai:gpt-4o-mini", prompt_version="v2",
                 generated=6, inserted=0, exact_duplicates=0, semantic_duplicates=0,
                 status=RunStatus.FAILED, api_calls=3, duration_ms=9000,
                 rejected_by_rule={"one_best_answer": 4, "too_long": 2}, triggered_by="round"),
            # The last day: most items rejected.
            _run(scope.id, 2, generated=10, inserted=2, exact_duplicates=0,
                 semantic_duplicates=0, rejected_by_rule={"one_best_answer": 8},
                 duration_ms=4000),
            # Older than the window.
            _run(scope.id, 24 * 20, generated=99, inserted=99),
        ])  # fmt: skip


async def test_totals_by_model_with_percentiles_rules_and_the_approval_alert(
    db: Database,
) -> None:
    await _seed(db)
    async with db.session() as session:
        report = await build_report(
            session, now=NOW, since=timedelta(days=7), by="model", alert_margin=0.15
        )
    offline, llm = (
        next(g for g in report.groups if g.key == key)
        for key in ("rounds-offline", "openai:gpt-4o-mini")
    )
    assert (offline.runs, offline.generated, offline.approved, offline.inserted) == (4, 40, 32, 26)
    assert offline.duplicates == 6
    assert (offline.p50_ms, offline.p95_ms) == (2000, 4000)
    assert (llm.failures, llm.api_calls, llm.approved) == (1, 3, 0)
    assert report.overall.rejected_by_rule == {"one_best_answer": 12, "too_long": 2}
    assert report.overall.runs == 5, "the run from 20 days ago is outside the window"
    # Last day 2/10 = 20% against the week's 32/46 = 70%.
    assert report.alert.startswith("WARNING: approval rate in the last day is 20% (2/10)")
    assert "7-day rate of 70% (32/46)" in report.alert
    text = render_text(report)
    assert "openai:gpt-4o-mini" in text and "Rejected per rule: one_best_answer 12" in text
    assert text.rstrip().endswith(report.alert)


async def test_a_steady_day_raises_no_alert_and_groups_by_day(db: Database) -> None:
    await _seed(db)
    async with db.session() as session:
        report = await build_report(
            session, now=NOW, since=timedelta(days=7), by="day", alert_margin=0.6
        )
    assert report.alert == ""
    assert [g.key for g in report.groups] == ["2026-11-30", "2026-12-01", "2026-12-02",
                                              "2026-12-04"]  # fmt: skip


def test_since_accepts_days_hours_minutes_and_weeks() -> None:
    assert parse_since("7d") == timedelta(days=7)
    assert parse_since("36h") == timedelta(hours=36)
    assert parse_since("2w") == timedelta(weeks=2)
    assert parse_since("3") == timedelta(days=3)
    with pytest.raises(ValueError):
        parse_since("soon")


def test_the_command_prints_json_for_machines(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ROUNDS_DATA_DIR", str(settings.data_dir))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    assert main(["runs", "--since", "2d", "--by", "generator", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["by"] == "generator" and printed["overall"]["runs"] == 0
    assert printed["alert"] == ""
