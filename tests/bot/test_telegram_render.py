"""Replies as Bot API calls: a real PTB Bot and a real aiogram Bot each render them into the
fake server, with the same assertions; and the update processor that keeps one chat's updates
in order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from telegram import Chat, Update
from telegram import Message as TgMessage

from bot.telegram_bot import PerChatUpdateProcessor
from bot.telegram_replies import (
    MAX_TEXT,
    BotApi,
    ReplyRenderer,
    StatusMessage,
    html_pieces,
    split_notice,
    utf16_len,
)
from core.buttons import Button
from core.settings import Settings
from handlers.context import Services
from handlers.router import Router
from handlers.types import Reply, SentMessage, Tone
from storage.db import Database
from tests.bot.telegram_harness import library_bot_api
from tests.conftest import TELEGRAM_RUNTIMES
from tests.fakes.telegram_server import FakeTelegram

ALICE = 1001


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram().start()
    server.user(ALICE, "Alice")
    yield server
    await server.stop()


@pytest.fixture(params=TELEGRAM_RUNTIMES)
async def api(request: pytest.FixtureRequest, fake: FakeTelegram) -> AsyncIterator[BotApi]:
    async with library_bot_api(request.param, fake) as runtime_api:
        yield runtime_api


@pytest.fixture
def sent(settings: Settings) -> list[SentMessage]:
    return []


@pytest.fixture
def renderer(api: BotApi, settings: Settings, sent: list[SentMessage]) -> ReplyRenderer:
    router = Router(Services(settings=settings, db=Database(settings.database_url)))

    async def remember(_services: Services, message: SentMessage) -> None:
        sent.append(message)

    router.sent_hooks.append(remember)
    return ReplyRenderer(api, router, router.services.clock, ALICE)


async def test_a_long_reply_is_split_on_line_breaks_and_buttons_go_last(
    fake: FakeTelegram, renderer: ReplyRenderer
) -> None:
    lines = [
        f"Line {n}: the SA node sets the pace & the AV node delays it <0.1 s>" for n in range(150)
    ]
    buttons = ((Button("Next", "next:abc"),),)
    await renderer.deliver([Reply("\n".join(lines), title="Notes", buttons=buttons)])
    messages = fake.bot_messages(ALICE)
    assert len(messages) == 3
    assert all(utf16_len(m.text) <= MAX_TEXT for m in messages)
    assert [m.callback_data for m in messages] == [[], [], ["next:abc"]]
    joined = "\n".join(m.text for m in messages)
    assert joined == "Notes\n" + "\n".join(lines), "nothing lost, every line whole"


async def test_edit_of_edits_in_place_and_track_reports_the_message(
    fake: FakeTelegram, renderer: ReplyRenderer, sent: list[SentMessage]
) -> None:
    options = ((Button("A", "ans:tok:0"), Button("B", "ans:tok:1")),)
    await renderer.deliver([Reply("Which node paces the heart?", buttons=options, track="q1")])
    (question,) = fake.bot_messages(ALICE)
    assert [s.track for s in sent] == ["q1"] and sent[0].message_ref == str(question.message_id)
    await renderer.deliver(
        [Reply("SA node (page 3)", title="Correct", tone=Tone.GOOD, edit_of=sent[0].message_ref)]
    )
    assert len(fake.bot_messages(ALICE)) == 1, "no chat spam"
    assert question.text == "✅ Correct\nSA node (page 3)"
    assert question.buttons == [], "the options are gone once answered"
    assert question.history == ["Which node paces the heart?"]
    # Pressing twice renders the same edit again; Telegram's "not modified" is harmless.
    await renderer.deliver([Reply("SA node (page 3)", title="Correct", tone=Tone.GOOD,
                                  edit_of=sent[0].message_ref)])  # fmt: skip
    assert len(fake.bot_messages(ALICE)) == 1


async def test_an_edit_of_a_vanished_message_becomes_a_new_message(
    fake: FakeTelegram, renderer: ReplyRenderer
) -> None:
    await renderer.deliver([Reply("Time is up", edit_of="999")])
    assert [m.text for m in fake.bot_messages(ALICE)] == ["Time is up"]


async def test_images_go_as_photos_and_exports_as_documents(
    fake: FakeTelegram, renderer: ReplyRenderer, tmp_path: Path, shared_data: Path
) -> None:
    chart = tmp_path / "chart.png"
    chart.write_bytes((shared_data / "bad" / "png_renamed.pdf").read_bytes())
    export = tmp_path / "history.csv"
    export.write_text("question,correct\n1,yes\n")
    await renderer.deliver(
        [
            Reply("Your accuracy by topic", title="Stats", image=chart),
            Reply("Your answers", document=export),
        ]
    )
    photo, document = fake.bot_messages(ALICE)
    assert photo.kind == "photo" and photo.text == "Stats\nYour accuracy by topic"
    assert photo.file_size == chart.stat().st_size
    assert document.kind == "document" and document.file_name == "history.csv"


async def test_the_status_message_is_sent_once_edited_throttled_then_replaced(
    fake: FakeTelegram, api: BotApi, renderer: ReplyRenderer
) -> None:
    now = [100.0]
    status = StatusMessage(api, ALICE, min_interval_s=1.5, monotonic=lambda: now[0])
    await status.show("Reading page 1/212…")
    await status.show("Reading page 2/212…")  # too soon: skipped
    now[0] += 2
    await status.show("Reading page 40/212…")
    (message,) = fake.bot_messages(ALICE)
    assert message.text == "Reading page 40/212…"
    assert message.history == ["Reading page 1/212…"]
    await renderer.deliver([Reply("heart.pdf is ready: 4 pages.")], status=status)
    assert [m.text for m in fake.bot_messages(ALICE)] == ["heart.pdf is ready: 4 pages."]
    await status.show("late progress")  # after the final reply it must not draw over it
    assert message.text == "heart.pdf is ready: 4 pages."


def test_titles_are_bold_and_text_is_escaped() -> None:
    (piece,) = html_pieces(Reply("p < 0.05 & n > 30", title="Stats <beta>", tone=Tone.WARNING))
    assert piece == "<b>⚠️ Stats &lt;beta&gt;</b>\np &lt; 0.05 &amp; n &gt; 30"
    assert html_pieces(Reply("Well done", tone=Tone.GOOD)) == ["✅ Well done"]


def test_a_button_press_is_answered_with_the_short_alert() -> None:
    alert = Reply("That question belongs to someone else.", is_alert=True, ephemeral=True)
    edit = Reply("Revealed", edit_of="7")
    assert split_notice([edit, alert]) == (alert, [edit])
    too_long = Reply("x" * 201, is_alert=True)
    assert split_notice([too_long]) == (None, [too_long])


def update(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, "private" if chat_id > 0 else "group")
    return Update(update_id, message=TgMessage(update_id, datetime.now(UTC), chat))


async def _work(log: list[str], name: str, release: asyncio.Event | None = None) -> None:
    log.append(name)
    if release is not None:
        await release.wait()


async def test_updates_of_one_chat_run_in_order_and_other_chats_run_alongside() -> None:
    processor = PerChatUpdateProcessor(8)
    started: list[str] = []
    release = asyncio.Event()

    def work(name: str, wait: bool = False) -> Any:
        return _work(started, name, release if wait else None)

    first = asyncio.create_task(processor.process_update(update(1, 5), work("a1", wait=True)))
    second = asyncio.create_task(processor.process_update(update(2, 5), work("a2")))
    other = asyncio.create_task(processor.process_update(update(3, 6), work("b1")))
    await other
    assert started == ["a1", "b1"], "chat 6 is not held up by chat 5; a2 waits for a1"
    release.set()
    await asyncio.gather(first, second)
    assert started == ["a1", "b1", "a2"]
    third = asyncio.create_task(processor.process_update(update(4, 5), work("a3")))
    await third
    assert started[-1] == "a3"


async def test_a_busy_chats_queued_updates_hold_no_global_slot() -> None:
    processor = PerChatUpdateProcessor(2)
    release, ran = asyncio.Event(), []

    def work(name: str, wait: bool = False) -> Any:
        return _work(ran, name, release if wait else None)

    # Chat 5 is busy with a long upload and has ten more updates queued behind it.
    busy = [asyncio.create_task(processor.process_update(update(1, -5), work("upload", True)))]
    busy += [
        asyncio.create_task(processor.process_update(update(n, -5), work(f"press{n}")))
        for n in range(2, 12)
    ]
    await asyncio.sleep(0)
    other = asyncio.create_task(processor.process_update(update(99, -6), work("other chat")))
    await asyncio.wait_for(other, 2)  # two slots in all, and chat 5 holds only one of them
    assert ran == ["upload", "other chat"]
    release.set()
    await asyncio.gather(*busy)
    assert len(ran) == 12


async def test_a_status_note_nothing_could_replace_is_removed(
    fake: FakeTelegram, api: BotApi, renderer: ReplyRenderer, tmp_path: Path, shared_data: Path
) -> None:
    chart = tmp_path / "chart.png"
    chart.write_bytes((shared_data / "bad" / "png_renamed.pdf").read_bytes())
    status = StatusMessage(api, ALICE)
    await status.show("Drawing your chart…")
    await renderer.deliver([Reply("Last 7 days: 3 answered", image=chart)], status=status)
    assert [m.kind for m in fake.bot_messages(ALICE)] == ["photo"]


async def test_group_chatter_is_not_rate_limited_but_commands_are() -> None:
    from core.ratelimit import EventLimiter, Rate

    limiter = EventLimiter(user=Rate(2, 60), chat=Rate(2, 60))
    warned: list[int] = []

    async def on_limited(limited: Update) -> None:
        warned.append(limited.update_id)

    processor = PerChatUpdateProcessor(4, limiter, on_limited)
    ran: list[str] = []

    def said(update_id: int, text: str) -> Update:
        group = Chat(-7, "group")
        sent = TgMessage(update_id, datetime.now(UTC), group, text=text)
        return Update(update_id, message=sent)

    for n in range(5):  # members talking among themselves: Rounds ignores it, never limits it
        await processor.process_update(said(n, "see you at 5"), _work(ran, f"chat{n}"))
    for n in range(5, 9):
        await processor.process_update(said(n, "/leaderboard"), _work(ran, f"cmd{n}"))
    assert ran == [f"chat{n}" for n in range(5)] + ["cmd5", "cmd6"]
    assert warned == [7]
