"""A student's day in Telegram, end to end: each runtime (PTB, aiogram), the fake Bot API over
HTTP, real PDFs from ../shared/data, real ingest (MiniLM, shared per session) and the offline
question writer. Material: OpenStax Anatomy and Physiology 2e (CC BY 4.0)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from core.buttons import MAX_PAYLOAD_BYTES
from core.settings import Settings
from tests.bot.telegram_harness import RunningBot, running_bot
from tests.fakes.telegram_server import FakeTelegram, Message

pytestmark = pytest.mark.telegram_runtimes

ALICE, BOB = 1001, 1002
GROUP = -100777
EXCERPT = "ap2e_19-5_heart_development_excerpt.pdf"
# The same four pages with different bytes (an owner password only): a second "book".
EXCERPT_TWIN = "bad/encrypted_owner_only_opens_without_password.pdf"


@pytest.fixture
async def tg(settings: Settings, embedder: Any) -> AsyncIterator[RunningBot]:
    async with running_bot(settings, embedder=embedder) as running:
        yield running


def _all_callback_data(fake: FakeTelegram) -> list[str]:
    return [
        button["callback_data"]
        for call in fake.calls
        for row in (call.params.get("reply_markup") or {}).get("inline_keyboard", [])
        for button in row
    ]


async def _upload(fake: FakeTelegram, user: dict, data: bytes, name: str, **where: Any) -> Message:
    fake.send_document(user, name, data, **where)
    chat_id = where.get("chat_id", user["id"])
    return await fake.wait_for_message(chat_id, "is ready", within=60)


async def _answer_one(fake: FakeTelegram, user: dict, chat_id: int | None = None) -> Message:
    """/quiz, press option A, press "Sure"; returns the question message (now the reveal)."""
    chat_id = chat_id or user["id"]
    fake.send_text(user, "/quiz", chat_id=chat_id)
    question = await fake.wait_until(
        lambda: next(
            (m for m in fake.bot_messages(chat_id) if m.text.startswith("Question 1 of")), None
        ),
        within=60,
    )
    await fake.wait_answered(fake.press(user, question, question.button("A"), chat_id=chat_id))
    assert "How sure were you?" in question.text
    await fake.wait_answered(fake.press(user, question, question.button("Sure"), chat_id=chat_id))
    return question


async def test_a_student_uploads_a_pdf_takes_a_quiz_and_sees_stats(
    tg: RunningBot, shared_data: Path
) -> None:
    fake = tg.fake
    alice = fake.user(ALICE, "Alice")
    fake.send_text(alice, "/start")
    await fake.wait_for_message(ALICE, "Hi Alice")

    ready = await _upload(fake, alice, (shared_data / EXCERPT).read_bytes(), EXCERPT)
    assert ready.text.startswith("✅ Material added\nAnatomy and Physiology 2e")
    assert "is ready: 4 pages" in ready.text
    assert ready.history and ready.history[0].startswith(f"Got {EXCERPT}"), (
        "the status message was edited from progress to ready"
    )
    assert len(fake.bot_messages(ALICE)) == 2, "welcome + one status message, no progress spam"
    assert len(fake.calls_of("getFile")) == 1 and len(fake.downloads) == 1

    question = await _answer_one(fake, alice)
    assert re.match(r"(✅ Correct|❌ Not quite)", question.text)
    # The questions were written in the background: the status message said so at once and
    # was edited when they were ready; the quiz then started by itself.
    status = await fake.wait_until(
        lambda: next((m for m in fake.bot_messages(ALICE) if m.text.startswith("Wrote ")), None)
    )
    assert any(text.startswith("Writing 10 new questions") for text in status.history)
    assert status.message_id < question.message_id
    source = next(line for line in question.text.splitlines() if line.startswith("Source:"))
    assert re.search(rf"p\. \d+ of {re.escape(EXCERPT)}", source), source
    assert [b["text"] for row in question.buttons for b in row] == ["Report a problem"]

    fake.send_text(alice, "/stats")
    stats = await fake.wait_for_message(ALICE, "Last 7 days", within=30)
    assert stats.kind == "photo" and "1 answered" in stats.text

    assert all(query.answered for query in fake.callbacks.values())
    assert all(len(data.encode()) <= MAX_PAYLOAD_BYTES for data in _all_callback_data(fake))
    assert fake.unknown_methods == []


async def test_a_corrupt_pdf_is_refused_kindly_and_leaves_nothing(
    tg: RunningBot, shared_data: Path
) -> None:
    fake = tg.fake
    alice = fake.user(ALICE, "Alice")
    fake.send_document(
        alice, "lecture.pdf", (shared_data / "bad" / "truncated_half.pdf").read_bytes()
    )
    refused = await fake.wait_for_message(ALICE, "damaged or incomplete", within=30)
    assert refused.text.startswith("⚠️")
    assert len(fake.bot_messages(ALICE)) == 1, "the status message became the refusal"
    fake.send_text(alice, "/materials")
    await fake.wait_for_message(ALICE, "No materials for you yet")


async def test_two_students_at_once_never_see_each_others_material(
    tg: RunningBot, shared_data: Path
) -> None:
    fake = tg.fake
    alice, bob = fake.user(ALICE, "Alice"), fake.user(BOB, "Bob")
    await asyncio.gather(
        _upload(fake, alice, (shared_data / EXCERPT).read_bytes(), "alice_heart.pdf"),
        _upload(fake, bob, (shared_data / EXCERPT_TWIN).read_bytes(), "bob_heart.pdf"),
    )
    for user in (alice, bob):
        fake.send_text(user, "/materials")
        listing = await fake.wait_for_message(user["id"], "Your materials")
        assert "1. Anatomy and Physiology 2e" in listing.text and "\n2. " not in listing.text
    alice_reveal, bob_reveal = await asyncio.gather(
        _answer_one(fake, alice), _answer_one(fake, bob)
    )
    assert "of alice_heart.pdf" in alice_reveal.text and "bob_heart" not in alice_reveal.text
    assert "of bob_heart.pdf" in bob_reveal.text and "alice_heart" not in bob_reveal.text


async def test_a_group_uploads_with_the_upload_caption_into_the_groups_own_scope(
    tg: RunningBot, shared_data: Path
) -> None:
    fake = tg.fake
    alice = fake.user(ALICE, "Alice")
    fake.group(GROUP, "Cardio study group", admins=(ALICE,))
    data = (shared_data / EXCERPT).read_bytes()
    fake.send_document(alice, "holiday_photos.pdf", data, chat_id=GROUP)  # no caption: not ours
    await _upload(fake, alice, data, "group_notes.pdf", chat_id=GROUP,
                  caption="/upload")  # fmt: skip
    assert len(fake.bot_messages(GROUP)) == 1, "the caption-less file was left alone"
    fake.send_text(alice, "/materials", chat_id=GROUP)
    listing = await fake.wait_for_message(GROUP, "1. Anatomy")
    assert "\n2. " not in listing.text
    fake.send_text(alice, "/materials")
    await fake.wait_for_message(ALICE, "No materials for you yet")
