"""The retention panel's numbers: a scheduler's predicted recall against what happened."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.elements import ColumnElement

from storage.enums import SchedulerKind
from storage.models import Attempt

# Lower edges of the predicted-recall buckets and of the interval (days since the previous
# review) buckets.
RECALL_EDGES = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95)
INTERVAL_EDGES = (0.0, 1.5, 3.5, 7.5, 14.5, 30.5)


@dataclass(frozen=True)
class Bucket:
    lower: float
    reviews: int
    recalled: int
    mean_predicted: float

    @property
    def actual(self) -> float:
        return self.recalled / self.reviews if self.reviews else 0.0


def _bucket_of(
    column: QueryableAttribute[float | None], edges: Sequence[float]
) -> ColumnElement[int]:
    whens = [(column >= edge, index) for index, edge in reversed(list(enumerate(edges)))]
    return case(*whens, else_=0)


async def _buckets(
    session: AsyncSession,
    user_id: int,
    scheduler: SchedulerKind,
    column: QueryableAttribute[float | None],
    edges: Sequence[float],
) -> list[Bucket]:
    index = _bucket_of(column, edges).label("bucket")
    rows = await session.execute(
        select(
            index,
            func.count(),
            func.coalesce(func.sum(case((Attempt.correct.is_(True), 1), else_=0)), 0),
            func.avg(Attempt.predicted_recall),
        )
        .where(
            Attempt.user_id == user_id,
            Attempt.scheduler == scheduler,
            Attempt.predicted_recall.is_not(None),
        )
        .group_by(index)
        .order_by(index)
    )
    return [
        Bucket(edges[int(i)], int(n), int(right), float(mean or 0.0)) for i, n, right, mean in rows
    ]


async def recall_by_prediction(
    session: AsyncSession, user_id: int, scheduler: SchedulerKind
) -> list[Bucket]:
    """Reviews judged by `scheduler`, grouped by the recall it predicted (RECALL_EDGES)."""
    return await _buckets(session, user_id, scheduler, Attempt.predicted_recall, RECALL_EDGES)


async def recall_by_interval(
    session: AsyncSession, user_id: int, scheduler: SchedulerKind
) -> list[Bucket]:
    """The same reviews grouped by the days since the card's previous review."""
    return await _buckets(session, user_id, scheduler, Attempt.elapsed_days, INTERVAL_EDGES)
