"""The opt-in pushes: a Sunday digest and an evening nudge when a streak is at risk."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from scheduler.reminders import run_tick
from storage.db import Database
from storage.enums import AttemptSource, DeliveryKind
from storage.models import Attempt
from storage.repos.deliveries import deliveries_for
from tests.scheduler.conftest import RecordingNotifier, add_user, utc

SUNDAY = date(2026, 6, 14)


async def answer(db: Database, user_id: int, at: datetime, count: int, correct: int) -> None:
    async with db.session() as session:
        for index in range(count):
            session.add(
                Attempt(
                    user_id=user_id,
                    source=AttemptSource.QUIZ,
                    choice=0,
                    correct=index < correct,
                    time_ms=5000,
                    quality=4,
                    answered_at=at,
                )
            )


async def tick(db, notifier, pacer, now):  # type: ignore[no-untyped-def]
    return await run_tick(db, {notifier.platform: notifier}, pacer, now=now, clock=lambda: now)


async def test_weekly_digest_is_off_by_default_and_sent_once_on_sunday(
    db, notifier: RecordingNotifier, pacer
) -> None:
    reader = await add_user(db, "reader", weekly_digest=True, streak=4, last_study_day=SUNDAY)
    await add_user(db, "quiet")  # default settings: no digest
    await answer(db, reader, utc(2026, 6, 12, 9, 0), count=20, correct=15)
    await tick(db, notifier, pacer, utc(2026, 6, 13, 19, 30))  # Saturday
    await tick(db, notifier, pacer, utc(2026, 6, 14, 18, 59))  # Sunday, before reminder time
    assert notifier.sent == []
    sunday_evening = utc(2026, 6, 14, 19, 0)
    for minutes in (0, 1, 60):
        await tick(db, notifier, pacer, sunday_evening + timedelta(minutes=minutes))
    [digest] = notifier.sent
    assert digest.address == "reader"
    assert "20 answered, 75% correct" in digest.text
    assert "Streak: 4 days" in digest.text


async def test_streak_nudge_in_the_evening_when_the_daily_goal_is_not_met(
    db, notifier: RecordingNotifier, pacer
) -> None:
    yesterday = date(2026, 6, 9)
    behind = await add_user(
        db, "behind", tz="Asia/Kolkata", streak_nudge=True, streak=5, last_study_day=yesterday,
        daily_goal=10, due_cards=2,
    )  # fmt: skip
    done = await add_user(
        db, "done", tz="Asia/Kolkata", streak_nudge=True, streak=5,
        last_study_day=date(2026, 6, 10), daily_goal=3,
    )  # fmt: skip
    await add_user(db, "no-streak", tz="Asia/Kolkata", streak_nudge=True, streak=0)
    await add_user(db, "default", tz="Asia/Kolkata", streak=9, last_study_day=yesterday)
    # 10 June, 10:00 IST: some answers today.
    await answer(db, behind, utc(2026, 6, 10, 4, 30), count=3, correct=3)
    await answer(db, done, utc(2026, 6, 10, 4, 30), count=3, correct=1)
    await tick(db, notifier, pacer, utc(2026, 6, 10, 14, 29))  # 19:59 IST: not evening yet
    assert [m.address for m in notifier.sent] == ["behind"]  # its due-review reminder only
    await tick(db, notifier, pacer, utc(2026, 6, 10, 14, 30))  # 20:00 IST
    await tick(db, notifier, pacer, utc(2026, 6, 10, 15, 30))
    nudges = [m for m in notifier.sent if "streak" in m.text]
    assert [m.address for m in nudges] == ["behind"]
    assert "5-day streak is at risk: 3 of your 10 answered today" in nudges[0].text
    async with db.session() as session:
        kinds = sorted(d.kind for d in await deliveries_for(session, behind))
    assert kinds == [DeliveryKind.DUE_REVIEWS, DeliveryKind.STREAK_AT_RISK]


async def test_no_nudge_once_the_streak_has_lapsed(db, notifier: RecordingNotifier, pacer) -> None:
    # Last studied four days ago: nothing left to lose.
    await add_user(db, "gone", streak_nudge=True, streak=7, last_study_day=date(2026, 6, 6))
    await tick(db, notifier, pacer, utc(2026, 6, 10, 21, 0))
    assert notifier.sent == []
