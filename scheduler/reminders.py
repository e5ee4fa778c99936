"""The push jobs: due-review reminders, the weekly digest and the evening streak nudge.

Each tick asks storage who is owed a push right now (their local time has come, nothing was
sent today), then delivers to each: claim -> pace -> send -> sent / failed, one short
transaction on either side of the network call so no database lock waits on a platform.

    claimed --send ok--------------> sent      (final: never sent again that local day)
       |  \\--error-----------------> failed    (re-claimed after a backoff, < MAX_ATTEMPTS)
       |   \\--RecipientUnreachable-> failed    + user.unreachable: no more pushes
       \\--process died (no verdict)-> stays claimed; re-claimed once CLAIM_LEASE has passed
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncSession

from core.buttons import Button
from core.srs import start_of_local_day
from core.streaks import StreakState, current_streak
from core.texts import reminders as texts
from scheduler.notifier import Notifier, RecipientUnreachable
from scheduler.pacing import Pacer
from storage.db import Database
from storage.enums import DeliveryKind, Platform
from storage.models import User
from storage.repos import deliveries
from storage.repos.attempts import answers_since, count_answers_from
from storage.repos.cards import count_due
from storage.repos.deliveries import LocalMoment, Recipient

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

# The study loop registers this button action: it starts a review session.
REVIEW_ACTION = "rv"
REVIEW_BUTTON = Button(texts.START_REVIEW, REVIEW_ACTION)
# The streak nudge goes out from this local time on; the weekly digest on this weekday.
EVENING_MINUTE = 20 * 60
DIGEST_WEEKDAY = 6  # Sunday (date.weekday())
DIGEST_DAYS = 7
# Concurrent sends per platform: enough to fill the pacing rate despite network latency
# (30/s with 200 ms round trips needs 6 in flight); the bucket, not this, sets the rate.
SEND_CONCURRENCY = 12


class Outcome(StrEnum):
    SENT = "sent"
    FAILED = "failed"
    UNREACHABLE = "unreachable"
    SKIPPED = "skipped"  # nothing to say after all, or someone else holds the claim


@dataclass(frozen=True)
class Push:
    """What one user is sent."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    due_count: int = 0


@dataclass
class TickReport:
    """How one tick went, per kind of push."""

    outcomes: dict[DeliveryKind, Counter[Outcome]] = field(default_factory=dict)

    def count(self, kind: DeliveryKind, outcome: Outcome) -> int:
        return self.outcomes.get(kind, Counter())[outcome]

    @property
    def sent(self) -> int:
        return sum(counter[Outcome.SENT] for counter in self.outcomes.values())


Compose = Callable[[AsyncSession, User, datetime], Awaitable[Push | None]]


# --- what each push says (the words are in core/texts/reminders.py) ------------------------


async def compose_due_reviews(session: AsyncSession, user: User, now: datetime) -> Push | None:
    due = await count_due(session, user.id, now)
    if due == 0:
        return None
    return Push(text=texts.due_reviews_text(due), buttons=((REVIEW_BUTTON,),), due_count=due)


async def compose_weekly_digest(session: AsyncSession, user: User, now: datetime) -> Push:
    answered, correct = await answers_since(session, user.id, now - timedelta(days=DIGEST_DAYS))
    due = await count_due(session, user.id, now)
    streak = current_streak(_streak_state(user), now=now, tz=user.tz)
    text = texts.weekly_digest_text(
        answered=answered, correct=correct, streak=streak, level=user.level, xp=user.xp, due=due
    )
    buttons = ((REVIEW_BUTTON,),) if due else ()
    return Push(text=text, buttons=buttons, due_count=due)


async def compose_streak_nudge(session: AsyncSession, user: User, now: datetime) -> Push | None:
    streak = current_streak(_streak_state(user), now=now, tz=user.tz)
    day_start = start_of_local_day(now.astimezone(ZoneInfo(user.tz)).date(), user.tz)
    answered = await count_answers_from(session, user.id, day_start)
    if streak == 0 or answered >= user.daily_goal:
        return None
    due = await count_due(session, user.id, now)
    text = texts.streak_nudge_text(streak=streak, answered=answered, goal=user.daily_goal, due=due)
    buttons = ((REVIEW_BUTTON,),) if due else ()
    return Push(text=text, buttons=buttons, due_count=due)


def _streak_state(user: User) -> StreakState:
    return StreakState(
        streak=user.streak,
        best_streak=user.best_streak,
        last_study_day=user.last_study_day,
        freeze_used_week=user.freeze_used_week,
    )


# --- who, and when ------------------------------------------------------------------------


def local_moments(zones: Iterable[str], now: datetime) -> list[LocalMoment]:
    """`now` in each zone (zoneinfo, so DST-correct); unknown zone names are skipped."""
    moments = []
    for tz in zones:
        try:
            zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            log.warning("skipping users with unknown time zone %r", tz)
            continue
        local = now.astimezone(zone)
        moments.append(
            LocalMoment(
                tz=tz,
                day=local.date(),
                minute=local.hour * 60 + local.minute,
                day_start=start_of_local_day(local.date(), zone),
            )
        )
    return moments


