"""The generation-run report: recent runs, totals per model / prompt / generator / day, the
daily trend, and a warning when the last day's approval rate falls under the 7-day rate.

Approved means passed validation (and the arbiter, when there is one): the items that went on
to de-duplication, so approved = inserted + exact duplicates + semantic duplicates.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import RunStatus
from storage.models import GenerationRun
from storage.repos import runs as run_repo

GROUPINGS = ("model", "prompt", "generator", "day", "trigger")
RECENT_SHOWN = 10
TREND_DAYS = 7


@dataclass
class Totals:
    """One group's sums over its runs."""

    key: str
    runs: int = 0
    requested: int = 0
    generated: int = 0
    approved: int = 0
    rejected: int = 0
    rejected_by_rule: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    inserted: int = 0
    failures: int = 0
    api_calls: int = 0
    p50_ms: int | None = None
    p95_ms: int | None = None

    @property
    def approval_rate(self) -> float | None:
        return self.approved / self.generated if self.generated else None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "approval_rate": self.approval_rate}


@dataclass
class Report:
    since: datetime
    now: datetime
    by: str
    overall: Totals
    groups: list[Totals]
    days: list[Totals]
    recent: list[dict[str, Any]]
    alert: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "now": self.now.isoformat(),
            "by": self.by,
            "overall": self.overall.to_dict(),
            "groups": [g.to_dict() for g in self.groups],
            "days": [d.to_dict() for d in self.days],
            "recent": self.recent,
            "alert": self.alert,
        }


def parse_since(text: str) -> timedelta:
    """'7d', '36h', '90m', '2w' -> a timedelta (a bare number means days)."""
    text = text.strip().lower()
    units = {"m": 60, "h": 3600, "d": 86400, "w": 604800}
    unit = text[-1] if text and text[-1] in units else "d"
    number = text[:-1] if text and text[-1] in units else text
    try:
        value = float(number)
    except ValueError as error:
        raise ValueError(f"--since {text!r}: use e.g. 7d, 36h, 90m or 2w") from error
    if value <= 0:
        raise ValueError("--since must be positive")
    return timedelta(seconds=value * units[unit])


