"""Quizzing through each runtime (PTB, aiogram) and the fake Bot API, on seeded questions (no
ingest, so each test takes about a second): buttons, edits in place, forged and double presses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.buttons import MAX_PAYLOAD_BYTES
from core.settings import Settings
from storage.enums import Platform
from tests.bot.telegram_harness import RunningBot, running_bot
from tests.fakes.telegram_server import Message
from tests.study_seed import seed_student

pytestmark = pytest.mark.telegram_runtimes

ALICE, BOB = 1001, 1002


@pytest.fixture
async def tg(settings: Settings) -> AsyncIterator[RunningBot]:
    async with running_bot(settings) as running:
        db = running.app.services.db
        await seed_student(db, external_id=str(ALICE), platform=Platform.TELEGRAM, count=3)
        await seed_student(db, external_id=str(BOB), platform=Platform.TELEGRAM, count=3)
        yield running


async def _ask(tg: RunningBot, user: dict) -> Message:
    # As many as are seeded: a longer quiz would first write the missing ones in the background.
    tg.fake.send_text(user, "/quiz 3")
    question = await tg.fake.wait_for_message(user["id"], "Question 1 of 3")
    assert [b["text"] for b in question.buttons[0]] == ["A", "B", "C", "D"]
    assert all(len(data.encode()) <= MAX_PAYLOAD_BYTES for data in question.callback_data)
    return question


def _right_option(question: Message) -> str:
    """The seeded key is the option reading 'right N'; its letter is wherever it was shuffled."""
    line = next(line for line in question.text.splitlines() if ". right " in line)
    return question.button(line.split(".")[0])


async def test_answer_then_confidence_edits_the_question_into_the_reveal(
    tg: RunningBot,
) -> None:
    fake = tg.fake
    alice = fake.user(ALICE, "Alice")
    question = await _ask(tg, alice)
    await fake.wait_answered(fake.press(alice, question, _right_option(question)))
    assert "How sure were you?" in question.text, "the question message asks for confidence"
    assert [b["text"] for row in question.buttons for b in row][-1] == "Certain"
    assert all(data.startswith("conf:") for data in question.callback_data)
    await fake.wait_answered(fake.press(alice, question, question.button("Certain")))
    assert question.text.startswith("✅ Correct")
    assert "Source: 19.5 Heart Development, p. 3 of heart.pdf" in question.text
    assert [b["text"] for row in question.buttons for b in row] == ["Report a problem"], (
        "only Report is left"
    )
    assert question.history[-2].startswith("Question 1 of 3")
    following = await fake.wait_for_message(ALICE, "Question 2 of 3")
    assert following.message_id != question.message_id


async def test_a_forged_button_with_another_users_token_records_nothing(tg: RunningBot) -> None:
    fake = tg.fake
    alice, bob = fake.user(ALICE, "Alice"), fake.user(BOB, "Bob")
    alices_question = await _ask(tg, alice)
    shown = alices_question.text
    stolen = _right_option(alices_question)
    bobs_message_count = len(fake.bot_messages(BOB))
    forged = await fake.wait_answered(fake.press(bob, 1, stolen, chat_id=BOB))
    assert forged.show_alert and "someone else" in forged.text
    assert alices_question.text == shown, "Alice's question is untouched"
    assert len(fake.bot_messages(BOB)) == bobs_message_count
    # Alice's own press still counts as her first answer.
    await fake.wait_answered(fake.press(alice, alices_question, stolen))
    assert "How sure were you?" in alices_question.text


async def test_a_double_press_counts_once_and_both_presses_are_answered(tg: RunningBot) -> None:
    fake = tg.fake
    alice = fake.user(ALICE, "Alice")
    question = await _ask(tg, alice)
    edits_before = len(question.history)
    option = _right_option(question)
    first, second = fake.press(alice, question, option), fake.press(alice, question, option)
    await fake.wait_answered(first)
    repeat = await fake.wait_answered(second)
    assert repeat.show_alert and "already answered" in repeat.text
    assert len(question.history) == edits_before + 1, "one edit: the confidence prompt"
    assert len(fake.bot_messages(ALICE)) == 1


async def test_a_garbled_callback_gets_an_alert_not_a_crash(tg: RunningBot) -> None:
    fake = tg.fake
    alice = fake.user(ALICE, "Alice")
    question = await _ask(tg, alice)
    shown = question.text
    query = await fake.wait_answered(fake.press(alice, question, "ans:../../etc:x"))
    assert query.show_alert and "not valid" in query.text
    assert question.text == shown