async def run_tick(
    db: Database,
    notifiers: Mapping[Platform, Notifier],
    pacer: Pacer,
    *,
    now: datetime,
    clock: Clock | None = None,
    stopping: asyncio.Event | None = None,
) -> TickReport:
    """One pass of every push job at `now`. Idempotent: a second pass sends nothing new."""
    if now.utcoffset() != timedelta(0):
        raise ValueError("now must be UTC-aware")
    clock = clock or (lambda: datetime.now(UTC))
    report = TickReport()
    platforms = [platform for platform, notifier in notifiers.items() if notifier is not None]
    if not platforms:
        return report
    async with db.session() as session:
        moments = local_moments(await deliveries.zones_in_use(session), now)
        due = await deliveries.due_review_recipients(
            session, now=now, moments=moments, platforms=platforms
        )
        sunday = [m for m in moments if m.day.weekday() == DIGEST_WEEKDAY]
        digest = await deliveries.weekly_digest_recipients(
            session, moments=sunday, platforms=platforms
        )
        evening = [m for m in moments if m.minute >= EVENING_MINUTE]
        nudge = await deliveries.streak_nudge_recipients(
            session, moments=evening, platforms=platforms
        )
    jobs: Sequence[tuple[DeliveryKind, list[Recipient], Compose]] = (
        (DeliveryKind.DUE_REVIEWS, due, compose_due_reviews),
        (DeliveryKind.WEEKLY_DIGEST, digest, compose_weekly_digest),
        (DeliveryKind.STREAK_AT_RISK, nudge, compose_streak_nudge),
    )
    for kind, recipients, compose in jobs:
        if recipients:
            report.outcomes[kind] = await fan_out(
                db, notifiers, pacer, kind, recipients, compose,
                now=now, clock=clock, stopping=stopping,
            )  # fmt: skip
    return report


async def fan_out(
    db: Database,
    notifiers: Mapping[Platform, Notifier],
    pacer: Pacer,
    kind: DeliveryKind,
    recipients: Sequence[Recipient],
    compose: Compose,
    *,
    now: datetime,
    clock: Clock,
    stopping: asyncio.Event | None = None,
) -> Counter[Outcome]:
    """Delivers to every recipient, a few at a time per platform, paced by the shared bucket."""
    outcomes: Counter[Outcome] = Counter()
    by_platform: dict[Platform, list[Recipient]] = {}
    for recipient in recipients:
        by_platform.setdefault(recipient.platform, []).append(recipient)

    async def worker(notifier: Notifier, queue: list[Recipient]) -> None:
        while queue and not (stopping is not None and stopping.is_set()):
            recipient = queue.pop()
            outcome = await deliver(
                db, notifier, pacer, kind, recipient, compose, now=now, clock=clock
            )
            outcomes[outcome] += 1

    workers = []
    for platform, queue in by_platform.items():
        queue.reverse()  # pop() from the end serves users in query order
        count = min(SEND_CONCURRENCY, len(queue))
        workers += [worker(notifiers[platform], queue) for _ in range(count)]
    await asyncio.gather(*workers)
    return outcomes


async def deliver(
    db: Database,
    notifier: Notifier,
    pacer: Pacer,
    kind: DeliveryKind,
    recipient: Recipient,
    compose: Compose,
    *,
    now: datetime,
    clock: Clock,
) -> Outcome:
    """Claims, sends and records one push. The claim commits before the network call."""
    async with db.session() as session:
        user = await session.get(User, recipient.user_id)
        # Re-read inside the claim: the user may have paused or reviewed since the query.
        if user is None or user.reminders_paused or user.unreachable:
            return Outcome.SKIPPED
        push = await compose(session, user, now)
        if push is None:
            return Outcome.SKIPPED
        delivery = await deliveries.claim(
            session,
            user_id=user.id,
            kind=kind,
            local_day=recipient.local_day,
            now=clock(),
            due_count=push.due_count,
        )
        if delivery is None:
            return Outcome.SKIPPED
        delivery_id = delivery.id
    await pacer.acquire(recipient.platform)
    try:
        await notifier.send(recipient.address, push.text, push.buttons)
    except RecipientUnreachable as error:
        log.info("user %s is unreachable (%s); no more pushes", recipient.user_id, error.reason)
        async with db.session() as session:
            await deliveries.mark_failed(session, delivery_id, error=f"unreachable: {error}")
            await deliveries.mark_unreachable(session, recipient.user_id)
        return Outcome.UNREACHABLE
    except Exception as error:  # any transient platform failure: retried on a later tick
        log.warning("push %s to user %s failed: %r", kind, recipient.user_id, error)
        async with db.session() as session:
            await deliveries.mark_failed(session, delivery_id, error=repr(error))
        return Outcome.FAILED
    async with db.session() as session:
        await deliveries.mark_sent(session, delivery_id, now=clock())
    return Outcome.SENT
