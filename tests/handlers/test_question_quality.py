"""Quality and observed difficulty in use, through the real router: recomputed on every
answer, preferred when a quiz chooses among stored items, the floor retiring a bad item, and
the observed difficulty steering the adaptive choice once it exists."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core.settings import Settings
from storage.db import Database
from storage.enums import AttemptSource, CardStatus, Platform, RetiredBecause
from storage.models import Attempt, Card, Question, QuizItem
from storage.repos.users import get_or_create_user
from tests.handlers.test_quiz import question_of, right_button, wrong_button
from tests.study_seed import T0, Clock, Student, add_questions, router_for, seed_student


@pytest.fixture
def ada(settings: Settings, db: Database) -> Student:
    return Student(router_for(settings, db, Clock()), Clock())


async def _set(db: Database, question_id: int, **values: object) -> None:
    async with db.session() as session:
        await session.execute(update(Question).where(Question.id == question_id).values(**values))


async def _get(db: Database, question_id: int) -> Question:
    async with db.session() as session:
        question = await session.get(Question, question_id)
        assert question is not None
        return question


async def test_each_answer_recomputes_quality(db: Database, ada: Student) -> None:
    seeded = await seed_student(db, count=1)
    assert (await _get(db, seeded.question_ids[0])).quality is None
    question = question_of(await ada.say("/quiz 1"))
    ada.clock.tick(5)
    (confidence,) = await ada.click(right_button(question))
    await ada.click(confidence.flat_buttons[3].payload)
    rescored = await _get(db, seeded.question_ids[0])
    # One right answer, sure and fast: outside the target band (everyone right) only.
    assert rescored.quality == pytest.approx(0.65)
    assert rescored.observed_difficulty is None  # too few answers to say


async def test_a_quiz_prefers_the_better_proven_of_equally_hard_items(
    db: Database, ada: Student
) -> None:
    first, second, third = (await seed_student(db, count=3)).question_ids
    await _set(db, first, quality=0.5)
    await _set(db, second, quality=0.95)
    question = question_of(await ada.say("/quiz 1"))
    assert question.text.startswith("Q1:")
    await ada.say("/stop")
    # An unrated item ranks above a weak one (UNRATED_QUALITY = 0.6 > 0.5).
    await _set(db, second, retired_at=T0)
    question = question_of(await ada.say("/quiz 1"))
    assert question.text.startswith("Q2:")
    assert third


async def test_an_item_under_the_quality_floor_after_enough_answers_is_retired(
    db: Database, ada: Student
) -> None:
    (item,) = (await seed_student(db, count=1)).question_ids
    async with db.session() as session:
        others = [await get_or_create_user(session, Platform.CONSOLE, f"s{i}") for i in range(19)]
        for other in others:
            session.add(Card(user_id=other.id, question_id=item, due_at=T0))
            session.add(
                Attempt(
                    user_id=other.id, question_id=item, source=AttemptSource.QUIZ,
                    topic="Heart development", difficulty=3, choice=1, correct=False,
                    confidence=5, time_ms=5_000, quality=0, answered_at=T0 - timedelta(days=1),
                )
            )  # fmt: skip
    question = question_of(await ada.say("/quiz 1"))
    ada.clock.tick(5)
    (confidence,) = await ada.click(wrong_button(question))
    reveal, _summary = await ada.click(confidence.flat_buttons[4].payload)
    assert reveal.title == "Not quite ✗"  # the student still gets the full reveal
    retired = await _get(db, item)
    assert retired.quality is not None and retired.quality < 0.45
    assert retired.retired_because is RetiredBecause.LOW_QUALITY
    async with db.session() as session:
        statuses = list(await session.scalars(select(Card.status).where(Card.question_id == item)))
    assert len(statuses) == 20 and set(statuses) == {CardStatus.SUSPENDED}
    (nothing,) = await ada.say("/quiz 1")
    assert "nothing to quiz you on" in nothing.text.lower()


async def test_observed_difficulty_steers_the_adaptive_choice_once_known(
    db: Database, ada: Student
) -> None:
    first, second = (await seed_student(db, count=2)).question_ids
    # Both predicted 3 (the level of a new student); students found the first one hard.
    await _set(db, first, observed_difficulty=4.6, quality=0.99)
    question = question_of(await ada.say("/quiz 1"))
    assert question.text.startswith("Q1:")
    await ada.say("/stop")
    await _set(db, second, retired_at=T0)
    question = question_of(await ada.say("/quiz 1"))
    ada.clock.tick(5)
    (confidence,) = await ada.click(right_button(question))
    await ada.click(confidence.flat_buttons[3].payload)
    async with db.session() as session:
        attempt = await session.scalar(select(Attempt).where(Attempt.question_id == first))
    # The answer is logged at the observed level, which is what adaptive difficulty reads.
    assert attempt is not None and attempt.difficulty == 5


async def _asked_difficulty(db: Database) -> int:
    async with db.session() as session:
        item = await session.scalar(select(QuizItem).order_by(QuizItem.id.desc()))
        assert item is not None and item.question_id is not None
        question = await session.get(Question, item.question_id)
        assert question is not None
        return question.difficulty


async def test_within_a_quiz_the_next_difficulty_follows_the_last_answers(
    db: Database, ada: Student
) -> None:
    await seed_student(db, count=4)  # difficulty 3, the level of a new student
    async with db.session() as session:
        user = await get_or_create_user(session, Platform.CONSOLE, "ada")
        await add_questions(session, user, 3, difficulty=4, start=10)
        await add_questions(session, user, 3, difficulty=2, start=20)
    question = question_of(await ada.say("/quiz 10"))
    seen = []
    for right in (True, True, True, True, True, False, False, False, False):
        seen.append(await _asked_difficulty(db))
        ada.clock.tick(5)
        pick = right_button(question) if right else wrong_button(question)
        (confidence,) = await ada.click(pick)
        _reveal, question = await ada.click(confidence.flat_buttons[3].payload)
    # Four right at level 3: a step up to 4; a run of misses brings it back down to 2.
    assert seen[:4] == [3, 3, 3, 3]
    assert seen[4] == 4 and seen[5] == 4
    assert seen[-1] == 2