def percentile(values: Sequence[int], share: float) -> int | None:
    """Nearest-rank percentile (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _key_of(by: str) -> Callable[[GenerationRun], str]:
    keys: dict[str, Callable[[GenerationRun], str]] = {
        "model": lambda run: run.model or "?",
        "prompt": lambda run: run.prompt_version or "?",
        "generator": lambda run: run.generator or "?",
        "day": lambda run: run.created_at.date().isoformat(),
        "trigger": lambda run: run.triggered_by or "?",
    }
    return keys[by]


def totals(key: str, runs: Sequence[GenerationRun]) -> Totals:
    out = Totals(key=key)
    rules: Counter[str] = Counter()
    durations = [r.duration_ms for r in runs if r.status is not RunStatus.RUNNING]
    for run in runs:
        out.runs += 1
        out.requested += run.requested
        out.generated += run.generated
        dupes = run.exact_duplicates + run.semantic_duplicates
        out.approved += run.inserted + dupes
        out.duplicates += dupes
        out.inserted += run.inserted
        out.failures += run.status is RunStatus.FAILED
        out.api_calls += run.api_calls
        rules.update({rule: int(n) for rule, n in (run.rejected_by_rule or {}).items()})
    out.rejected_by_rule = dict(sorted(rules.items(), key=lambda kv: (-kv[1], kv[0])))
    out.rejected = sum(rules.values())
    out.p50_ms, out.p95_ms = percentile(durations, 0.5), percentile(durations, 0.95)
    return out


def _grouped(runs: Sequence[GenerationRun], by: str) -> list[Totals]:
    key = _key_of(by)
    found: dict[str, list[GenerationRun]] = {}
    for run in runs:
        found.setdefault(key(run), []).append(run)
    return [totals(name, group) for name, group in sorted(found.items())]


def approval_alert(runs: Sequence[GenerationRun], *, now: datetime, margin: float) -> str:
    """A warning when the last 24 hours approve `margin` less (as a share) than the last 7
    days; empty when fine or when either window generated nothing."""
    day = totals("day", [r for r in runs if r.created_at > now - timedelta(days=1)])
    week = totals("week", [r for r in runs if r.created_at > now - timedelta(days=7)])
    if day.approval_rate is None or week.approval_rate is None:
        return ""
    if day.approval_rate < week.approval_rate - margin:
        return (
            f"WARNING: approval rate in the last day is {day.approval_rate:.0%} "
            f"({day.approved}/{day.generated}), more than {margin:.0%} under the 7-day rate "
            f"of {week.approval_rate:.0%} ({week.approved}/{week.generated})."
        )
    return ""


async def build_report(
    session: AsyncSession, *, now: datetime, since: timedelta, by: str, alert_margin: float
) -> Report:
    """Reads the runs of the window (and of the last 7 days, for the alert) and sums them."""
    if by not in GROUPINGS:
        raise ValueError(f"--by must be one of {', '.join(GROUPINGS)}")
    start = now - since
    earliest = min(start, now - timedelta(days=TREND_DAYS))
    rows = await run_repo.runs_created_after(session, earliest)
    window = [r for r in rows if r.created_at > start]
    return Report(
        since=start,
        now=now,
        by=by,
        overall=totals("all", window),
        groups=_grouped(window, by),
        days=_grouped(window, "day"),
        recent=[_recent(r) for r in reversed(window[-RECENT_SHOWN:])],
        alert=approval_alert(rows, now=now, margin=alert_margin),
    )


def _recent(run: GenerationRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "created_at": run.created_at.isoformat(timespec="seconds"),
        "trigger": run.triggered_by,
        "generator": run.generator,
        "model": run.model,
        "requested": run.requested,
        "inserted": run.inserted,
        "status": run.status.value,
        "duration_ms": run.duration_ms,
        "error": run.error,
    }


# --- text --------------------------------------------------------------------------------

_COLUMNS = (
    ("runs", "runs"), ("requested", "req"), ("generated", "gen"), ("approved", "ok"),
    ("rejected", "rej"), ("duplicates", "dup"), ("inserted", "ins"), ("failures", "fail"),
    ("api_calls", "api"),
)  # fmt: skip


def _row(t: Totals, width: int) -> str:
    rate = f"{t.approval_rate:.0%}" if t.approval_rate is not None else "-"
    p50 = f"{t.p50_ms / 1000:.1f}s" if t.p50_ms is not None else "-"
    p95 = f"{t.p95_ms / 1000:.1f}s" if t.p95_ms is not None else "-"
    cells = "".join(f"{getattr(t, name):>6}" for name, _ in _COLUMNS)
    return f"{t.key[:width]:<{width}}{cells}{rate:>7}{p50:>8}{p95:>8}"


def _table(title: str, rows: Sequence[Totals]) -> list[str]:
    width = max([len(title), *(len(r.key) for r in rows)]) + 2
    width = min(width, 40)
    head = f"{title:<{width}}" + "".join(f"{label:>6}" for _, label in _COLUMNS)
    return [head + f"{'ok%':>7}{'p50':>8}{'p95':>8}", *(_row(r, width) for r in rows)]


def render_text(report: Report) -> str:
    lines = [
        f"Generation runs since {report.since:%Y-%m-%d %H:%M} UTC "
        f"({report.overall.runs} runs; ok = approved by validation and arbiter)",
        "",
        *_table(report.by, [*report.groups, report.overall]),
    ]
    if report.overall.rejected_by_rule:
        rules = ", ".join(f"{rule} {n}" for rule, n in report.overall.rejected_by_rule.items())
        lines += ["", f"Rejected per rule: {rules}"]
    if report.by != "day":
        lines += ["", *_table("day", report.days)]
    if report.recent:
        lines += ["", "Recent runs:"]
        for run in report.recent:
            lines.append(
                f"  #{run['id']} {run['created_at']} {run['trigger'] or '-':<6} "
                f"{run['model']:<24} {run['inserted']}/{run['requested']} {run['status']:<9} "
                f"{run['duration_ms'] / 1000:.1f}s" + (f"  {run['error']}" if run["error"] else "")
            )
    if report.alert:
        lines += ["", report.alert]
    return "\n".join(lines)
