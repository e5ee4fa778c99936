""" "Report a problem" through the real router: the button on every reveal, the reasons, one
report per student, retirement (private and group), the retired question skipped in an open
quiz and never posed again, and forged or stale report buttons recording nothing."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import func, select, update

from core.settings import Settings
from handlers.types import Reply
from storage.db import Database
from storage.enums import CardStatus, Platform, RetiredBecause
from storage.models import (
    Attempt,
    Card,
    GroupRound,
    Question,
    QuestionReport,
    QuizItem,
    QuizSession,
    RoundItem,
)
from tests.handlers.test_quiz import question_of, right_button, wrong_button
from tests.rounds_support import (
    T0,
    FakeClock,
    RecordingNotifier,
    Rig,
    key_of,
    make_rig,
    option_payloads,
    seed_group,
)
from tests.study_seed import Clock, Student, router_for, seed_student

REASONS = [
    "Wrong answer key",
    "More than one right answer",
    "Unclear",
    "Not in my material",
    "Duplicate",
    "Other",
]


@pytest.fixture
def ada(settings: Settings, db: Database) -> Student:
    return Student(router_for(settings, db, Clock()), Clock())


async def _answer(student: Student, question: Reply, *, right: bool = True) -> list[Reply]:
    """Answers the shown question (confidence "Sure"); returns [reveal, what follows]."""
    student.clock.tick(5)
    (confidence,) = await student.click(
        right_button(question) if right else wrong_button(question)
    )
    return await student.click(confidence.flat_buttons[3].payload)


def _button(reply: Reply, label: str) -> str:
    return next(b.payload for b in reply.flat_buttons if b.label == label)


async def _count(db: Database, model: type) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _question(db: Database, question_id: int) -> Question:
    async with db.session() as session:
        question = await session.get(Question, question_id)
        assert question is not None
        return question


# --- private quiz --------------------------------------------------------------------------


async def test_a_private_report_asks_why_thanks_retires_and_the_quiz_goes_on(
    db: Database, ada: Student
) -> None:
    seeded = await seed_student(db, count=3)
    first = question_of(await ada.say("/quiz 3"))
    reveal, second = await _answer(ada, first)
    assert [b.label for b in reveal.flat_buttons] == ["Report a problem"]
    assert second.title.startswith("Question 2 of 3")

    (picker,) = await ada.click(_button(reveal, "Report a problem"))
    assert picker.text.startswith("What is wrong with this question?")
    assert [b.label for b in picker.flat_buttons] == REASONS
    (thanks,) = await ada.click(_button(picker, "Wrong answer key"))
    assert "Your report retired this question" in thanks.text
    assert "Wrong answer key" in thanks.text

    reported = seeded.question_ids[0]
    retired = await _question(db, reported)
    assert retired.retired_at is not None and retired.retired_because is RetiredBecause.REPORTS
    async with db.session() as session:
        card = await session.scalar(select(Card).where(Card.question_id == reported))
        report = await session.scalar(select(QuestionReport))
    # Suspended, not deleted: the card and the answer stay as history.
    assert card is not None and card.status is CardStatus.SUSPENDED
    assert await _count(db, Attempt) == 1
    assert report is not None and report.told_retired_at is not None

    # The quiz flow is untouched: question 2 is still the one to answer.
    reveal2, third = await _answer(ada, second)
    assert reveal2.title == "Correct ✓" and third.title.startswith("Question 3 of 3")

    # One report per student: a second press records nothing more.
    (again,) = await ada.click(_button(picker, "Unclear"))
    assert "reported this question already" in again.text
    assert await _count(db, QuestionReport) == 1


async def test_a_retired_question_is_never_posed_again(db: Database, ada: Student) -> None:
    seeded = await seed_student(db, count=2)
    first = question_of(await ada.say("/quiz 1"))
    reveal, _summary = await _answer(ada, first)
    (picker,) = await ada.click(_button(reveal, "Report a problem"))
    await ada.click(_button(picker, "Duplicate"))
    async with db.session() as session:
        reported = await session.scalar(
            select(Question.id).where(Question.retired_at.is_not(None))
        )
    assert reported in seeded.question_ids
    for _ in range(3):
        replies = await ada.say("/quiz 2")
        asked = [r for r in replies if r.track]
        assert asked and all(
            f"Q{seeded.question_ids.index(reported)}:" not in r.text for r in asked
        )
        await ada.say("/stop")
    # Nor in a review: the card is suspended.
    ada.clock.tick(10 * 86400)
    replies = await ada.say("/review")
    assert all(f"Q{seeded.question_ids.index(reported)}:" not in r.text for r in replies)


async def test_a_review_reveal_has_the_report_button_too(db: Database, ada: Student) -> None:
    await seed_student(db, count=1)
    await _answer(ada, question_of(await ada.say("/quiz 1")))
    ada.clock.tick(3 * 86400)
    question = question_of(await ada.say("/review"))
    assert question.title.startswith("Review 1 of 1")
    reveal, _ = await _answer(ada, question)
    (picker,) = await ada.click(_button(reveal, "Report a problem"))
    (thanks,) = await ada.click(_button(picker, "Unclear"))
    assert thanks.text.startswith("Thank you!")


async def test_a_retired_question_in_an_open_quiz_is_skipped(db: Database, ada: Student) -> None:
    seeded = await seed_student(db, count=3)
    first = question_of(await ada.say("/quiz 3"))
    async with db.session() as session:
        plan = await session.scalar(select(QuizSession.plan))
        assert plan is not None and sorted(plan) == sorted(seeded.question_ids)
        # Retired elsewhere (e.g. by the group) while this quiz is open: the next one, not
        # yet asked, is the one to skip.
        upcoming = plan[1]
        await session.execute(
            update(Question).where(Question.id == upcoming).values(retired_at=T0)
        )
    _reveal, following = await _answer(ada, first)
    assert following.title.startswith("Question 3 of 3")
    _reveal, summary = await _answer(ada, following)
    assert summary.title == "Quiz complete" and "Score: 2/2" in summary.text


async def test_an_answer_button_of_a_retired_question_is_refused(
    db: Database, ada: Student
) -> None:
    seeded = await seed_student(db, count=2)
    first = question_of(await ada.say("/quiz 2"))
    async with db.session() as session:
        asked = await session.scalar(select(QuizItem.question_id))
        await session.execute(update(Question).where(Question.id == asked).values(retired_at=T0))
    (refused,) = await ada.click(right_button(first))
    assert "retired" in refused.text and refused.is_alert
    assert await _count(db, Attempt) == 0
    (note, nxt) = await ada.say("/quiz 2")
    assert "Picking up" in note.text and nxt.title.startswith("Question 2 of 2")
    assert seeded.question_ids


async def test_forged_and_stale_report_buttons_record_nothing(
    db: Database, settings: Settings, ada: Student
) -> None:
    await seed_student(db, count=2)
    await seed_student(db, external_id="bob", count=1)
    bob = Student(router_for(settings, db, ada.clock), ada.clock, external_id="bob")
    question = question_of(await ada.say("/quiz 2"))
    token = question.track.removeprefix("quiz:")
    # Never answered (only asked): refused.
    (early,) = await ada.click(f"rpw:q:{token}:key")
    assert "once you have answered it" in early.text
    reveal, _ = await _answer(ada, question)
    report = _button(reveal, "Report a problem")
    # Another student replays Ada's button.
    (other,) = await bob.click(report)
    assert "questions you answered yourself" in other.text
    (other,) = await bob.click(f"rpw:q:{token}:key")
    assert "questions you answered yourself" in other.text
    # Unknown tokens, unknown reasons and sources, wrong shapes.
    for forged in (
        "rp:q:AAAAAAAAAAAAAAAA",
        "rpw:q:AAAAAAAAAAAAAAAA:key",
        f"rpw:q:{token}:nonsense",
        f"rpw:x:{token}:key",
        f"rp:q:{token}:extra",
        "rp:r:AAAAAAAAAAAAAAAA",
    ):
        (refused,) = await ada.click(forged)
        assert refused.is_alert, forged
    assert await _count(db, QuestionReport) == 0


# --- group rounds --------------------------------------------------------------------------


class RecordingOutbox:
    """The private chats a handler posts to, recorded per address."""

    def __init__(self) -> None:
        self.posted: list[tuple[str, Reply]] = []

    async def post(self, chat_address: str, replies: Sequence[Reply]) -> None:
        self.posted += [(chat_address, reply) for reply in replies]

    def to(self, address: str) -> list[Reply]:
        return [reply for where, reply in self.posted if where == address]


async def _group_rig(db: Database, settings: Settings) -> tuple[Rig, RecordingOutbox]:
    await seed_group(db, members=("ann", "bea", "cy", "dan"), questions=4)
    rig = await make_rig(db, settings, FakeClock(T0), RecordingNotifier())
    outbox = RecordingOutbox()
    rig.router.services.outboxes[Platform.TELEGRAM] = outbox
    return rig, outbox


async def _closed_first_question(rig: Rig, answering: Sequence[str]) -> tuple[str, int]:
    """A 1-question round where `answering` members answer; the closed message's report
    payload and the question id."""
    await rig.command("ann", "round", "1", "5")
    await rig.driver.advance(5)
    posted = rig.notifier.messages[-1]
    payloads = option_payloads(posted)
    key = await key_of(rig.db, payloads[0])
    for member in answering:
        await rig.driver.advance(1)
        await rig.click(member, payloads[key])
    await rig.driver.advance(10)
    closed = rig.notifier.by_ref(posted.ref)
    assert closed.text.startswith("Question 1/1 · closed")
    (report,) = option_payloads(closed)
    assert [b.label for row in closed.buttons for b in row] == ["Report a problem"]
    async with rig.db.session() as session:
        item = await session.scalar(select(RoundItem).order_by(RoundItem.id.desc()))
        assert item is not None and item.question_id is not None
        return report, item.question_id


async def test_group_reports_go_private_and_two_of_three_retire_the_question(
    db: Database, settings: Settings
) -> None:
    rig, outbox = await _group_rig(db, settings)
    for member in ("ann", "bea", "cy"):  # each opens a private chat with the bot once
        await rig.command(member, "start", chat=f"u-{member}")
    report, question_id = await _closed_first_question(rig, ("ann", "bea", "cy"))
    async with db.session() as session:
        first_round = await session.scalar(select(func.max(GroupRound.id)))
    group_messages = len(rig.notifier.messages)

    # Dan saw the group message but never answered: refused.
    (refused,) = await rig.click("dan", report)
    assert "once you have answered it" in refused.text and refused.ephemeral

    (notice,) = await rig.click("ann", report)
    assert notice.ephemeral and "private chat" in notice.text
    (picker,) = outbox.to("u-ann")
    assert [b.label for b in picker.flat_buttons] == REASONS
    (thanks_note,) = await rig.click("ann", _button(picker, "Wrong answer key"), chat="u-ann")
    assert "Reported as “Wrong answer key”" in thanks_note.text
    assert (await _question(db, question_id)).retired_at is None  # 1 of 3 is not enough

    await rig.click("bea", report)
    (picker,) = outbox.to("u-bea")
    (thanks,) = await rig.click("bea", _button(picker, "More than one right answer"), chat="u-bea")
    assert "Your report retired this question" in thanks.text
    retired = await _question(db, question_id)
    assert retired.retired_at is not None
    # Ann is told once, privately, that her report retired it.
    told = [r for r in outbox.to("u-ann") if "was retired" in r.text]
    assert len(told) == 1 and "G" in told[0].text
    async with db.session() as session:
        statuses = set(
            await session.scalars(select(Card.status).where(Card.question_id == question_id))
        )
        untold = await session.scalar(
            select(func.count()).select_from(QuestionReport)
            .where(QuestionReport.told_retired_at.is_(None))
        )  # fmt: skip
    assert statuses == {CardStatus.SUSPENDED} and untold == 0
    # Nothing about the reports reached the group.
    assert len(rig.notifier.messages) == group_messages
    assert not [a for a, _ in outbox.posted if a == "-100500"]

    # A later round never poses it: of the group's 4 questions, 3 are left to play.
    await rig.command("ann", "round", "4", "5")
    async with db.session() as session:
        later = await session.scalar(select(GroupRound).order_by(GroupRound.id.desc()))
    assert later is not None and later.id != first_round
    assert len(later.plan) == 3 and question_id not in later.plan


async def test_a_group_report_without_a_private_chat_says_how_and_records_nothing(
    db: Database, settings: Settings
) -> None:
    rig, outbox = await _group_rig(db, settings)
    report, _ = await _closed_first_question(rig, ("ann",))
    (notice,) = await rig.click("ann", report)
    assert notice.ephemeral and notice.is_alert and "/start" in notice.text
    assert outbox.posted == [] and await _count(db, QuestionReport) == 0
