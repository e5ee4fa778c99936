"""The study service: plan, ask, answer, confidence, reveal, summary — and every bad click."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import stats, study
from core.errors import RoundsError
from storage.db import Database
from storage.enums import AttemptSource, CardStatus, ItemState, SessionKind, SessionState
from storage.models import Attempt, Card, Question, QuizItem, QuizSession, User
from tests.study_seed import FILENAME, HEADING, add_questions, seed_student

NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)


async def in_session(
    db: Database, user_id: int, work: Callable[[AsyncSession, User], Awaitable[Any]]
) -> Any:
    async with db.session() as session:
        user = await session.get(User, user_id)
        assert user is not None
        return await work(session, user)


async def count(db: Database, model: type) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def scope_of(db: Database, user_id: int) -> int:
    from storage.repos.chats import personal_scope

    return await in_session(db, user_id, lambda s, u: _scope_id(s, u, personal_scope))


async def _scope_id(session: AsyncSession, user: User, personal_scope: Any) -> int:
    return (await personal_scope(session, user)).id


async def begin(
    db: Database,
    user_id: int,
    *,
    n: int = 3,
    topic: str = "",
    now: datetime = NOW,
    supply: study.QuestionSupply | None = None,
) -> study.Asked:
    scope_id = await scope_of(db, user_id)

    async def work(session: AsyncSession, user: User) -> study.Step | None:
        quiz = await study.start_quiz(session, user=user, scope_id=scope_id, chat_id=None,
                                      now=now, topic=topic, n=n, supply=supply)  # fmt: skip
        return await study.current_step(session, quiz, now=now, rng=random.Random(7))

    step = await in_session(db, user_id, work)
    assert isinstance(step, study.Asked)
    return step


def key_position(step: study.Asked) -> int:
    """Where the right option (seeded as 'right N') sits in the shown order."""
    return next(i for i, text in enumerate(step.options) if text.startswith("right"))


async def click_answer(
    db: Database, user_id: int, token: str, shown: int, now: datetime
) -> study.AwaitingConfidence:
    return await in_session(
        db, user_id,
        lambda s, u: study.answer(s, user=u, token=token, shown_index=shown, now=now),
    )  # fmt: skip


async def click_confidence(
    db: Database, user_id: int, token: str, confidence: int, now: datetime
) -> tuple[study.Reveal, study.Step | None, study.Summary | None]:
    async def work(session: AsyncSession, user: User) -> Any:
        reveal, quiz = await study.confide(
            session, user=user, token=token, confidence=confidence, now=now
        )
        step = await study.current_step(session, quiz, now=now, rng=random.Random(7))
        summary = None if step else await study.summary_of(session, quiz, user, now=now)
        return reveal, step, summary

    return await in_session(db, user_id, work)


async def test_a_full_quiz_of_three_reveals_grades_and_summarises(db: Database) -> None:
    seeded = await seed_student(db, count=3)
    step = await begin(db, seeded.user_id)
    assert (step.position, step.total, step.kind) == (0, 3, SessionKind.QUIZ)
    assert len(step.options) == 4 and len(step.token) == 16
    moment = NOW
    outcomes = []
    summary = None
    for turn in range(3):
        # Right, right, then confidently wrong.
        right = key_position(step)
        shown = right if turn < 2 else (right + 1) % 4
        moment += timedelta(seconds=8)
        awaiting = await click_answer(db, seeded.user_id, step.token, shown, moment)
        assert awaiting.chosen_letter == study.LETTERS[shown]
        moment += timedelta(seconds=2)
        reveal, next_step, summary = await click_confidence(db, seeded.user_id, step.token, 4,
                                                            moment)  # fmt: skip
        outcomes.append((reveal.correct, reveal.quality, reveal.xp))
        assert reveal.source == f"{HEADING}, p. 3 of {FILENAME}"
        assert reveal.key_text.startswith("right") and reveal.explanation
        assert reveal.due_at.date() == (moment + timedelta(days=1)).date()
        if next_step is not None:
            assert isinstance(next_step, study.Asked)
            step = next_step
    # 8 s for a ~110-character item is within budget: sure and fast -> q=5; certain-wrong 0.
    assert outcomes == [(True, 5, 25), (True, 5, 25), (False, 0, 0)]
    assert summary is not None
    assert (summary.answered, summary.correct, summary.xp, summary.state) == (
        3, 2, 50, SessionState.FINISHED,
    )  # fmt: skip
    assert summary.streak == 1 and summary.total_xp == 50
    assert summary.weakest is not None and summary.weakest.topic == "Heart development"
    assert summary.duration == timedelta(seconds=30)
    async with db.session() as session:
        attempts = list(await session.scalars(select(Attempt).order_by(Attempt.id)))
        assert [a.time_ms for a in attempts] == [8_000] * 3
        assert [a.confidence for a in attempts] == [4, 4, 4]
        assert all(a.source is AttemptSource.QUIZ for a in attempts)
        cards = list(await session.scalars(select(Card)))
        assert len(cards) == 3 and all(c.status is CardStatus.LEARNING for c in cards)
        user = await session.get(User, seeded.user_id)
        assert user is not None
        assert (user.xp, user.streak, user.last_study_day) == (50, 1, date(2026, 11, 23))
        question = await session.get(Question, seeded.question_ids[0])
        assert question is not None and question.times_answered == 1


async def test_answer_time_runs_from_delivery_not_from_creation(db: Database) -> None:
    seeded = await seed_student(db, count=1)
    step = await begin(db, seeded.user_id, n=1)
    delivered = NOW + timedelta(seconds=5)
    async with db.session() as session:
        assert await study.mark_delivered(session, step.token, message_ref="m1", sent_at=delivered)
    await click_answer(db, seeded.user_id, step.token, 0, delivered + timedelta(seconds=7))
    async with db.session() as session:
        item = await session.scalar(select(QuizItem))
        assert item is not None and item.time_ms == 7_000 and item.message_ref == "m1"
        # A late delivery report for an answered item changes nothing.
        assert not await study.mark_delivered(session, step.token, message_ref="m2",
                                              sent_at=NOW + timedelta(hours=1))  # fmt: skip


async def test_a_second_click_records_nothing(any_db: Database) -> None:
    seeded = await seed_student(any_db, count=2)
    step = await begin(any_db, seeded.user_id)
    await click_answer(any_db, seeded.user_id, step.token, 0, NOW + timedelta(seconds=3))
    with pytest.raises(study.AlreadyAnswered):
        await click_answer(any_db, seeded.user_id, step.token, 1, NOW + timedelta(seconds=4))
    await click_confidence(any_db, seeded.user_id, step.token, 3, NOW + timedelta(seconds=5))
    with pytest.raises(study.AlreadyAnswered):
        await click_confidence(any_db, seeded.user_id, step.token, 5, NOW + timedelta(seconds=6))
    with pytest.raises(study.AlreadyAnswered):
        await click_answer(any_db, seeded.user_id, step.token, 2, NOW + timedelta(seconds=7))
    assert await count(any_db, Attempt) == 1
    async with any_db.session() as session:
        item = await session.scalar(select(QuizItem).where(QuizItem.token == step.token))
        attempt = await session.scalar(select(Attempt))
        assert item is not None and attempt is not None
        assert item.choice == attempt.choice and attempt.confidence == 3


async def test_another_students_token_and_unknown_tokens_are_refused(db: Database) -> None:
    ada = await seed_student(db, external_id="ada", count=1)
    bob = await seed_student(db, external_id="bob", count=1)
    step = await begin(db, ada.user_id, n=1)
    with pytest.raises(study.NotYourQuestion):
        await click_answer(db, bob.user_id, step.token, 0, NOW)
    with pytest.raises(study.StaleButton):
        await click_answer(db, ada.user_id, "A" * 16, 0, NOW)
    with pytest.raises(study.InvalidChoice):
        await click_answer(db, ada.user_id, step.token, 9, NOW)
    with pytest.raises(study.AnswerFirst):
        await click_confidence(db, ada.user_id, step.token, 4, NOW)
    await click_answer(db, ada.user_id, step.token, 0, NOW)
    with pytest.raises(study.NotYourQuestion):
        await click_confidence(db, bob.user_id, step.token, 4, NOW)
    with pytest.raises(study.InvalidChoice):
        await click_confidence(db, ada.user_id, step.token, 7, NOW)
    assert await count(db, Attempt) == 0


async def test_resuming_reasks_with_a_fresh_token_so_old_buttons_die(db: Database) -> None:
    seeded = await seed_student(db, count=2)
    first = await begin(db, seeded.user_id)

    async def resume(session: AsyncSession, user: User) -> study.Step | None:
        quiz = await study.active_session(session, user)
        assert quiz is not None
        return await study.current_step(session, quiz, now=NOW + timedelta(minutes=5))

    again = await in_session(db, seeded.user_id, resume)
    assert isinstance(again, study.Asked) and again.resumed
    assert again.token != first.token and again.stem == first.stem
    with pytest.raises(study.StaleButton):
        await click_answer(db, seeded.user_id, first.token, 0, NOW + timedelta(minutes=6))
    # An answered item resumes at the confidence question with the same token.
    await click_answer(db, seeded.user_id, again.token, 0, NOW + timedelta(minutes=6))
    pending = await in_session(db, seeded.user_id, resume)
    assert isinstance(pending, study.AwaitingConfidence) and pending.token == again.token
    reveal, _, _ = await click_confidence(db, seeded.user_id, again.token, 2,
                                          NOW + timedelta(minutes=7))  # fmt: skip
    assert reveal.time_ms == 60_000  # timer restarted at the re-ask


async def test_skip_and_stop_keep_answers_and_end_cleanly(db: Database) -> None:
    seeded = await seed_student(db, count=3)
    first = await begin(db, seeded.user_id)

    async def skip(session: AsyncSession, user: User) -> tuple[Any, Any]:
        reveal, quiz = await study.skip(session, user=user, now=NOW)
        return reveal, await study.current_step(session, quiz, now=NOW)

    reveal, second = await in_session(db, seeded.user_id, skip)
    assert reveal is None and isinstance(second, study.Asked) and second.position == 1
    with pytest.raises(study.StaleButton):
        await click_answer(db, seeded.user_id, first.token, 0, NOW)
    # Answered but no confidence yet: /stop still grades it (confidence unknown).
    await click_answer(db, seeded.user_id, second.token, key_position(second), NOW)

    async def stop(session: AsyncSession, user: User) -> Any:
        return await study.stop(session, user=user, now=NOW + timedelta(seconds=30))

    reveal, summary = await in_session(db, seeded.user_id, stop)
    assert reveal is not None and reveal.correct and reveal.confidence is None
    assert (summary.state, summary.answered, summary.skipped) == (SessionState.STOPPED, 1, 1)
    with pytest.raises(study.NoActiveSession):
        await in_session(db, seeded.user_id, stop)
    async with db.session() as session:
        attempt = await session.scalar(select(Attempt))
        assert attempt is not None and attempt.confidence is None and attempt.quality == 4


async def test_clicks_on_a_stopped_quiz_are_refused(db: Database) -> None:
    seeded = await seed_student(db, count=2)
    step = await begin(db, seeded.user_id)
    async with db.session() as session:
        quiz = await session.scalar(select(QuizSession))
        assert quiz is not None
        quiz.state = SessionState.STOPPED  # e.g. stopped from another device
    with pytest.raises(study.QuizEnded):
        await click_answer(db, seeded.user_id, step.token, 0, NOW)


async def test_unseen_questions_first_then_supply_then_seen(db: Database) -> None:
    seeded = await seed_student(db, count=2)
    calls: list[tuple[int, int]] = []

    async def plan_with(session: AsyncSession, user: User) -> list[int]:
        async def supply(missing: int, difficulty: int) -> None:
            calls.append((missing, difficulty))
            await add_questions(session, user, 1, topic="Heart development", start=100)

        quiz = await study.start_quiz(session, user=user, scope_id=seeded.scope_id,
                                      chat_id=None, now=NOW, n=5, supply=supply)  # fmt: skip
        return list(quiz.plan)

    plan = await in_session(db, seeded.user_id, plan_with)
    assert calls == [(3, 3)]
    assert plan[:2] == seeded.question_ids and len(plan) == 3


async def test_a_failing_supply_is_only_reported_when_nothing_exists(db: Database) -> None:
    class Broken(RoundsError):
        user_message = "The model is down."

    async def broken(missing: int, difficulty: int) -> None:
        raise Broken()

    seeded = await seed_student(db, count=1)
    step = await begin(db, seeded.user_id, n=4, supply=broken)
    assert step.total == 1
    empty = await seed_student(db, external_id="cy", count=0)
    with pytest.raises(Broken):
        await begin(db, empty.user_id, supply=broken)
    with pytest.raises(study.NothingToStudy):
        await begin(db, empty.user_id)


async def test_topic_filter_and_pinned_difficulty(db: Database) -> None:
    seeded = await seed_student(db, count=2)
    async with db.session() as session:
        user = await session.get(User, seeded.user_id)
        assert user is not None
        await add_questions(session, user, 2, topic="Cardiac muscle", start=50)
        user.difficulty = 5
    asked: list[int] = []

    async def supply(missing: int, difficulty: int) -> None:
        asked.append(difficulty)

    step = await begin(db, seeded.user_id, topic="cardiac", supply=supply)
    assert step.topic == "Cardiac muscle" and step.total == 2
    assert asked == [5]
    with pytest.raises(study.NoQuestionsOnTopic):
        await begin(db, seeded.user_id, topic="kidney")


async def test_due_cards_come_back_in_review_after_the_clock_moves(db: Database) -> None:
    seeded = await seed_student(db, count=1)
    step = await begin(db, seeded.user_id, n=1)
    await click_answer(db, seeded.user_id, step.token, key_position(step), NOW)
    reveal, _, _ = await click_confidence(db, seeded.user_id, step.token, 4, NOW)

    async def review(now: datetime) -> QuizSession | None:
        scope_id = seeded.scope_id
        return await in_session(
            db, seeded.user_id,
            lambda s, u: study.start_review(s, user=u, scope_id=scope_id, chat_id=None, now=now),
        )  # fmt: skip

    assert await review(NOW + timedelta(hours=1)) is None
    tomorrow = reveal.due_at + timedelta(minutes=1)
    quiz = await review(tomorrow)
    assert quiz is not None and quiz.plan == seeded.question_ids

    async def ask(session: AsyncSession, user: User) -> Any:
        active = await study.active_session(session, user)
        assert active is not None and active.kind is SessionKind.REVIEW
        return await study.current_step(session, active, now=tomorrow)

    again = await in_session(db, seeded.user_id, ask)
    await click_answer(db, seeded.user_id, again.token, key_position(again), tomorrow)
    second, _, _ = await click_confidence(db, seeded.user_id, again.token, 5, tomorrow)
    assert second.interval_days == 6
    async with db.session() as session:
        sources = list(await session.scalars(select(Attempt.source).order_by(Attempt.id)))
        assert sources == [AttemptSource.QUIZ, AttemptSource.REVIEW]


async def test_the_summary_judges_weak_topics_exactly_as_slash_weak_does(db: Database) -> None:
    seeded = await seed_student(db, count=0)
    async with db.session() as session:
        for topic, results in {
            "Valves": [False, False, True, False, True],  # 40%
            "Conduction": [True, False, True, False, True],  # 60%
            "Pericardium": [False, False],  # too few to judge
            "Chambers": [True, True, True, True, True],  # strong
        }.items():
            for i, correct in enumerate(results):
                session.add(Attempt(user_id=seeded.user_id, source=AttemptSource.QUIZ,
                                    topic=topic, choice=0, correct=correct, time_ms=1000,
                                    quality=4, answered_at=NOW - timedelta(hours=i)))  # fmt: skip
        user = await session.get(User, seeded.user_id)
        assert user is not None
        weak = await study.weak_topics(session, user)
        judged_by_slash_weak = await stats.weak_topics(session, user.id)
    assert [(w.topic, w.attempts, w.correct) for w in weak] == [
        ("Valves", 5, 2), ("Conduction", 5, 3),
    ]  # fmt: skip
    assert [w.topic for w in weak] == [t.topic for t in judged_by_slash_weak]


async def test_questions_deleted_mid_quiz_are_skipped_over(db: Database) -> None:
    seeded = await seed_student(db, count=3)
    step = await begin(db, seeded.user_id)
    async with db.session() as session:
        for qid in seeded.question_ids[1:2]:
            question = await session.get(Question, qid)
            await session.delete(question)
    await click_answer(db, seeded.user_id, step.token, 0, NOW)
    _, next_step, _ = await click_confidence(db, seeded.user_id, step.token, 3, NOW)
    assert isinstance(next_step, study.Asked) and next_step.position == 2
    async with db.session() as session:
        states = list(await session.scalars(select(QuizItem.state).order_by(QuizItem.position)))
    assert states == [ItemState.REVEALED, ItemState.ASKED]


@pytest.mark.parametrize(
    ("filename", "pages", "cited"),
    [
        (FILENAME, [3], f"{HEADING}, p. 3 of {FILENAME}"),
        ("lecture.pptx", [3], f"{HEADING}, slide 3 of lecture.pptx"),
        ("lecture.pptx", [3, 4], f"{HEADING}, slides 3-4 of lecture.pptx"),
        ("lecture.pptx", [2, 7], f"{HEADING}, slides 2, 7 of lecture.pptx"),
    ],
)
async def test_a_question_from_slides_cites_its_slides(
    db: Database, filename: str, pages: list[int], cited: str
) -> None:
    from storage.models import Material

    seeded = await seed_student(db, count=1)
    async with db.session() as session:
        material = await session.get(Material, seeded.material_id)
        question = await session.get(Question, seeded.question_ids[0])
        assert material is not None and question is not None
        material.filename = filename
        question.source_pages = pages
        await session.flush()
        assert await study.source_line(session, question) == cited
