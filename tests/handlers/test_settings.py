"""/settings: typed and clicked changes land on the student, bad input explains itself."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.settings import Settings
from storage.db import Database
from storage.enums import SchedulerKind
from storage.models import User
from tests.study_seed import Clock, Student, router_for, seed_student


@pytest.fixture
def ada(settings: Settings, db: Database) -> Student:
    return Student(router_for(settings, db, Clock()), Clock())


async def stored(db: Database, external_id: str = "ada") -> User:
    async with db.session() as session:
        user = await session.scalar(select(User).where(User.external_id == external_id))
        assert user is not None
        return user


async def test_the_panel_shows_every_setting_with_buttons(ada: Student) -> None:
    (panel,) = await ada.say("/settings")
    assert panel.title == "Settings"
    for line in ("Daily reminder: 19:00 (on)", "Time zone: UTC", "Daily goal: 10 questions",
                 "Difficulty: adaptive", "Weekly digest: off", "Streak nudge: off",
                 "Scheduler: SM-2"):  # fmt: skip
        assert line in panel.text
    labels = [b.label for b in panel.flat_buttons]
    assert "Pause reminders" in labels and "Auto" in labels and "Goal 20" in labels


@pytest.mark.parametrize(
    ("line", "saved", "check"),
    [
        ("/settings tz Asia/Kolkata", "time zone Asia/Kolkata", ("tz", "Asia/Kolkata")),
        ("/settings timezone america/new_york", "time zone America/New_York",
         ("tz", "America/New_York")),
        ("/settings reminder 7:30", "reminder at 07:30", ("reminder_minute", 30)),
        ("/settings reminder 9pm", "reminder at 21:00", ("reminder_hour", 21)),
        ("/settings pause", "reminders paused", ("reminders_paused", True)),
        ("/settings digest on", "weekly digest on", ("weekly_digest", True)),
        ("/settings nudge on", "streak nudge on", ("streak_nudge", True)),
        ("/settings goal 25", "daily goal 25", ("daily_goal", 25)),
        ("/settings difficulty 4", "difficulty 4", ("difficulty", 4)),
        ("/settings difficulty auto", "difficulty adaptive", ("difficulty", None)),
        ("/settings scheduler fsrs", "scheduler FSRS", ("scheduler", SchedulerKind.FSRS)),
        ("/settings scheduler SM-2", "scheduler SM-2", ("scheduler", SchedulerKind.SM2)),
        ("/settings retention 0.85", "FSRS target retention 85%", ("desired_retention", 0.85)),
        ("/settings retention 93%", "FSRS target retention 93%", ("desired_retention", 0.93)),
    ],
)  # fmt: skip
async def test_typed_settings_are_saved(
    db: Database, ada: Student, line: str, saved: str, check: tuple[str, object]
) -> None:
    (reply,) = await ada.say(line)
    assert reply.text.startswith(f"Saved: {saved}.")
    field, value = check
    assert getattr(await stored(db), field) == value


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("/settings tz Mars/Olympus", "I don't know the time zone 'Mars/Olympus'"),
        ("/settings tz ../../etc/passwd", "I don't know the time zone"),
        ("/settings reminder 25:00", "is not a time of day"),
        ("/settings reminder 13pm", "is not a time of day"),
        ("/settings goal 0", "daily goal is a number"),
        ("/settings difficulty 9", "Difficulty is auto"),
        ("/settings digest maybe", "Say on or off"),
        ("/settings scheduler anki", "The scheduler is sm2"),
        ("/settings retention 0.5", "from 0.80 to 0.97"),
        ("/settings retention 0.99", "from 0.80 to 0.97"),
        ("/settings retention lots", "from 0.80 to 0.97"),
        ("/settings colour blue", "I didn't understand that setting."),
    ],
)
async def test_bad_values_explain_and_change_nothing(
    db: Database, ada: Student, line: str, message: str
) -> None:
    await ada.say("/settings")
    before = await stored(db)
    (reply,) = await ada.say(line)
    assert message in reply.text
    after = await stored(db)
    assert (after.tz, after.reminder_hour, after.daily_goal, after.difficulty) == (
        before.tz, before.reminder_hour, before.daily_goal, before.difficulty,
    )  # fmt: skip


async def test_buttons_change_the_clicking_student_only(db: Database, ada: Student) -> None:
    (panel,) = await ada.say("/settings")
    bob = Student(ada.router, ada.clock, external_id="bob")
    await bob.say("/settings")
    pause = next(b for b in panel.flat_buttons if b.label == "Pause reminders")
    (updated,) = await ada.click(pause.payload)
    assert updated.text.startswith("Saved: reminders paused.") and updated.edit_of == "1"
    assert "Resume reminders" in [b.label for b in updated.flat_buttons]
    # Bob pressing the same button on Ada's message changes Bob, never Ada.
    level = next(b for b in panel.flat_buttons if b.label == "Level 5")
    await bob.click(level.payload)
    assert (await stored(db, "bob")).difficulty == 5
    assert (await stored(db)).difficulty is None and (await stored(db)).reminders_paused


@pytest.mark.parametrize("payload", ["set:diff:9", "set:colour:blue", "set:goal:x", "set"])
async def test_forged_settings_buttons_are_refused(
    db: Database, ada: Student, payload: str
) -> None:
    await ada.say("/settings")
    (reply,) = await ada.click(payload)
    assert reply.is_alert and "not valid" in reply.text
    user = await stored(db)
    assert (user.difficulty, user.daily_goal) == (None, 10)


async def test_the_time_zone_decides_which_day_is_tomorrow(db: Database, ada: Student) -> None:
    await seed_student(db, count=1)
    await ada.say("/settings tz Pacific/Auckland")  # 18:00 UTC is 07:00 on Tuesday there
    (question,) = await ada.say("/quiz 1")
    (confidence,) = await ada.click(question.flat_buttons[0].payload)
    reveal, _ = await ada.click(confidence.flat_buttons[3].payload)
    assert "Next review: tomorrow (Wed 25 Nov)" in reveal.text
