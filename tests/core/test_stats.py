"""The progress numbers on a hand-counted history (tests/progress_seed.py), on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from core import stats
from storage.db import Database
from tests.progress_seed import NOW, TZ, get_user, seed_history

NY = ZoneInfo(TZ)


async def test_this_week_against_last_week(any_db: Database) -> None:
    seeded = await seed_history(any_db)
    async with any_db.session() as session:
        summary = await stats.window_summary(session, seeded.user_id, NOW)
    # Cardiac 10 (3 right) + Nerves 3 (0 right) this week; Skeletal 8 (6 right) the week before.
    assert summary == stats.WindowSummary(13, 3, 8, 6)
    assert summary.previous_accuracy == 0.75


async def test_accuracy_by_topic_counts_every_answer_of_this_student_only(
    any_db: Database,
) -> None:
    seeded = await seed_history(any_db)
    async with any_db.session() as session:
        topics = await stats.accuracy_by_topic(session, seeded.user_id)
    assert [(t.topic, t.attempts, t.correct) for t in topics] == [
        ("Blood", 30, 20),
        ("Cardiac muscle", 10, 3),
        ("Skeletal muscle", 8, 6),
        ("Bone tissue", 6, 6),
        ("Nerves", 3, 0),
    ]
    cardiac = topics[1]
    assert cardiac.last_answered_at == datetime(2026, 3, 10, 4, 30, 2, tzinfo=UTC)


async def test_weak_topics_judge_recent_answers_and_need_enough_of_them(
    any_db: Database,
) -> None:
    seeded = await seed_history(any_db)
    async with any_db.session() as session:
        weak = await stats.weak_topics(session, seeded.user_id)
    # Blood is 20/30 all time (worse than Skeletal's 6/8) but its newest 20 are all right;
    # Nerves (0/3) has too few answers to judge; Bone tissue (6/6) is mastered.
    assert [(t.topic, t.attempts, t.correct) for t in weak] == [
        ("Cardiac muscle", 10, 3),
        ("Skeletal muscle", 8, 6),
    ]


async def test_weak_topics_ranks_by_recent_accuracy_when_the_bar_is_lifted(
    any_db: Database,
) -> None:
    seeded = await seed_history(any_db)
    async with any_db.session() as session:
        weak = await stats.weak_topics(session, seeded.user_id, below=1.01, limit=5)
        judged_on_three = await stats.weak_topics(session, seeded.user_id, min_attempts=3)
    assert [(t.topic, t.attempts, t.correct) for t in weak] == [
        ("Cardiac muscle", 10, 3),
        ("Skeletal muscle", 8, 6),
        ("Blood", 20, 20),  # more evidence than Bone tissue at the same 100%
        ("Bone tissue", 6, 6),
    ]
    assert [t.topic for t in judged_on_three] == ["Nerves", "Cardiac muscle", "Skeletal muscle"]


async def test_calibration_points_per_confidence_level(any_db: Database) -> None:
    seeded = await seed_history(any_db)
    async with any_db.session() as session:
        points = await stats.calibration(session, seeded.user_id)
    assert [(p.confidence, p.attempts, p.correct) for p in points] == [
        (1, 4, 1),
        (2, 6, 1),
        (3, 2, 1),
        (5, 10, 9),
    ]
    assert points[-1].accuracy == 0.9 and points[-1].target == 1.0
    assert points[0].accuracy == 0.25 and points[0].target == 0.2


async def test_daily_activity_uses_the_students_local_days_across_dst(
    any_db: Database,
) -> None:
    seeded = await seed_history(any_db)
    async with any_db.session() as session:
        days = await stats.daily_activity(session, seeded.user_id, NOW, NY)
    assert len(days) == 56
    assert days[0].day == date(2026, 1, 14) and days[-1].day == date(2026, 3, 10)
    busy = {d.day: (d.answered, d.correct) for d in days if d.answered}
    assert busy == {
        date(2026, 1, 20): (20, 20),
        date(2026, 2, 18): (6, 6),
        date(2026, 2, 28): (8, 6),
        date(2026, 3, 4): (5, 0),  # 23:30 EST is still the 4th
        date(2026, 3, 5): (3, 0),  # 00:30 EST is the 5th
        date(2026, 3, 9): (2, 2),  # 23:30 EDT, after the clocks went forward
        date(2026, 3, 10): (3, 1),
    }


async def test_due_today_tomorrow_and_the_14_day_forecast(any_db: Database) -> None:
    seeded = await seed_history(any_db)
    async with any_db.session() as session:
        forecast = await stats.review_forecast(session, seeded.user_id, NOW, NY)
    assert len(forecast) == 14
    assert forecast[0] == stats.DueDay(date(2026, 3, 10), 4)  # 2 overdue + 2 later today
    assert forecast[1] == stats.DueDay(date(2026, 3, 11), 3)
    assert forecast[10] == stats.DueDay(date(2026, 3, 20), 2)
    assert sum(day.due for day in forecast) == 9  # suspended and day-14 cards left out


async def test_history_is_newest_first_with_the_question_start(any_db: Database) -> None:
    seeded = await seed_history(any_db)
    async with any_db.session() as session:
        entries = await stats.history(session, seeded.user_id)
    assert len(entries) == 20
    first = entries[0]
    assert first.answered_at == datetime(2026, 3, 10, 4, 30, 2, tzinfo=UTC)
    assert (first.topic, first.correct, first.confidence, first.time_ms) == (
        "Cardiac muscle",
        False,
        2,
        14_000,
    )
    assert first.stem.startswith("Question 1 about cardiac muscle")
    assert entries[-1].topic == "Skeletal muscle"


async def test_dashboard_bundles_everything_with_the_streak(any_db: Database) -> None:
    seeded = await seed_history(any_db)
    user = await get_user(any_db, seeded.user_id)
    async with any_db.session() as session:
        board = await stats.load_dashboard(session, user, NOW)
    assert board.today == date(2026, 3, 10)
    assert (board.due_today, board.due_tomorrow) == (4, 3)
    assert board.total_answered == 57
    assert board.streak == 2 and board.best_streak == 6
    assert board.streak_days == {date(2026, 3, 9), date(2026, 3, 10)}
    assert [t.topic for t in board.weak] == ["Cardiac muscle", "Skeletal muscle"]


async def test_a_new_student_gets_zeros_not_errors(any_db: Database) -> None:
    seeded = await seed_history(any_db, external_id="ada")
    async with any_db.session() as session:
        from storage.enums import Platform
        from storage.repos.users import get_or_create_user

        newbie = await get_or_create_user(session, Platform.CONSOLE, "new")
        board = await stats.load_dashboard(session, newbie, NOW)
    assert seeded.user_id != newbie.id
    assert board.summary == stats.WindowSummary(0, 0, 0, 0)
    assert board.summary.accuracy is None
    assert board.topics == () and board.weak == () and board.calibration == ()
    assert sum(d.answered for d in board.activity) == 0
    assert [d.due for d in board.forecast] == [0] * 14
    assert board.streak == 0 and board.streak_days == frozenset()


def test_offset_segments_find_the_dst_change_to_the_second() -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    segments = stats.offset_segments(ZoneInfo("Europe/Berlin"), start, start + timedelta(days=56))
    assert segments == [
        (start, 3600),
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), 7200),
    ]
    kathmandu = stats.offset_segments(ZoneInfo("Asia/Kathmandu"), start, start + timedelta(7))
    assert kathmandu == [(start, 5 * 3600 + 45 * 60)]


async def test_half_hour_zones_get_their_own_midnight(any_db: Database) -> None:
    seeded = await seed_history(any_db)
    async with any_db.session() as session:
        days = await stats.daily_activity(session, seeded.user_id, NOW, ZoneInfo("Asia/Kolkata"))
    busy = {d.day: d.answered for d in days if d.answered}
    # 03:30 and 04:30 UTC on Mar 10 are 09:00 and 10:00 IST; 05:30 UTC Mar 5 is 11:00 IST.
    assert busy[date(2026, 3, 10)] == 5
    assert busy[date(2026, 3, 5)] == 8
