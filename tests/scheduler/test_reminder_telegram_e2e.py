"""The daily reminder as a student meets it: a Telegram message with a button that starts
the review, pushed by the real push scheduler through each Telegram runtime (PTB, aiogram) and
the fake Bot API, at the student's local hour on an injected clock (no sleeping)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from core.settings import Settings
from scheduler.service import PushScheduler
from storage.enums import DeliveryState, Platform
from storage.models import Card, Delivery, User
from tests.bot.telegram_harness import running_bot
from tests.study_seed import Clock, seed_student

pytestmark = pytest.mark.telegram_runtimes

STUDENT = 3003
# 19:05 in Kolkata (UTC+05:30) is 13:35 UTC.
AFTER_REMINDER_TIME = datetime(2026, 11, 24, 13, 35, tzinfo=UTC)
BEFORE_REMINDER_TIME = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)


async def test_the_reminder_arrives_with_a_button_that_starts_the_review(
    settings: Settings,
) -> None:
    clock = Clock(BEFORE_REMINDER_TIME)
    async with running_bot(settings, clock=clock) as tg:
        db = tg.app.services.db
        seeded = await seed_student(
            db, external_id=str(STUDENT), platform=Platform.TELEGRAM, count=3
        )
        async with db.session() as session:
            user = await session.get(User, seeded.user_id)
            assert user is not None
            user.tz, user.reminder_hour, user.reminder_minute = "Asia/Kolkata", 19, 0
            session.add_all(
                Card(user_id=user.id, question_id=question_id, due_at=BEFORE_REMINDER_TIME)
                for question_id in seeded.question_ids
            )
        student = tg.fake.user(STUDENT, "Priya")
        pushes = PushScheduler(db, tg.app.notifiers, clock=clock)

        await pushes.tick()
        assert tg.fake.bot_messages(STUDENT) == [], "nothing before the student's hour"

        clock.now = AFTER_REMINDER_TIME
        await pushes.tick()
        await pushes.tick()  # a second tick the same day sends nothing more
        reminders = [m for m in tg.fake.bot_messages(STUDENT) if "cards due" in m.text]
        assert len(reminders) == 1
        reminder = reminders[0]
        assert "3 cards due — about 2 minutes" in reminder.text
        async with db.session() as session:
            states = await session.scalars(select(Delivery.state))
            assert list(states) == [DeliveryState.SENT]

        await tg.fake.wait_answered(
            tg.fake.press(student, reminder, reminder.button("Start review"))
        )
        question = await tg.fake.wait_for_message(STUDENT, "Review 1 of 3")
        assert [b["text"] for b in question.buttons[0]] == ["A", "B", "C", "D"]
        async with db.session() as session:
            cards = await session.scalar(select(func.count()).select_from(Card))
        assert cards == 3
