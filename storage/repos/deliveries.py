"""Deliveries: who is owed a push today, and the claim -> sent / failed record of each push.

A push is claimed (a row unique per user, kind and local day) in its own transaction before
anything is sent, so a day's reminder goes out at most once however often the job runs.
Time-zone arithmetic stays with the caller: it passes one `LocalMoment` per zone in use.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import DeliveryKind, DeliveryState, Platform
from storage.models import Attempt, Card, Delivery, User
from storage.repos.cards import is_due
from storage.types import UTCDateTime

# A claim older than this was left by a process that died mid-send; the next tick retries it.
# Sends take seconds and one scheduler runs at a time, so a live claim never gets this old.
CLAIM_LEASE = timedelta(seconds=60)
# A failed send is retried on later ticks with a doubling pause, up to MAX_ATTEMPTS sends.
MAX_ATTEMPTS = 6
RETRY_BACKOFF = timedelta(minutes=1)
MAX_RETRY_BACKOFF = timedelta(minutes=30)
ERROR_TEXT_LIMIT = 500


@dataclass(frozen=True)
class LocalMoment:
    """`now` as seen in one time zone: the local date, minutes since local midnight, and
    the UTC instant that local day began."""

    tz: str
    day: date
    minute: int
    day_start: datetime


class Recipient(NamedTuple):
    user_id: int
    platform: Platform
    address: str
    tz: str
    local_day: date


async def zones_in_use(session: AsyncSession) -> list[str]:
    """The distinct time zones of users who can currently receive pushes."""
    rows = await session.scalars(
        sa.select(User.tz).where(_reachable()).distinct().order_by(User.tz)
    )
    return list(rows)


async def due_review_recipients(
    session: AsyncSession,
    *,
    now: datetime,
    moments: Sequence[LocalMoment],
    platforms: Collection[Platform],
) -> list[Recipient]:
    """Users whose reminder time has passed today, with a due card, not yet reminded today.

    One query for everyone: the per-zone local date and clock time come in as CASE
    expressions; the due-card test probes ix_cards_user_due per user.
    """
    has_due = sa.exists().where(Card.user_id == User.id, is_due(now))
    reminder_minute = User.reminder_hour * 60 + User.reminder_minute
    return await _recipients(
        session,
        DeliveryKind.DUE_REVIEWS,
        moments,
        platforms,
        reminder_minute <= _by_zone(moments, "minute", sa.Integer()),
        has_due,
    )


async def weekly_digest_recipients(
    session: AsyncSession, *, moments: Sequence[LocalMoment], platforms: Collection[Platform]
) -> list[Recipient]:
    """Opted-in users (in zones where today is digest day) whose reminder time has passed."""
    reminder_minute = User.reminder_hour * 60 + User.reminder_minute
    return await _recipients(
        session,
        DeliveryKind.WEEKLY_DIGEST,
        moments,
        platforms,
        User.weekly_digest.is_(True),
        reminder_minute <= _by_zone(moments, "minute", sa.Integer()),
    )


async def streak_nudge_recipients(
    session: AsyncSession, *, moments: Sequence[LocalMoment], platforms: Collection[Platform]
) -> list[Recipient]:
    """Opted-in users with a live streak who have answered fewer than their daily goal today.

    `moments` are only the zones where it is already evening.
    """
    day_start = _by_zone(moments, "day_start", UTCDateTime())
    answered_today = (
        sa.select(sa.func.count())
        .where(Attempt.user_id == User.id, Attempt.answered_at >= day_start)
        .scalar_subquery()
    )
    # A streak survives one missed day (the weekly freeze), so two days back is still alive.
    alive_since = _by_zone([_shift_day(moment, -2) for moment in moments], "day", sa.Date())
    return await _recipients(
        session,
        DeliveryKind.STREAK_AT_RISK,
        moments,
        platforms,
        User.streak_nudge.is_(True),
        User.streak > 0,
        User.last_study_day >= alive_since,
        answered_today < User.daily_goal,
    )


async def claim(
    session: AsyncSession,
    *,
    user_id: int,
    kind: DeliveryKind,
    local_day: date,
    now: datetime,
    due_count: int = 0,
) -> Delivery | None:
    """Claims today's push of `kind` for the user; None if it is sent, in flight or spent.

    A new row is inserted with ON CONFLICT DO NOTHING; an existing one is re-claimed only
    if its claim is stale (a crash between claim and send) or its failure has waited out
    its backoff, by a compare-and-set UPDATE so two claimers can never both win.
    """
    values = {
        "user_id": user_id,
        "kind": kind,
        "local_day": local_day,
        "state": DeliveryState.CLAIMED,
        "attempts": 1,
        "due_count": due_count,
        "error": "",
        "claimed_at": now,
    }
    insert = _insert_for(session)(Delivery).values(**values)
    inserted = await session.scalar(
        insert.on_conflict_do_nothing(index_elements=["user_id", "kind", "local_day"]).returning(
            Delivery.id
        )
    )
    if inserted is not None:
        return await session.get(Delivery, inserted)
    row = (
        await session.execute(
            sa.select(Delivery.id, Delivery.state, Delivery.attempts, Delivery.claimed_at).where(
                Delivery.user_id == user_id, Delivery.kind == kind, Delivery.local_day == local_day
            )
        )
    ).one_or_none()
    if row is None or not _retryable(row.state, row.attempts, row.claimed_at, now):
        return None
    won = await session.scalar(
        sa.update(Delivery)
        .where(
            Delivery.id == row.id,
            Delivery.state == row.state,
            Delivery.attempts == row.attempts,
            Delivery.claimed_at == row.claimed_at,
        )
        .values(
            state=DeliveryState.CLAIMED,
            attempts=Delivery.attempts + 1,
            claimed_at=now,
            due_count=due_count,
            error="",
        )
        .returning(Delivery.id)
    )
    if won is None:
        return None
    delivery = await session.get(Delivery, won, populate_existing=True)
    return delivery


async def mark_sent(session: AsyncSession, delivery_id: int, *, now: datetime) -> None:
    await session.execute(
        sa.update(Delivery)
        .where(Delivery.id == delivery_id)
        .values(state=DeliveryState.SENT, sent_at=now, error="")
    )


async def mark_failed(session: AsyncSession, delivery_id: int, *, error: str) -> None:
    """Records a failed send; `claim` retries it later unless its attempts are spent."""
    await session.execute(
        sa.update(Delivery)
        .where(Delivery.id == delivery_id)
        .values(state=DeliveryState.FAILED, error=error[:ERROR_TEXT_LIMIT])
    )


async def mark_unreachable(session: AsyncSession, user_id: int) -> None:
    """The platform refused the user for good (blocked bot, deleted chat): stop pushing."""
    await session.execute(sa.update(User).where(User.id == user_id).values(unreachable=True))


async def deliveries_for(session: AsyncSession, user_id: int) -> list[Delivery]:
    rows = await session.scalars(
        sa.select(Delivery).where(Delivery.user_id == user_id).order_by(Delivery.id)
    )
    return list(rows)


def retry_backoff(attempts: int) -> timedelta:
    """The pause before re-sending after the `attempts`-th failed send."""
    return min(MAX_RETRY_BACKOFF, RETRY_BACKOFF * (2 ** max(0, attempts - 1)))


def _retryable(state: DeliveryState, attempts: int, claimed_at: datetime, now: datetime) -> bool:
    if state is DeliveryState.SENT or attempts >= MAX_ATTEMPTS:
        return False
    if state is DeliveryState.CLAIMED:
        return claimed_at <= now - CLAIM_LEASE
    return claimed_at <= now - retry_backoff(attempts)


def _reachable() -> sa.ColumnElement[bool]:
    return sa.and_(User.reminders_paused.is_(False), User.unreachable.is_(False))


async def _recipients(
    session: AsyncSession,
    kind: DeliveryKind,
    moments: Sequence[LocalMoment],
    platforms: Collection[Platform],
    *conditions: sa.ColumnElement[bool],
) -> list[Recipient]:
    if not moments or not platforms:
        return []
    local_day = _by_zone(moments, "day", sa.Date())
    done_today = sa.exists().where(
        Delivery.user_id == User.id,
        Delivery.kind == kind,
        Delivery.local_day == local_day,
        sa.or_(Delivery.state == DeliveryState.SENT, Delivery.attempts >= MAX_ATTEMPTS),
    )
    query = (
        sa.select(
            User.id, User.platform, User.external_id, User.notify_address, User.tz, local_day
        )
        .where(
            _reachable(),
            User.platform.in_(list(platforms)),
            User.tz.in_([moment.tz for moment in moments]),
            *conditions,
            ~done_today,
        )
        .order_by(User.id)
    )
    rows = await session.execute(query)
    return [
        Recipient(
            user_id=row[0],
            platform=Platform(row[1]),
            address=row[3] or row[2],
            tz=row[4],
            local_day=_as_date(row[5]),
        )
        for row in rows
    ]


def _by_zone(
    moments: Sequence[LocalMoment], field: str, type_: sa.types.TypeEngine[Any]
) -> sa.ColumnElement[Any]:
    """CASE users.tz WHEN 'Asia/Kolkata' THEN <that zone's value> ... END, typed for binding."""
    whens = {moment.tz: sa.literal(getattr(moment, field), type_) for moment in moments}
    return sa.case(whens, value=User.tz, else_=sa.null())


def _shift_day(moment: LocalMoment, days: int) -> LocalMoment:
    return LocalMoment(
        moment.tz, moment.day + timedelta(days=days), moment.minute, moment.day_start
    )


def _as_date(value: date | str) -> date:
    # SQLite hands a CASE of dates back as text: the expression has no column type to parse it.
    return value if isinstance(value, date) else date.fromisoformat(value)


def _insert_for(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert
