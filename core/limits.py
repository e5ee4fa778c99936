"""Per-student limits: questions generated per hour and per day, uploads per day, stored MB.

Windows slide (the last hour, the last 24 hours). A running generation counts what it asked
for; a finished one counts what it stored. Each refusal says which limit and when it frees up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import RoundsError
from core.settings import Settings
from storage.repos.usage import questions_generated_since, stored_bytes, uploads_since

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
        used, oldest = await questions_generated_since(session, user_id, now - span)
        found.append(
            Allowance(
                questions=max(0, limit - used),
                window=window,
                resets_at=oldest + span if oldest is not None else None,
                limit=limit,
            )
        )
    return min(found, key=lambda allowance: allowance.questions)


async def check_upload(
    session: AsyncSession, *, user_id: int, size_bytes: int, settings: Settings, now: datetime
) -> None:
    """Raises LimitReached when this upload would pass the uploads-per-day or stored-MB limit."""
    count, oldest = await uploads_since(session, user_id, now - DAY)
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
    stored = await stored_bytes(session, user_id)
    limit_bytes = settings.max_stored_mb * 1024 * 1024
    if stored + size_bytes > limit_bytes:
        raise LimitReached(
            f"Your PDFs already take {stored / 1048576:.0f} MB of your "
            f"{settings.max_stored_mb} MB. Delete one you no longer need in /materials, "
            "then send this one again.",
            limit="stored MB",
            resets_at=None,
        )
