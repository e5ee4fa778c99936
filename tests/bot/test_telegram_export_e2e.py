"""/export through each runtime (PTB, aiogram) and the fake Bot API: the Anki deck arrives as
a document; asked in a group, it goes to the member's private chat and never into the group."""

from __future__ import annotations

import sqlite3
import zipfile
from pathlib import Path

import pytest

from core.anki import exports_dir
from core.settings import Settings
from core.texts import personal
from storage.enums import Platform
from tests.bot.telegram_harness import RunningBot, running_bot
from tests.fakes.telegram_server import FakeTelegram
from tests.rounds_support import seed_group
from tests.study_seed import seed_student

pytestmark = pytest.mark.telegram_runtimes

ADA = 2101
GROUP = -100888


def note_count(apkg: Path, tmp_path: Path) -> int:
    with zipfile.ZipFile(apkg) as package:
        package.extract("collection.anki2", tmp_path)
    with sqlite3.connect(tmp_path / "collection.anki2") as collection:
        (count,) = collection.execute("SELECT count(*) FROM notes").fetchone()
    return int(count)


async def with_a_group_bank(tg: RunningBot) -> FakeTelegram:
    """The fake with a group chat whose scope holds three questions."""
    tg.fake.group(GROUP, "Cardio group")
    await seed_group(tg.app.services.db, chat_external_id=str(GROUP), members=(), questions=3)
    return tg.fake


async def test_export_arrives_as_an_apkg_document(settings: Settings, tmp_path: Path) -> None:
    async with running_bot(settings) as tg:
        seeded = await seed_student(
            tg.app.services.db, external_id=str(ADA), platform=Platform.TELEGRAM, count=4
        )
        tg.fake.send_text(tg.fake.user(ADA, "Ada"), "/export")
        document = await tg.fake.wait_for_message(ADA, "Import it in Anki")

        assert document.kind == "document"
        assert document.file_name == "rounds.apkg"
        assert "4 questions." in document.text
        (upload,) = tg.fake.calls_of("sendDocument")
        filename, size = upload.files["document"]
        sent = exports_dir(tg.app.settings.data_dir, seeded.user_id) / filename
        assert size == sent.stat().st_size
        assert note_count(sent, tmp_path) == 4


async def test_export_in_a_group_goes_to_the_members_private_chat(
    settings: Settings, tmp_path: Path
) -> None:
    async with running_bot(settings) as tg:
        fake = await with_a_group_bank(tg)
        ada = fake.user(ADA, "Ada")

        fake.send_text(ada, "/export", chat_id=GROUP)
        notice = await fake.wait_for_message(GROUP, personal.SENT_PRIVATELY)
        document = await fake.wait_for_message(ADA, "3 questions of Study group")

        assert notice.kind == "text"
        assert document.kind == "document" and document.file_name == "rounds.apkg"
        assert [m.kind for m in fake.bot_messages(GROUP)] == ["text"]
        (upload,) = fake.calls_of("sendDocument")
        assert int(upload.params["chat_id"]) == ADA
        (exported,) = exports_dir(tg.app.settings.data_dir, 1).parent.glob("*/rounds.apkg")
        assert note_count(exported, tmp_path) == 3


async def test_export_in_a_group_says_so_when_the_private_chat_is_closed(
    settings: Settings,
) -> None:
    async with running_bot(settings) as tg:
        fake = await with_a_group_bank(tg)
        fake.block(ADA)  # as Telegram answers a bot the user never started a chat with

        fake.send_text(fake.user(ADA, "Ada"), "/export", chat_id=GROUP)
        refused = await fake.wait_for_message(GROUP, "can't message you privately")

        assert "/export here again" in refused.text
        assert [m.kind for m in fake.bot_messages(GROUP)] == ["text"]
        assert fake.bot_messages(ADA) == []
