"""Uploads wait in their own line: while other students' files are being read, a student's
click is answered at once, on either runtime (PTB, aiogram) and the fake Bot API.

Each upload holds its place (and a database connection) until its file is read; if uploads
took the slots clicks use, a hundred of them would leave every click waiting half a minute.
Here the slots are few and five uploads hang in getFile, so a click can only be answered
if the uploads never took its slot.
"""

from __future__ import annotations

import pytest

from bot import aiogram_bot, telegram_bot
from bot.telegram_events import MAX_CONCURRENT_UPLOADS
from core.settings import Settings
from storage.enums import Platform
from tests.bot.telegram_harness import running_bot
from tests.study_seed import seed_student

pytestmark = pytest.mark.telegram_runtimes

ALICE = 1001
UPLOADERS = tuple(range(2001, 2006))
# Fewer slots than uploads: without a line of their own, the uploads fill every slot.
SLOTS = 3
# How long each upload's getFile hangs: far longer than a click takes, within the read
# timeout of either library.
HOLD_S = 3.0


async def test_a_click_is_answered_while_five_uploads_of_other_chats_are_being_read(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert len(UPLOADERS) > SLOTS > MAX_CONCURRENT_UPLOADS
    monkeypatch.setattr(telegram_bot, "MAX_CONCURRENT_UPDATES", SLOTS)
    monkeypatch.setattr(aiogram_bot, "MAX_CONCURRENT_UPDATES", SLOTS)
    async with running_bot(settings) as tg:
        fake = tg.fake
        await seed_student(
            tg.app.services.db, external_id=str(ALICE), platform=Platform.TELEGRAM, count=3
        )
        alice = fake.user(ALICE, "Alice")
        fake.send_text(alice, "/quiz 3")
        question = await fake.wait_for_message(ALICE, "Question 1 of 3")

        fake.delay("getFile", HOLD_S)
        for number, uploader in enumerate(UPLOADERS):
            user = fake.user(uploader, f"Uploader{number}")
            fake.send_document(user, f"notes-{number}.pdf", b"%PDF-1.4 not really a pdf")
        await fake.wait_until(lambda: len(fake.calls_of("getFile")) >= MAX_CONCURRENT_UPLOADS)

        answered = await fake.wait_answered(fake.press(alice, question, question.button("A")))
        assert not fake.downloads, "answered while every upload was still waiting for its file"
        assert answered.text is None or "wrong" not in answered.text.lower()
        assert "How sure were you?" in question.text

        fake.delay("getFile", 0)  # the uploads still in line go through at once
        for uploader in UPLOADERS:
            reply = await fake.wait_until(lambda u=uploader: _last_bot_text(fake, u), within=30)
            assert "PDF" in reply or "read" in reply.lower(), "each upload gets its answer"


def _last_bot_text(fake, chat_id: int) -> str | None:  # type: ignore[no-untyped-def]
    """The chat's latest bot message once it is no longer a progress note."""
    messages = fake.bot_messages(chat_id)
    if not messages or messages[-1].text.endswith("…"):
        return None
    return messages[-1].text
