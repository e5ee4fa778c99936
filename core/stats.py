"""A student's progress numbers, each from one SQL aggregate (never a Python loop over every
attempt): the 7-day window against the 7 days before, accuracy per topic, daily activity in
the student's time zone, confidence calibration, cards due and the review forecast, weak
topics, and the latest answers.

Days are the student's local calendar days. PostgreSQL converts with `timezone()`; SQLite
has no zone database, so the UTC offsets in force over the window (a DST change included)
are computed here and applied as a CASE over the few offset segments.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import ColumnExpressionArgument

from core.srs import MASTERED_INTERVAL_DAYS, local_day, start_of_local_day, user_zone
from core.streaks import StreakState, current_streak
from storage.enums import Confidence, SchedulerKind
from storage.models import Attempt, Card, Question, User
from storage.repos.cards import cards_in_play, in_play
from storage.repos.retention import Bucket, recall_by_interval, recall_by_prediction

WINDOW_DAYS = 7
ACTIVITY_DAYS = 56  # eight weeks
FORECAST_DAYS = 14
# A topic is judged on its newest answers only, so old mistakes age out of "weak".
RECENT_PER_TOPIC = 20
WEAK_MIN_ATTEMPTS = 5
WEAK_COUNT = 3
# Below this recent accuracy a topic counts as weak (80% is the usual mastery bar).
WEAK_BELOW = 0.8
HISTORY_LIMIT = 20
# The ideal diagonal: what share a well-calibrated student gets right at each stated level
# ("guessing" on a five-option question is 20%, "certain" is 100%).
CONFIDENCE_TARGET = {
    Confidence.GUESSING: 0.2,
    Confidence.UNSURE: 0.4,
    Confidence.FAIRLY_SURE: 0.6,
    Confidence.SURE: 0.8,
    Confidence.CERTAIN: 1.0,
}
# DST changes never come closer together than this, so stepping by it finds each one.
_OFFSET_PROBE = timedelta(hours=6)


def _share(correct: int, answered: int) -> float | None:
    return correct / answered if answered else None


@dataclass(frozen=True)
class WindowSummary:
    """Answers in the last 7 days and in the 7 days before them."""

    answered: int
    correct: int
    previous_answered: int
    previous_correct: int

    @property
    def accuracy(self) -> float | None:
        return _share(self.correct, self.answered)

    @property
    def previous_accuracy(self) -> float | None:
        return _share(self.previous_correct, self.previous_answered)


@dataclass(frozen=True)
class TopicAccuracy:
    topic: str
    attempts: int
    correct: int
    last_answered_at: datetime | None = None

    @property
    def accuracy(self) -> float:
        return self.correct / self.attempts if self.attempts else 0.0


@dataclass(frozen=True)
class DayActivity:
    day: date
    answered: int
    correct: int


@dataclass(frozen=True)
class CalibrationPoint:
    """How often the student was right when they said they were this sure."""

    confidence: int
    attempts: int
    correct: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.attempts if self.attempts else 0.0

    @property
    def target(self) -> float:
        return CONFIDENCE_TARGET[Confidence(self.confidence)]


@dataclass(frozen=True)
class DueDay:
    day: date
    due: int


@dataclass(frozen=True)
class HistoryEntry:
    answered_at: datetime
    topic: str
    stem: str  # "" when the question has since been deleted
    correct: bool
    confidence: int | None
    time_ms: int


@dataclass(frozen=True)
class RetentionPanel:
    """Proof the scheduler works: the recall it predicted against the recall that happened
    (by prediction bucket), and true recall by interval, for the student's scheduler."""

    scheduler: SchedulerKind
    by_prediction: tuple[Bucket, ...]
    by_interval: tuple[Bucket, ...]
    # FSRS only: reviews the student's own parameters were fitted to (0 = package defaults).
    fitted_reviews: int = 0

    @property
    def reviews(self) -> int:
        return sum(bucket.reviews for bucket in self.by_prediction)


