"""The quiz conversation through the real router: what a student sees, and every bad click
(double click, old message, another student's button, forged payloads) records nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from core.buttons import MAX_PAYLOAD_BYTES, encode
from core.settings import Settings
from core.study import Asked
from handlers.quiz import question_reply
from handlers.types import Reply
from storage.db import Database
from storage.enums import SessionKind
from storage.models import Attempt, Card, QuizItem
from tests.study_seed import FILENAME, HEADING, Clock, Student, router_for, seed_student


def question_of(replies: list[Reply]) -> Reply:
    asked = [r for r in replies if r.track]
    assert asked, [r.text for r in replies]
    return asked[-1]


def right_button(question: Reply) -> str:
    """The payload of the seeded key ('right N') in the shown order."""
    lines = [line for line in question.text.splitlines() if line[:2] in {"A.", "B.", "C.", "D."}]
    index = next(i for i, line in enumerate(lines) if " right " in f" {line} ")
    return question.flat_buttons[index].payload


def wrong_button(question: Reply) -> str:
    right = right_button(question)
    return next(b.payload for b in question.flat_buttons if b.payload != right)


async def counts(db: Database) -> tuple[int, int, list[int | None]]:
    async with db.session() as session:
        attempts = int(await session.scalar(select(func.count()).select_from(Attempt)) or 0)
        cards = int(await session.scalar(select(func.count()).select_from(Card)) or 0)
        choices = list(await session.scalars(select(QuizItem.choice).order_by(QuizItem.id)))
    return attempts, cards, choices


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ada(settings: Settings, db: Database, clock: Clock) -> Student:
    return Student(router_for(settings, db, clock), clock)


async def test_a_full_quiz_asks_reveals_and_summarises(db: Database, ada: Student) -> None:
    await seed_student(db, count=3)
    question = question_of(await ada.say("/quiz 3"))
    assert question.title == "Question 1 of 3 · Heart development"
    assert [b.label for b in question.flat_buttons] == ["A", "B", "C", "D"]
    for number in range(3):
        ada.clock.tick(6)
        pick = right_button(question) if number < 2 else wrong_button(question)
        (confidence,) = await ada.click(pick)
        assert "How sure were you?" in confidence.text
        labels = [b.label for b in confidence.flat_buttons]
        assert labels == ["Guessing", "Unsure", "Fairly sure", "Sure", "Certain"]
        ada.clock.tick(1)
        reveal, following = await ada.click(confidence.flat_buttons[3].payload)
        assert f"Source: {HEADING}, p. 3 of {FILENAME}" in reveal.text
        assert "Next review: tomorrow (Tue 24 Nov)" in reveal.text
        assert "XP" in reveal.text and "streak 1 day" in reveal.text
        if number < 2:
            assert reveal.title == "Correct ✓" and "Because structure" in reveal.text
            question = following
            assert question.title.startswith(f"Question {number + 2} of 3")
        else:
            assert reveal.title == "Not quite ✗" and "Correct answer:" in reveal.text
            summary = following
    assert summary.title == "Quiz complete"
    assert "Score: 2/3 (67%)" in summary.text
    assert "Time: 21 s" in summary.text
    assert "XP: +50" in summary.text and "Streak: 1 day" in summary.text
    assert "Weakest topic: Heart development (67% of 3)" in summary.text
    assert summary.flat_buttons[0].payload.startswith("qt:")
    assert (await counts(db))[:2] == (3, 3)


async def test_answer_time_is_measured_from_delivery(db: Database, ada: Student) -> None:
    await seed_student(db, count=1)
    ada.clock.tick(0)
    question = question_of(await ada.say("/quiz 1"))
    ada.clock.tick(9)
    (confidence,) = await ada.click(right_button(question))
    await ada.click(confidence.flat_buttons[2].payload)
    async with db.session() as session:
        attempt = await session.scalar(select(Attempt))
    assert attempt is not None and attempt.time_ms == 9_000 and attempt.confidence == 3


async def test_double_click_records_nothing_and_says_so(db: Database, ada: Student) -> None:
    await seed_student(db, count=2)
    question = question_of(await ada.say("/quiz 2"))
    first = right_button(question)
    await ada.click(first)
    before = await counts(db)
    (again,) = await ada.click(wrong_button(question))
    assert again.text == "You already answered that one; your first answer counts."
    assert again.is_alert and again.ephemeral
    assert await counts(db) == before
    (confidence,) = [r for r in ada.seen if "How sure" in r.text]
    await ada.click(confidence.flat_buttons[4].payload)
    after = await counts(db)
    (again,) = await ada.click(confidence.flat_buttons[0].payload)
    assert "already answered" in again.text
    assert await counts(db) == after and after[0] == 1


async def test_a_click_on_an_old_message_records_nothing(db: Database, ada: Student) -> None:
    await seed_student(db, count=2)
    old = question_of(await ada.say("/quiz 2"))
    replies = await ada.say("/quiz")  # e.g. after a restart: the question is asked again
    assert replies[0].text == "Picking up where you left off (question 1 of 2)."
    fresh = question_of(replies)
    assert fresh.track != old.track
    (stale,) = await ada.click(right_button(old))
    assert stale.text == "That button is from an older message. Send /quiz to carry on."
    assert await counts(db) == (0, 0, [None])
    (confidence,) = await ada.click(right_button(fresh))
    assert "How sure" in confidence.text


async def test_another_students_button_records_nothing(
    settings: Settings, db: Database, ada: Student
) -> None:
    await seed_student(db, count=1)
    await seed_student(db, external_id="bob", count=1)
    question = question_of(await ada.say("/quiz 1"))
    bob = Student(ada.router, ada.clock, external_id="bob")
    (refused,) = await bob.click(right_button(question))
    assert "someone else's quiz" in refused.text and refused.is_alert
    assert await counts(db) == (0, 0, [None])
    (confidence,) = await ada.click(right_button(question))
    (refused,) = await bob.click(confidence.flat_buttons[4].payload)
    assert "someone else's quiz" in refused.text
    assert (await counts(db))[0] == 0


@pytest.mark.parametrize(
    "payload",
    [
        "ans:",
        "ans:onlytoken",
        "ans:tok:x",
        "ans:tok:1:2",
        "conf:tok",
        "ans:a b:1",
        "qt:abc",
        "qt:1:2",
        "rv:now",
        "zz:1",
        "ans:" + "A" * 70,
    ],
)
async def test_malformed_payloads_get_a_short_clear_message(
    db: Database, ada: Student, payload: str
) -> None:
    await seed_student(db, count=1)
    question = question_of(await ada.say("/quiz 1"))
    before = await counts(db)
    (reply,) = await ada.click(payload)
    assert reply.is_alert and len(reply.text) < 90
    assert "valid" in reply.text or "older message" in reply.text or "no longer" in reply.text
    assert await counts(db) == before
    (confidence,) = await ada.click(right_button(question))  # the real quiz is unharmed
    assert "How sure" in confidence.text


async def test_out_of_range_choices_are_refused(db: Database, ada: Student) -> None:
    await seed_student(db, count=1)
    question = question_of(await ada.say("/quiz 1"))
    token = question.track.removeprefix("quiz:")
    (reply,) = await ada.click(encode("ans", token, 7))
    assert "not valid" in reply.text
    (reply,) = await ada.click(encode("conf", token, 3))
    assert reply.text == "Pick an answer first, then tell me how sure you were."
    await ada.click(right_button(question))
    (reply,) = await ada.click(encode("conf", token, 9))
    assert "not valid" in reply.text
    assert (await counts(db))[0] == 0


async def test_every_payload_we_build_fits_telegram(db: Database, ada: Student) -> None:
    await seed_student(db, count=2)
    await ada.say("/quiz 2")
    for pick in (right_button, wrong_button):
        question = [r for r in ada.seen if r.track][-1]
        (confidence,) = await ada.click(pick(question))
        await ada.click(confidence.flat_buttons[4].payload)
    built = [b.payload for r in ada.seen for b in r.flat_buttons]
    assert {p.split(":")[0] for p in built} >= {"ans", "conf", "qt"}
    longest_token = "A" * 16
    worst = [encode("conf", longest_token, 5), encode("ans", longest_token, 9),
             encode("qt", 2**63 - 1), encode("rv")]  # fmt: skip
    assert max(len(p.encode()) for p in built + worst) <= MAX_PAYLOAD_BYTES


async def test_skip_stop_and_nothing_in_progress(db: Database, ada: Student) -> None:
    await seed_student(db, count=3)
    (reply,) = await ada.say("/stop")
    assert reply.text.startswith("No quiz in progress")
    await ada.say("/quiz 3")
    skipped, second = await ada.say("/skip")
    assert skipped.text == "Skipped." and second.title.startswith("Question 2 of 3")
    await ada.click(right_button(second))
    reveal, summary = await ada.say("/stop")
    assert reveal.title == "Correct ✓" and "Next review: tomorrow" in reveal.text
    assert summary.title == "Quiz stopped" and "Score: 1/1 (100%), 1 skipped" in summary.text
    assert (await counts(db))[0] == 1


async def test_quiz_topic_button_and_review_button(db: Database, ada: Student) -> None:
    seeded = await seed_student(db, count=2)
    other = await seed_student(db, external_id="bob", count=1, topic="Kidney")
    (reply,) = await ada.click(encode("qt", other.question_ids[0]))
    assert "no longer in your material" in reply.text  # bob's question: never shown to ada
    question = question_of(await ada.click(encode("qt", seeded.question_ids[1])))
    assert question.title == "Question 1 of 2 · Heart development"
    (nothing,) = await ada.click("rv")  # nothing due: the open quiz is left alone
    assert nothing.text.startswith("You have no cards yet.")
    assert nothing.text.endswith("Your quiz is still open: /quiz.")
    (confidence,) = await ada.click(right_button(question))
    await ada.click(confidence.flat_buttons[4].payload)
    ada.clock.tick(86_400)
    closed, due = await ada.click("rv")  # once a card is due, the review takes over
    assert closed.text == "Your earlier quiz is closed (1/1 right); its answers are saved."
    assert due.title == "Review 1 of 1 · Heart development"


async def test_review_brings_back_cards_once_due(db: Database, ada: Student) -> None:
    await seed_student(db, count=1)
    question = question_of(await ada.say("/quiz 1"))
    (confidence,) = await ada.click(right_button(question))
    await ada.click(confidence.flat_buttons[3].payload)
    (reply,) = await ada.say("/review")
    assert reply.text == "Nothing is due right now. Your next review is tomorrow (Tue 24 Nov)."
    ada.clock.now = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
    again = question_of(await ada.say("/review"))
    assert again.title == "Review 1 of 1 · Heart development"
    (confidence,) = await ada.click(right_button(again))
    reveal, summary = await ada.click(confidence.flat_buttons[4].payload)
    assert "Next review: in 6 days (Mon 30 Nov)" in reveal.text
    assert summary.title == "Review complete" and "Streak: 2 days" in summary.text


async def test_restart_mid_quiz_loses_nothing(
    settings: Settings, db: Database, ada: Student
) -> None:
    await seed_student(db, count=2)
    question = question_of(await ada.say("/quiz 2"))
    await ada.click(right_button(question))
    # A new process: new router and services over the same database.
    restarted = Student(router_for(settings, db, ada.clock), ada.clock)
    note, confidence = await restarted.say("/quiz")
    assert note.text == "Picking up where you left off (question 1 of 2)."
    assert "How sure were you?" in confidence.text
    reveal, following = await restarted.click(confidence.flat_buttons[4].payload)
    assert reveal.title == "Correct ✓" and following.title.startswith("Question 2 of 2")


async def test_no_material_gets_a_clear_next_step(ada: Student) -> None:
    (reply,) = await ada.say("/quiz")
    assert reply.text == "There is nothing to quiz you on yet. Send me a PDF first."


async def test_two_truly_concurrent_confidence_clicks_record_one_answer(
    any_db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two presses of the confidence buttons, each its own event and DB session, released
    together by one asyncio.Event: one attempt, one card update, one reveal. Both presses
    read the item as answered before either commits, so the loser is stopped by the
    conditional UPDATE itself (a spy records the guard's verdicts)."""
    import asyncio

    from storage.models import QuizSession, User
    from storage.repos import study as study_repo

    claims: list[bool] = []
    both_read = asyncio.Barrier(2)
    real_claim = study_repo.claim_item_state

    async def spied_claim(*args: object, **kwargs: object) -> bool:
        await asyncio.wait_for(both_read.wait(), 5)  # both have read the item by now
        claimed = await real_claim(*args, **kwargs)  # type: ignore[arg-type]
        claims.append(claimed)
        return claimed

    db, clock = any_db, Clock()
    await seed_student(db, count=2)
    ada = Student(router_for(settings, db, clock), clock)
    question = question_of(await ada.say("/quiz 2"))
    (confidence,) = await ada.click(right_button(question))
    sure, certain = confidence.flat_buttons[3].payload, confidence.flat_buttons[4].payload
    go = asyncio.Event()

    async def press(payload: str) -> list[Reply]:
        await go.wait()
        return await ada.click(payload)

    monkeypatch.setattr(study_repo, "claim_item_state", spied_claim)
    presses = [asyncio.create_task(press(p)) for p in (sure, certain)]
    await asyncio.sleep(0)  # both tasks are waiting at the gate
    go.set()
    first, second = await asyncio.gather(*presses)

    reveals = [r for r in [*first, *second] if r.title in {"Correct ✓", "Not quite ✗"}]
    refused = [r for r in [*first, *second] if "already answered" in r.text.lower()]
    assert len(reveals) == 1 and len(refused) == 1, [r.text for r in [*first, *second]]
    assert sorted(claims) == [False, True]  # the conditional UPDATE refused the second
    async with db.session() as session:
        attempts = list(await session.scalars(select(Attempt)))
        cards = list(await session.scalars(select(Card)))
        quiz = await session.scalar(select(QuizSession))
        user = await session.scalar(select(User))
    assert len(attempts) == 1 and attempts[0].confidence in (4, 5)
    assert len(cards) == 1 and cards[0].repetitions == 1  # one SM-2 step, not two
    assert quiz is not None and quiz.answered == 1 and quiz.correct == 1
    assert user is not None and user.xp == attempts[0].xp


def test_a_section_title_that_names_an_option_is_not_shown_before_the_answer() -> None:
    def asked(topic: str) -> Asked:
        return Asked(
            token="t",
            position=1,
            total=3,
            kind=SessionKind.QUIZ,
            stem="A patient has greasy stools, cramps and bloating. Which is the diagnosis?",
            options=("Giardiasis", "Amoebiasis", "Cryptosporidiosis", "Cyclosporiasis"),
            topic=topic,
            difficulty=3,
        )

    assert "Giardiasis" not in (question_reply(asked("Giardiasis")).title or "")
    assert "Protozoan Infections" in (question_reply(asked("Protozoan Infections")).title or "")
    # A heading every option shares points at none of them: it stays.
    shared = replace(
        asked("Atrial Structures"),
        options=("left atrium", "right atrium", "atrial septum", "atrial appendage"),
    )
    assert "Atrial Structures" in (question_reply(shared).title or "")
