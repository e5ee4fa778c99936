"""/bank through the real router: paging, search, opening a question whole, retire, restore
and delete (with its confirm), a deleted question skipped in an open quiz, forged or stale
bank buttons changing nothing, and group banks managed only by the uploader or an admin."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from core.settings import Settings
from handlers.types import Actor, ChatRef, EventKind, Incoming, Reply
from storage.db import Database
from storage.enums import CardStatus, ChatKind, RetiredBecause
from storage.models import Attempt, Card, Material, Question, QuizSession
from tests.handlers.test_quiz import question_of, right_button
from tests.rounds_support import T0, FakeClock, RecordingNotifier, make_rig, seed_group
from tests.study_seed import Clock, Student, router_for, seed_student


@pytest.fixture
def ada(settings: Settings, db: Database) -> Student:
    return Student(router_for(settings, db, Clock()), Clock())


def _button(reply: Reply, label: str) -> str:
    return next(b.payload for b in reply.flat_buttons if b.label == label)


async def _answer_one(ada: Student) -> None:
    question = question_of(await ada.say("/quiz 1"))
    ada.clock.tick(5)
    (confidence,) = await ada.click(right_button(question))
    await ada.click(confidence.flat_buttons[3].payload)


async def _question(db: Database, question_id: int) -> Question | None:
    async with db.session() as session:
        return await session.get(Question, question_id)


async def test_the_bank_pages_searches_and_shows_how_each_question_did(
    db: Database, ada: Student
) -> None:
    await seed_student(db, count=7)
    await _answer_one(ada)
    (first,) = await ada.say("/bank")
    assert first.title == "Question bank"
    lines = first.text.splitlines()
    assert lines[0] == "Your 7 questions · page 1 of 2"
    assert lines[2].startswith("1. Q6: Which embryonic structure")  # newest first
    assert lines[3] == "   Heart development · difficulty 3 · quality – · answered 0 · in use"
    assert [b.label for b in first.buttons[0]] == [f"Open {n}" for n in range(1, 6)]
    (second,) = await ada.click(_button(first, "Next ›"))
    assert second.text.splitlines()[0] == "Your 7 questions · page 2 of 2"
    assert [b.label for b in second.buttons[0]] == ["Open 6", "Open 7"]
    answered = [line for line in first.text.splitlines() + second.text.splitlines()
                if "answered 1" in line]  # fmt: skip
    assert answered == ["   Heart development · difficulty 3 · quality 0.65 · answered 1 · in use"]
    (back,) = await ada.click(_button(second, "‹ Previous"))
    assert back.text == first.text

    (found,) = await ada.say("/bank part 3")
    assert found.text.splitlines()[0] == "Your 1 question matching “part 3” · page 1 of 1"
    assert "Q3:" in found.text
    (none,) = await ada.say("/bank aorta")
    assert none.text == "No questions matching “aorta”."


async def test_a_search_keeps_its_words_across_pages(db: Database, ada: Student) -> None:
    await seed_student(db, count=12)
    (first,) = await ada.say("/bank embryonic heart")
    assert first.text.splitlines()[0].startswith("Your 12 questions matching “embryonic heart”")
    (second,) = await ada.click(_button(first, "Next ›"))
    assert "matching “embryonic heart” · page 2 of 3" in second.text.splitlines()[0]


async def test_open_retire_restore_and_delete_a_question(db: Database, ada: Student) -> None:
    seeded = await seed_student(db, count=2)
    await _answer_one(ada)
    async with db.session() as session:
        answered_id = await session.scalar(select(Card.question_id))
    assert answered_id is not None
    (opened,) = await ada.click(f"bko:{answered_id}")
    index = seeded.question_ids.index(answered_id)
    assert f"A. right {index} ✓" in opened.text and "B. wrong" in opened.text
    assert "Source: 19.5 Heart Development, p. 3 of heart.pdf" in opened.text
    assert [b.label for b in opened.flat_buttons] == ["Delete", "Retire", "Back to the bank"]

    (retired,) = await ada.click(_button(opened, "Retire"))
    assert "retired by hand" in retired.text and "Restore" in [
        b.label for b in retired.flat_buttons
    ]
    question = await _question(db, answered_id)
    assert question is not None and question.retired_because is RetiredBecause.BY_OWNER
    async with db.session() as session:
        assert await session.scalar(select(Card.status)) is CardStatus.SUSPENDED
    (restored,) = await ada.click(_button(retired, "Restore"))
    assert "in use" in restored.text and "back in your quizzes" in restored.text
    async with db.session() as session:
        assert await session.scalar(select(Card.status)) is CardStatus.LEARNING  # one pass so far

    (confirm,) = await ada.click(_button(restored, "Delete"))
    assert confirm.text.startswith("Delete this question for good?")
    (kept,) = await ada.click(_button(confirm, "Keep it"))
    assert kept.title == "Question" and await _question(db, answered_id) is not None
    (deleted,) = await ada.click(_button(confirm, "Yes, delete"))
    assert deleted.text.startswith("Deleted: Q")
    assert await _question(db, answered_id) is None
    async with db.session() as session:
        cards = await session.scalar(select(func.count()).select_from(Card))
        attempt = await session.scalar(select(Attempt))
    assert cards == 0 and attempt is not None and attempt.question_id is None  # history kept
    (again,) = await ada.click(_button(confirm, "Yes, delete"))
    assert again.is_alert and "not in this bank" in again.text


async def test_deleting_a_question_in_an_open_quiz_skips_its_spot(
    db: Database, ada: Student
) -> None:
    await seed_student(db, count=3)
    first = question_of(await ada.say("/quiz 3"))
    async with db.session() as session:
        plan = await session.scalar(select(QuizSession.plan))
    assert plan is not None
    (confirm,) = await ada.click(f"bkd:{plan[1]}")
    await ada.click(_button(confirm, "Yes, delete"))
    ada.clock.tick(5)
    (confidence,) = await ada.click(right_button(first))
    _reveal, following = await ada.click(confidence.flat_buttons[3].payload)
    assert following.title.startswith("Question 3 of 3")


async def test_forged_and_stale_bank_buttons_change_nothing(
    db: Database, settings: Settings, ada: Student
) -> None:
    await seed_student(db, count=1)
    theirs = await seed_student(db, external_id="bob", count=1)
    (their_id,) = theirs.question_ids
    owned = [f"{action}:{their_id}" for action in ("bko", "bkd", "bkdy", "bkr", "bks")]
    for forged in (*owned, "bk:7", "bk:-1", "bk:0:!!", "bko:abc", "bkdy:1:2"):
        (refused,) = await ada.click(forged)
        assert refused.is_alert, forged
    question = await _question(db, their_id)
    assert question is not None and question.retired_at is None


async def test_a_group_bank_is_managed_by_the_uploader_or_an_admin(
    db: Database, settings: Settings
) -> None:
    group = await seed_group(db, members=("ann", "bea", "cy"), admins=("cy",), questions=2)
    async with db.session() as session:
        await session.execute(update(Material).values(uploaded_by=group.member_ids["ann"]))
    rig = await make_rig(db, settings, FakeClock(T0), RecordingNotifier())
    (listing,) = await rig.command("bea", "bank")
    assert listing.text.startswith("The group's 2 questions")
    first, second = group.question_ids

    async def press(member: str, payload: str, *, admin: bool = False) -> Reply:
        (reply,) = await rig.router.route(
            Incoming(platform=rig.notifier.platform, user=Actor(f"u-{member}", member, admin),
                     chat=ChatRef("-100500", ChatKind.GROUP), kind=EventKind.BUTTON,
                     received_at=rig.clock(), payload=payload)
        )  # fmt: skip
        return reply

    refused = await press("bea", f"bkr:{first}")
    assert refused.is_alert and "uploaded this material or a chat admin" in refused.text
    # Opening shows the key: in a group that would spoil the next round for everyone.
    peek = await press("bea", f"bko:{first}")
    assert peek.is_alert and "✓" not in peek.text
    assert "✓" in (await press("ann", f"bko:{first}")).text
    assert (await _question(db, first)).retired_at is None  # type: ignore[union-attr]
    assert "retired by hand" in (await press("ann", f"bkr:{first}")).text
    assert "Deleted" in (await press("cy", f"bkdy:{second}", admin=True)).text
    assert await _question(db, second) is None
    # A member's private bank never shows the group's questions.
    (private,) = await rig.command("bea", "bank", chat="u-bea")
    assert "No questions yet" in private.text