async def retention_panel(session: AsyncSession, user: User) -> RetentionPanel:
    scheduler = user.scheduler or SchedulerKind.SM2
    return RetentionPanel(
        scheduler=scheduler,
        by_prediction=tuple(await recall_by_prediction(session, user.id, scheduler)),
        by_interval=tuple(await recall_by_interval(session, user.id, scheduler)),
        fitted_reviews=user.fsrs_fitted_reviews if user.fsrs_parameters else 0,
    )


@dataclass(frozen=True)
class Dashboard:
    """Everything /stats shows, gathered in one pass of aggregates."""

    today: date
    summary: WindowSummary
    topics: tuple[TopicAccuracy, ...]
    weak: tuple[TopicAccuracy, ...]
    activity: tuple[DayActivity, ...]
    calibration: tuple[CalibrationPoint, ...]
    forecast: tuple[DueDay, ...]
    streak: int
    best_streak: int
    streak_days: frozenset[date]
    daily_goal: int
    xp: int
    # Cards not suspended, and those mastered (srs.MASTERED_INTERVAL_DAYS).
    cards: int = 0
    mastered: int = 0
    retention: RetentionPanel | None = None

    @property
    def total_answered(self) -> int:
        return sum(topic.attempts for topic in self.topics)

    @property
    def due_today(self) -> int:
        return self.forecast[0].due if self.forecast else 0

    @property
    def due_tomorrow(self) -> int:
        return self.forecast[1].due if len(self.forecast) > 1 else 0


