"""Per-student limits: questions generated per hour and per day, uploads per day, stored MB.

Windows slide (the last hour, the last 24 hours). A running generation counts what it asked
for; a finished one counts what it stored. Each refusal says which limit and when it frees up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import RoundsError
from core.settings import Settings
from storage.enums import RunStatus
from storage.models import GenerationRun, Material

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


class LimitReached(RoundsError):
    """A per-student limit; `resets_at` is when (UTC) the student can go on, if it frees up."""

    def __init__(self, message: str, *, limit: str, resets_at: datetime | None) -> None:
        super().__init__(message, reason=limit)
        self.limit = limit
        self.resets_at = resets_at


def wait_phrase(until: datetime, *, now: datetime) -> str:
    """'in 1 minute', 'in 42 minutes', 'in 3 hours' (zone-free, so right for everyone)."""
    minutes = max(1, math.ceil((until - now).total_seconds() / 60))
    if minutes < 90:
        return f"in {minutes} minute{'s' if minutes != 1 else ''}"
    hours = round(minutes / 60)
    return f"in {hours} hours"


@dataclass(frozen=True)
class Allowance:
    """How many new questions a student may have written now, and why not more."""

    questions: int
    # Which limit binds ("per hour", "per day") and when it next frees a question.
    window: str
    resets_at: datetime | None
    limit: int

    def refusal(self, *, now: datetime) -> LimitReached:
        when = wait_phrase(self.resets_at, now=now) if self.resets_at else "later"
        return LimitReached(
            f"You have reached your limit of {self.limit} new questions {self.window}. "
            f"I can write more for you {when}; until then /quiz and /review use the "
            "questions you already have.",
            limit=f"questions {self.window}",
            resets_at=self.resets_at,
        )


async def question_allowance(
    session: AsyncSession, *, user_id: int, settings: Settings, now: datetime
) -> Allowance:
    """The new questions this student may still have generated, under both windows."""
    found: list[Allowance] = []
    for window, span, limit in (
        ("per hour", HOUR, settings.max_questions_per_hour),
        ("per day", DAY, settings.max_questions_per_day),
    ):
        counted = _counted_questions()
        used = await session.scalar(
            select(func.coalesce(func.sum(counted), 0)).where(
                GenerationRun.requested_by == user_id, GenerationRun.created_at > now - span
            )
        )
        oldest = await session.scalar(
            select(func.min(GenerationRun.created_at)).where(
                GenerationRun.requested_by == user_id,
                GenerationRun.created_at > now - span,
                counted > 0,
            )
        )
        found.append(
            Allowance(
                questions=max(0, limit - int(used or 0)),
                window=window,
                resets_at=oldest + span if oldest is not None else None,
                limit=limit,
            )
        )
    return min(found, key=lambda allowance: allowance.questions)


def _counted_questions() -> ColumnElement[int]:
    return case(
        (GenerationRun.status == RunStatus.RUNNING, GenerationRun.requested),
        else_=GenerationRun.inserted,
    )


async def check_upload(
    session: AsyncSession, *, user_id: int, size_bytes: int, settings: Settings, now: datetime
) -> None:
    """Raises LimitReached when this upload would pass the uploads-per-day or stored-MB limit."""
    recent = await session.execute(
        select(func.count(), func.min(Material.created_at)).where(
            Material.uploaded_by == user_id, Material.created_at > now - DAY
        )
    )
    count, oldest = recent.one()
    if count >= settings.max_uploads_per_day:
        resets_at = oldest + DAY if oldest is not None else None
        when = wait_phrase(resets_at, now=now) if resets_at else "tomorrow"
        raise LimitReached(
            f"You have reached your limit of {settings.max_uploads_per_day} "
            f"upload{'s' if settings.max_uploads_per_day != 1 else ''} a day. "
            f"You can send the next PDF {when}.",
            limit="uploads per day",
            resets_at=resets_at,
        )
    stored = await session.scalar(
        select(func.coalesce(func.sum(Material.size_bytes), 0)).where(
            Material.uploaded_by == user_id
        )
    )
    limit_bytes = settings.max_stored_mb * 1024 * 1024
    if int(stored or 0) + size_bytes > limit_bytes:
        raise LimitReached(
            f"Your PDFs already take {int(stored or 0) / 1048576:.0f} MB of your "
            f"{settings.max_stored_mb} MB. Delete one you no longer need in /materials, "
            "then send this one again.",
            limit="stored MB",
            resets_at=None,
        )
