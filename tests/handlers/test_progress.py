"""/stats, /weak, /next and /history through the real router, as a student sees them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core.buttons import decode
from core.grading import Answer, record_answer
from core.settings import Settings
from storage.db import Database
from storage.enums import AttemptSource, CardStatus, Platform, SchedulerKind
from storage.models import Card, Question, User
from tests.core.test_charts import png_size
from tests.progress_seed import NOW, add_material, seed_history
from tests.study_seed import T0, Clock, Student, router_for, seed_student


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def ada(settings: Settings, db: Database, clock: Clock) -> Student:
    return Student(router_for(settings, db, clock), clock)


async def seed(db: Database):  # type: ignore[no-untyped-def]
    return await seed_history(db, platform=Platform.CONSOLE)


async def test_stats_sends_the_dashboard_and_three_lines(
    db: Database, ada: Student, settings: Settings
) -> None:
    seeded = await seed(db)
    (reply,) = await ada.say("/stats")
    assert reply.image is not None
    assert reply.image.parent == settings.data_dir / "charts" / str(seeded.user_id)
    assert png_size(reply.image.read_bytes()) == (1080, 1920)
    assert reply.text.splitlines() == [
        "Last 7 days: 13 answered, 23% right (the 7 before: 8 answered, 75% right).",
        "Streak 2 days (best 6) · level 5, 1,240 XP (260 to go) · due today 4, tomorrow 3.",
        "Cards: 10 in play, 0 mastered (next review 21+ days away).",
        # The seeded answers predate the retention log: the panel says when it will show.
        "Retention (SM-2): shows up once you review cards a second time.",
    ]


async def test_stats_retention_panel_compares_predicted_and_actual_recall(
    db: Database, settings: Settings
) -> None:
    seeded = await seed_student(db, external_id="rita", count=4)
    async with db.session() as session:
        user = await session.get(User, seeded.user_id)
        assert user is not None
        user.scheduler = SchedulerKind.FSRS
        for question_id in seeded.question_ids:
            question = await session.get(Question, question_id)
            assert question is not None
            for day, choice in ((0, 0), (3, 0), (10, 1 if question_id % 2 else 0)):
                await record_answer(
                    session, user,
                    Answer(question=question, choice=choice, confidence=3, time_ms=4_000,
                           source=AttemptSource.QUIZ, answered_at=T0 + timedelta(days=day)),
                )  # fmt: skip
    rita = Student(router_for(settings, db, Clock(T0 + timedelta(days=11))),
                   Clock(T0 + timedelta(days=11)), external_id="rita")  # fmt: skip
    (reply,) = await rita.say("/stats")
    lines = reply.text.splitlines()
    assert "FSRS uses its default parameters until you have 400 reviews" in lines[3]
    predicted = next(line for line in lines if line.startswith("Retention (FSRS)"))
    assert re.search(r"\d+%→\d+% \(\d+\)", predicted)  # e.g. "87%→100% (4)"
    by_interval = next(line for line in lines if line.startswith("Recall by days"))
    # Four cards reviewed after 3 days, all recalled; after 7 days, half of them.
    assert "2-3d 100% (4)" in by_interval and "4-7d 50% (4)" in by_interval


async def test_stats_counts_cards_in_review_past_the_threshold_as_mastered(
    db: Database, ada: Student
) -> None:
    seeded = await seed(db)
    async with db.session() as session:
        ids = list(
            await session.scalars(
                select(Card.id)
                .where(Card.user_id == seeded.user_id, Card.status != CardStatus.SUSPENDED)
                .order_by(Card.id)
            )
        )
        await session.execute(
            update(Card).where(Card.id.in_(ids[:2])).values(status=CardStatus.REVIEW,
                                                            interval_days=21)
        )  # fmt: skip
        # Long interval but still learning, and one day short: neither counts.
        await session.execute(
            update(Card).where(Card.id == ids[2]).values(status=CardStatus.LEARNING,
                                                         interval_days=40)
        )  # fmt: skip
        await session.execute(
            update(Card).where(Card.id == ids[3]).values(status=CardStatus.REVIEW,
                                                         interval_days=20)
        )  # fmt: skip
    (reply,) = await ada.say("/stats")
    assert (
        reply.text.splitlines()[2] == "Cards: 10 in play, 2 mastered (next review 21+ days away)."
    )


async def test_stats_for_a_new_student_is_an_image_with_an_invitation(
    ada: Student, settings: Settings
) -> None:
    (reply,) = await ada.say("/stats")
    assert reply.image is not None and reply.image.is_file()
    assert "none answered" in reply.text
    assert "send /quiz to start" in reply.text


async def test_weak_lists_the_weakest_topics_with_a_quiz_button_each(
    db: Database, ada: Student
) -> None:
    seeded = await seed(db)
    (reply,) = await ada.say("/weak")
    assert reply.text.splitlines() == [
        "1. Cardiac muscle — 30% right (3 of your last 10)",
        "2. Skeletal muscle — 75% right (6 of your last 8)",
    ]
    buttons = reply.flat_buttons
    assert [b.label for b in buttons] == ["Quiz Cardiac muscle", "Quiz Skeletal muscle"]
    payloads = [decode(b.payload) for b in buttons]
    assert [(p.action, p.int_part(0)) for p in payloads] == [
        ("qt", seeded.question_ids["Cardiac muscle"]),
        ("qt", seeded.question_ids["Skeletal muscle"]),
    ]


async def test_the_weak_button_starts_a_quiz_on_that_topic(db: Database, ada: Student) -> None:
    await seed(db)
    (weak,) = await ada.say("/weak")
    replies = await ada.click(weak.flat_buttons[0].payload)
    asked = [r for r in replies if r.track]
    assert asked, [r.text for r in replies]
    assert "cardiac muscle" in asked[-1].text.lower()


async def test_weak_with_nothing_weak_says_so(db: Database, ada: Student) -> None:
    (reply,) = await ada.say("/weak")
    assert "No answers yet" in reply.text and reply.buttons == ()


async def test_next_puts_the_weak_topic_first_and_explains_each_pick(
    db: Database, ada: Student
) -> None:
    seeded = await seed(db)
    await add_material(db, seeded.scope_id, ["Cardiac muscle", "Smooth muscle"])
    (reply,) = await ada.say("/next")
    lines = reply.text.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("1. You got 3 of your last 10 on Cardiac muscle right (30%)")
    assert lines[1].startswith("2. 2 cards are due now")
    assert lines[2] == (
        "3. Smooth muscle is in muscle.pdf but you haven't answered a question on it yet. "
        "Send /quiz Smooth muscle"
    )
    assert [b.label for b in reply.flat_buttons] == ["Quiz Cardiac muscle", "Review 2 due"]
    assert [decode(b.payload).action for b in reply.flat_buttons] == ["qt", "rv"]


async def test_next_for_someone_with_nothing_points_to_an_upload(ada: Student) -> None:
    (reply,) = await ada.say("/next")
    assert "send me a PDF" in reply.text


async def test_history_shows_the_last_20_answers_newest_first(db: Database, ada: Student) -> None:
    await seed(db)
    (reply,) = await ada.say("/history")
    lines = reply.text.splitlines()
    assert reply.title == "Your last 20 answers"
    assert len(lines) == 20
    # 04:30:02 UTC on Mar 10 is 00:30 in New York, the student's "today".
    assert lines[0] == (
        "00:30 ✗ wrong · unsure · 14 s — Question 1 about cardiac muscle: which of the…"
    )
    assert lines[3].startswith("9 Mar 23:30 ✓ right · certain · 11 s")  # yesterday, EDT
    assert lines[5].startswith("5 Mar 00:30 ✗ wrong · unsure · 12 s — Question 4 about nerves")
    assert lines[-1].startswith("28 Feb 07:00 ✓ right · certain")


async def test_history_of_a_new_student(ada: Student) -> None:
    (reply,) = await ada.say("/history")
    assert "No answers yet" in reply.text
