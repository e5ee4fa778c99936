"""Due-review reminders: at the student's local hour, once a day, never after a pause."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from core.texts.reminders import reminder_text
from scheduler.pacing import Pacer
from scheduler.reminders import REVIEW_ACTION, Outcome, TickReport, run_tick
from storage.db import Database
from storage.enums import DeliveryKind, DeliveryState, Platform
from storage.models import User
from storage.repos.deliveries import CLAIM_LEASE, MAX_ATTEMPTS, deliveries_for
from tests.scheduler.conftest import Crash, RecordingNotifier, add_user, utc


async def tick(
    db: Database, notifier: RecordingNotifier, pacer: Pacer, now: datetime
) -> TickReport:
    return await run_tick(db, {notifier.platform: notifier}, pacer, now=now, clock=lambda: now)


async def test_kolkata_student_is_reminded_at_1900_local(db, notifier, pacer) -> None:
    await add_user(db, "asha", tz="Asia/Kolkata", due_cards=12)
    # 19:00 IST is 13:30 UTC.
    await tick(db, notifier, pacer, utc(2026, 6, 10, 13, 29))
    assert notifier.sent == []
    await tick(db, notifier, pacer, utc(2026, 6, 10, 13, 30))
    [message] = notifier.to("asha")
    assert message.text.startswith("12 cards due — about 6 minutes")
    assert [[b.payload for b in row] for row in message.buttons] == [[REVIEW_ACTION]]


async def test_new_york_student_is_reminded_at_1900_local_on_their_own_date(
    db, notifier, pacer
) -> None:
    user_id = await add_user(db, "nate", tz="America/New_York", due_cards=1)
    # January: EST, UTC-5. 19:00 on Jan 14 in New York is 00:00 UTC on Jan 15.
    await tick(db, notifier, pacer, utc(2026, 1, 14, 23, 59))
    assert notifier.sent == []
    await tick(db, notifier, pacer, utc(2026, 1, 15, 0, 0))
    assert [m.text.splitlines()[0] for m in notifier.to("nate")] == ["1 card due — about 1 minute"]
    async with db.session() as session:
        [delivery] = await deliveries_for(session, user_id)
    assert delivery.local_day == date(2026, 1, 14)
    assert delivery.state is DeliveryState.SENT


async def test_reminder_follows_the_wall_clock_across_a_dst_change(db, notifier, pacer) -> None:
    await add_user(db, "nate", tz="America/New_York", due_cards=3)
    # Sat 7 March 2026, EST (UTC-5): 19:00 local is 00:00 UTC on the 8th.
    await tick(db, notifier, pacer, utc(2026, 3, 7, 23, 59))
    await tick(db, notifier, pacer, utc(2026, 3, 8, 0, 0))
    assert len(notifier.sent) == 1
    # Clocks spring forward on Sunday the 8th at 02:00: now EDT (UTC-4), so 19:00 local is
    # 23:00 UTC — an hour earlier in UTC than yesterday. A fixed offset would wait until 00:00.
    await tick(db, notifier, pacer, utc(2026, 3, 8, 22, 59))
    assert len(notifier.sent) == 1
    await tick(db, notifier, pacer, utc(2026, 3, 8, 23, 0))
    assert len(notifier.sent) == 2
    await tick(db, notifier, pacer, utc(2026, 3, 9, 0, 0))
    assert len(notifier.sent) == 2, "still Sunday the 8th in New York: one reminder per day"


async def test_late_start_catches_up_the_same_evening(db, notifier, pacer) -> None:
    await add_user(db, "asha", tz="Asia/Kolkata", due_cards=2)
    # The bot was down at 19:00 IST and comes back at 21:40 IST.
    await tick(db, notifier, pacer, utc(2026, 6, 10, 16, 10))
    assert len(notifier.to("asha")) == 1


async def test_nothing_due_means_no_message(db, notifier, pacer) -> None:
    await add_user(db, "fresh", later_cards=5)
    await add_user(db, "empty")
    report = await tick(db, notifier, pacer, utc(2026, 6, 10, 20, 0))
    assert notifier.sent == []
    assert report.sent == 0


async def test_two_runs_of_the_job_send_once(db, notifier, pacer) -> None:
    await add_user(db, "ola", due_cards=4)
    now = utc(2026, 6, 10, 19, 5)
    await tick(db, notifier, pacer, now)
    await tick(db, notifier, pacer, now)
    await tick(db, notifier, pacer, now + timedelta(hours=3))
    assert len(notifier.to("ola")) == 1


async def test_a_restart_never_sends_twice(db, settings, notifier, pacer) -> None:
    await add_user(db, "ola", due_cards=4)
    now = utc(2026, 6, 10, 19, 5)
    await tick(db, notifier, pacer, now)
    restarted = Database(settings.database_url)  # a new process: new engine, new pool
    try:
        await tick(restarted, notifier, Pacer(), now + timedelta(minutes=1))
    finally:
        await restarted.dispose()
    assert len(notifier.to("ola")) == 1


async def test_a_crash_between_claim_and_send_is_retried_on_the_next_tick(
    db, notifier, pacer
) -> None:
    user_id = await add_user(db, "ola", due_cards=4)
    now = utc(2026, 6, 10, 19, 5)
    notifier.failures.append(Crash())
    with pytest.raises(Crash):
        await tick(db, notifier, pacer, now)
    async with db.session() as session:
        [delivery] = await deliveries_for(session, user_id)
    assert delivery.state is DeliveryState.CLAIMED
    # Within the lease the claim may still be in flight elsewhere: hands off.
    await tick(db, notifier, pacer, now + CLAIM_LEASE - timedelta(seconds=1))
    assert notifier.sent == []
    await tick(db, notifier, pacer, now + CLAIM_LEASE)
    assert len(notifier.to("ola")) == 1
    async with db.session() as session:
        [delivery] = await deliveries_for(session, user_id)
    assert (delivery.state, delivery.attempts) == (DeliveryState.SENT, 2)


async def test_a_failed_send_is_retried_with_backoff_then_given_up(db, notifier, pacer) -> None:
    user_id = await add_user(db, "ola", due_cards=4)
    now = utc(2026, 6, 10, 19, 0)
    notifier.failures.extend(ConnectionError("timeout") for _ in range(MAX_ATTEMPTS + 2))
    report = await tick(db, notifier, pacer, now)
    assert report.count(DeliveryKind.DUE_REVIEWS, Outcome.FAILED) == 1
    for minute in range(1, 120):
        await tick(db, notifier, pacer, now + timedelta(minutes=minute))
    async with db.session() as session:
        [delivery] = await deliveries_for(session, user_id)
    assert (delivery.state, delivery.attempts) == (DeliveryState.FAILED, MAX_ATTEMPTS)
    assert "timeout" in delivery.error
    assert len(notifier.failures) == 2, "exactly MAX_ATTEMPTS sends were tried, not one a minute"
    notifier.failures.clear()
    await tick(db, notifier, pacer, now + timedelta(days=1))
    assert len(notifier.to("ola")) == 1, "a new day is a new reminder"


async def test_a_transient_failure_then_success_sends_once(db, notifier, pacer) -> None:
    await add_user(db, "ola", due_cards=4)
    now = utc(2026, 6, 10, 19, 0)
    notifier.failures.append(ConnectionError("reset"))
    for minute in range(5):
        await tick(db, notifier, pacer, now + timedelta(minutes=minute))
    assert len(notifier.to("ola")) == 1


async def test_a_paused_student_gets_nothing(db, notifier, pacer) -> None:
    await add_user(db, "pia", due_cards=9, reminders_paused=True)
    await add_user(db, "ola", due_cards=1)
    await tick(db, notifier, pacer, utc(2026, 6, 10, 21, 0))
    assert [m.address for m in notifier.sent] == ["ola"]


async def test_a_blocked_bot_marks_the_student_unreachable_and_stops(db, notifier, pacer) -> None:
    blocked = await add_user(db, "bo", due_cards=2)
    await add_user(db, "ola", due_cards=1)
    notifier.unreachable.add("bo")
    report = await tick(db, notifier, pacer, utc(2026, 6, 10, 19, 0))
    assert report.count(DeliveryKind.DUE_REVIEWS, Outcome.UNREACHABLE) == 1
    assert [m.address for m in notifier.sent] == ["ola"]
    async with db.session() as session:
        assert (await session.get(User, blocked)).unreachable is True
    notifier.unreachable.clear()
    await tick(db, notifier, pacer, utc(2026, 6, 11, 19, 0))
    assert [m.address for m in notifier.sent] == ["ola", "ola"]


async def test_the_notify_address_is_used_when_known(db, notifier, pacer) -> None:
    await add_user(db, "4242", due_cards=1, notify_address="dm-99")
    await tick(db, notifier, pacer, utc(2026, 6, 10, 19, 0))
    assert [m.address for m in notifier.sent] == ["dm-99"]


async def test_only_platforms_with_a_running_adapter_are_pushed(db, pacer) -> None:
    await add_user(db, "tg", due_cards=1, platform=Platform.TELEGRAM)
    await add_user(db, "dc", due_cards=1, platform=Platform.DISCORD)
    telegram = RecordingNotifier(Platform.TELEGRAM)
    now = utc(2026, 6, 10, 19, 0)
    await run_tick(db, {Platform.TELEGRAM: telegram}, pacer, now=now, clock=lambda: now)
    assert [m.address for m in telegram.sent] == ["tg"]
    discord = RecordingNotifier(Platform.DISCORD)
    later = now + timedelta(minutes=1)
    await run_tick(
        db, {Platform.TELEGRAM: telegram, Platform.DISCORD: discord}, pacer,
        now=later, clock=lambda: later,
    )  # fmt: skip
    assert [m.address for m in discord.sent] == ["dc"]
    assert len(telegram.sent) == 1


def test_reminder_text_estimates_half_a_minute_per_card() -> None:
    assert reminder_text(12) == "12 cards due — about 6 minutes"
    assert reminder_text(1) == "1 card due — about 1 minute"
    assert reminder_text(3) == "3 cards due — about 2 minutes"