def _correct_sum(column: ColumnExpressionArgument[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((column, 1), else_=0)), 0)


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _offset_seconds(tz: ZoneInfo, moment: datetime) -> int:
    offset = moment.astimezone(tz).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def offset_segments(tz: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """(from_instant, utc_offset_seconds) pieces covering [start, end), to the second."""
    segments = [(start, _offset_seconds(tz, start))]
    probe = start
    while probe < end:
        nxt = min(probe + _OFFSET_PROBE, end)
        if _offset_seconds(tz, nxt) != segments[-1][1]:
            # Binary search in whole seconds: zone transitions fall on whole seconds.
            low, high = 0, int((nxt - probe).total_seconds())
            while high - low > 1:
                middle = (low + high) // 2
                if _offset_seconds(tz, probe + timedelta(seconds=middle)) == segments[-1][1]:
                    low = middle
                else:
                    high = middle
            change = probe + timedelta(seconds=high)
            segments.append((change, _offset_seconds(tz, change)))
        probe = nxt
    return segments


def _local_day_expr(
    column: QueryableAttribute[datetime],
    *,
    dialect: str,
    tz: ZoneInfo,
    start: datetime,
    end: datetime,
) -> ColumnElement[object]:
    """SQL for the local calendar day of `column`, exact for instants in [start, end)."""
    if dialect == "postgresql":
        return sa.cast(func.timezone(sa.literal(tz.key, sa.String), column), sa.Date)

    def shifted(offset: int) -> ColumnElement[object]:
        return func.date(column, f"{offset:+d} seconds")

    segments = offset_segments(tz, start, end)
    if len(segments) == 1:
        return shifted(segments[0][1])
    whens = [
        (column < boundary, shifted(offset))
        for (boundary, _), (_, offset) in zip(segments[1:], segments[:-1], strict=True)
    ]
    return case(*whens, else_=shifted(segments[-1][1]))


async def window_summary(session: AsyncSession, user_id: int, now: datetime) -> WindowSummary:
    """Answered and right in the last 7 days, and in the 7 days before those."""
    since = now - timedelta(days=WINDOW_DAYS)
    earlier = since - timedelta(days=WINDOW_DAYS)
    recent = Attempt.answered_at >= since
    row = (
        await session.execute(
            select(
                func.coalesce(func.sum(case((recent, 1), else_=0)), 0),
                _correct_sum(sa.and_(recent, Attempt.correct.is_(True))),
                func.coalesce(func.sum(case((recent, 0), else_=1)), 0),
                _correct_sum(sa.and_(sa.not_(recent), Attempt.correct.is_(True))),
            ).where(
                Attempt.user_id == user_id,
                Attempt.answered_at >= earlier,
                Attempt.answered_at <= now,
            )
        )
    ).one()
    return WindowSummary(*(int(value) for value in row))


async def accuracy_by_topic(session: AsyncSession, user_id: int) -> list[TopicAccuracy]:
    """Every topic the student answered, most practised first."""
    rows = await session.execute(
        select(
            Attempt.topic,
            func.count(),
            _correct_sum(Attempt.correct),
            func.max(Attempt.answered_at),
        )
        .where(Attempt.user_id == user_id)
        .group_by(Attempt.topic)
    )
    topics = [
        TopicAccuracy(topic, int(count), int(correct), last)
        for topic, count, correct, last in rows
    ]
    return sorted(topics, key=lambda t: (-t.attempts, t.topic))


async def weak_topics(
    session: AsyncSession,
    user_id: int,
    *,
    limit: int = WEAK_COUNT,
    min_attempts: int = WEAK_MIN_ATTEMPTS,
    recent: int = RECENT_PER_TOPIC,
    below: float = WEAK_BELOW,
) -> list[TopicAccuracy]:
    """Topics whose newest `recent` answers (at least `min_attempts` of them) are under
    `below` right; weakest first, at most `limit`."""
    ranked = (
        select(
            Attempt.topic,
            Attempt.correct,
            Attempt.answered_at,
            func.row_number()
            .over(
                partition_by=Attempt.topic,
                order_by=(Attempt.answered_at.desc(), Attempt.id.desc()),
            )
            .label("rank"),
        )
        # An answer without a topic cannot be practised as one, so it is never "weak".
        .where(Attempt.user_id == user_id, Attempt.topic != "")
        .subquery()
    )
    rows = await session.execute(
        select(
            ranked.c.topic,
            func.count(),
            _correct_sum(ranked.c.correct),
            func.max(ranked.c.answered_at),
        )
        .where(ranked.c.rank <= recent)
        .group_by(ranked.c.topic)
        .having(func.count() >= min_attempts)
    )
    topics = [
        TopicAccuracy(topic, int(count), int(correct), last)
        for topic, count, correct, last in rows
        if int(correct) < below * int(count)
    ]
    topics.sort(key=lambda t: (t.accuracy, -t.attempts, t.topic))
    return topics[:limit]


async def daily_activity(
    session: AsyncSession, user_id: int, now: datetime, tz: ZoneInfo, days: int = ACTIVITY_DAYS
) -> list[DayActivity]:
    """Answers per local day for the `days` days ending today, oldest first, zeros included."""
    today = local_day(now, tz)
    first = today - timedelta(days=days - 1)
    start = start_of_local_day(first, tz)
    end = start_of_local_day(today + timedelta(days=1), tz)
    day = _local_day_expr(
        Attempt.answered_at, dialect=_dialect(session), tz=tz, start=start, end=end
    )
    inner = (
        select(day.label("day"), Attempt.correct)
        .where(
            Attempt.user_id == user_id,
            Attempt.answered_at >= start,
            Attempt.answered_at < end,
        )
        .subquery()
    )
    rows = await session.execute(
        select(inner.c.day, func.count(), _correct_sum(inner.c.correct)).group_by(inner.c.day)
    )
    counted = {_as_date(value): (int(n), int(right)) for value, n, right in rows}
    return [
        DayActivity(d, *counted.get(d, (0, 0)))
        for d in (first + timedelta(days=i) for i in range(days))
    ]


async def calibration(session: AsyncSession, user_id: int) -> list[CalibrationPoint]:
    """Share right per stated confidence level 1-5 (levels never used are left out)."""
    rows = await session.execute(
        select(Attempt.confidence, func.count(), _correct_sum(Attempt.correct))
        .where(Attempt.user_id == user_id, Attempt.confidence.is_not(None))
        .group_by(Attempt.confidence)
    )
    points = [
        CalibrationPoint(int(level), int(n), int(right))
        for level, n, right in rows
        if level in CONFIDENCE_TARGET
    ]
    return sorted(points, key=lambda p: p.confidence)


async def review_forecast(
    session: AsyncSession, user_id: int, now: datetime, tz: ZoneInfo, days: int = FORECAST_DAYS
) -> list[DueDay]:
    """Cards due per local day from today on; today includes everything overdue."""
    today = local_day(now, tz)
    start = start_of_local_day(today, tz)
    end = start_of_local_day(today + timedelta(days=days), tz)
    day = _local_day_expr(Card.due_at, dialect=_dialect(session), tz=tz, start=start, end=end)
    inner = (
        select(day.label("day"))
        .where(
            Card.user_id == user_id,
            Card.due_at < end,
            in_play(),
        )
        .subquery()
    )
    rows = await session.execute(select(inner.c.day, func.count()).group_by(inner.c.day))
    due = [0] * days
    for value, count in rows:
        due[max(0, (_as_date(value) - today).days)] += int(count)
    return [DueDay(today + timedelta(days=i), n) for i, n in enumerate(due)]


async def history(
    session: AsyncSession, user_id: int, limit: int = HISTORY_LIMIT
) -> list[HistoryEntry]:
    """The newest answers first, with the start of their question."""
    rows = await session.execute(
        select(
            Attempt.answered_at,
            Attempt.topic,
            func.coalesce(func.substr(Question.stem, 1, 120), ""),
            Attempt.correct,
            Attempt.confidence,
            Attempt.time_ms,
        )
        .outerjoin(Question, Question.id == Attempt.question_id)
        .where(Attempt.user_id == user_id)
        .order_by(Attempt.answered_at.desc(), Attempt.id.desc())
        .limit(limit)
    )
    return [
        HistoryEntry(at, topic, stem, bool(correct), confidence, int(time_ms))
        for at, topic, stem, correct, confidence, time_ms in rows
    ]


def streak_days(
    activity: Sequence[DayActivity], *, last_study_day: date | None, streak: int
) -> frozenset[date]:
    """The days with answers that make up the current streak (a frozen day has none)."""
    if streak <= 0 or last_study_day is None:
        return frozenset()
    studied = {entry.day for entry in activity if entry.answered}
    earliest = activity[0].day if activity else last_study_day
    days: set[date] = set()
    day, gap = last_study_day, 0
    # Walk back from the last study day; one empty day may be a spent freeze, two end it.
    while len(days) < streak and gap <= 1 and day >= earliest:
        if day in studied:
            days.add(day)
            gap = 0
        else:
            gap += 1
        day -= timedelta(days=1)
    return frozenset(days)


async def load_dashboard(session: AsyncSession, user: User, now: datetime) -> Dashboard:
    """Every number /stats shows for `user` at `now`."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(UTC)
    tz = user_zone(user)
    activity = await daily_activity(session, user.id, now, tz)
    state = StreakState(
        streak=user.streak,
        best_streak=user.best_streak,
        last_study_day=user.last_study_day,
        freeze_used_week=user.freeze_used_week,
    )
    streak = current_streak(state, now=now, tz=tz)
    cards, mastered = await cards_in_play(
        session, user.id, mastered_from_days=MASTERED_INTERVAL_DAYS
    )
    return Dashboard(
        today=local_day(now, tz),
        summary=await window_summary(session, user.id, now),
        topics=tuple(await accuracy_by_topic(session, user.id)),
        weak=tuple(await weak_topics(session, user.id)),
        activity=tuple(activity),
        calibration=tuple(await calibration(session, user.id)),
        forecast=tuple(await review_forecast(session, user.id, now, tz)),
        streak=streak,
        best_streak=max(user.best_streak, streak),
        streak_days=streak_days(activity, last_study_day=user.last_study_day, streak=streak),
        daily_goal=user.daily_goal,
        xp=user.xp,
        cards=cards,
        mastered=mastered,
        retention=await retention_panel(session, user),
    )
