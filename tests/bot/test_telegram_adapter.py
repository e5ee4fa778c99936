"""Each runtime (PTB Application, aiogram Dispatcher) against the fake Bot API: commands,
groups, limits, failures."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from types import SimpleNamespace

import aiohttp
import pytest
from pydantic import SecretStr

from bot.app import build_app
from bot.runner import startup_failure
from bot.telegram_events import SORRY, parse_command, webhook_secret
from core.buttons import Button
from core.settings import Settings
from core.texts.commands import COMMAND_CATALOGUE
from scheduler.notifier import RecipientUnreachable
from storage.enums import Platform
from tests.bot.telegram_harness import RunningBot, running_bot, serve_for, telegram_settings
from tests.fakes.telegram_server import BOT_USERNAME, FakeTelegram

pytestmark = pytest.mark.telegram_runtimes

ALICE, BOB = 1001, 1002
GROUP = -100555


@pytest.fixture
async def tg(settings: Settings) -> AsyncIterator[RunningBot]:
    async with running_bot(settings) as running:
        yield running


async def test_start_greets_by_name_in_html_and_the_menu_is_registered(tg: RunningBot) -> None:
    fake = tg.fake
    alice = fake.user(ALICE, "Alice")
    fake.send_text(alice, "/start")
    welcome = await fake.wait_for_message(ALICE, "Hi Alice")
    assert welcome.html.startswith("<b>Welcome to Rounds</b>\n")
    assert welcome.text.startswith("Welcome to Rounds\nHi Alice! I'm Rounds")
    names = [command["command"] for command in fake.commands]
    assert names[:2] == ["start", "help"]
    assert set(names) <= {name for name, _ in COMMAND_CATALOGUE}
    assert fake.calls_of("deleteWebhook"), "polling starts by clearing any webhook"

    fake.send_text(alice, "/help")
    help_message = await fake.wait_for_message(ALICE, "What I can do")
    assert "/start - Welcome" in help_message.text
    assert fake.unknown_methods == []


async def test_user_text_is_escaped_for_telegram_html(tg: RunningBot) -> None:
    fake = tg.fake
    alice = fake.user(ALICE, "Alice <3 & co")
    fake.send_text(alice, "/a<b>&c")
    reply = await fake.wait_for_message(ALICE, "I don't know")
    # The fake refuses HTML it cannot parse, so arriving at all means it was escaped.
    assert reply.text == "I don't know /a<b>&c. Send /help to see what I can do."
    fake.send_text(alice, "/start")
    assert (await fake.wait_for_message(ALICE, "Hi Alice <3 & co!")).html.count("&lt;3") == 1


async def test_groups_answer_commands_for_this_bot_only(tg: RunningBot) -> None:
    fake = tg.fake
    alice = fake.user(ALICE, "Alice")
    fake.group(GROUP, "Cardio study group", admins=(ALICE,))
    fake.send_text(alice, "/help@other_bot", chat_id=GROUP)
    fake.send_text(alice, "good morning everyone", chat_id=GROUP)
    fake.send_text(alice, f"/help@{BOT_USERNAME}", chat_id=GROUP)
    await fake.wait_for_message(GROUP, "What I can do")
    # One chat's updates are handled in order, so the two ignored ones are already done.
    assert len(fake.bot_messages(GROUP)) == 1
    assert fake.bot_messages(ALICE) == []
    assert fake.calls_of("getChatAdministrators"), "group commands learn the admin flag"


def test_command_parsing() -> None:
    assert parse_command("/quiz heart 5", "RoundsBot") == ("quiz", ("heart", "5"))
    assert parse_command("/Quiz@roundsbot 'cardiac output' 3", "RoundsBot") == (
        "quiz",
        ("cardiac output", "3"),
    )
    assert parse_command("/quiz@OtherBot heart", "RoundsBot") is None
    assert parse_command("/quiz Starling's law", "RoundsBot") == ("quiz", ("Starling's", "law"))


async def test_a_429_is_waited_out_and_the_message_still_arrives(tg: RunningBot) -> None:
    fake = tg.fake
    alice = fake.user(ALICE, "Alice")
    fake.fail_next("sendMessage", 429, retry_after=1)
    fake.send_text(alice, "/start")
    await fake.wait_for_message(ALICE, "Hi Alice")
    attempts = fake.calls_of("sendMessage")
    assert [call.status for call in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 1.0, "the bot honours retry_after"
    assert len(fake.bot_messages(ALICE)) == 1


async def test_a_25_mb_pdf_gets_a_friendly_message_and_is_never_downloaded(
    tg: RunningBot,
) -> None:
    fake = tg.fake
    alice = fake.user(ALICE, "Alice")
    fake.send_document(alice, "whole_textbook.pdf", size=25 * 1024 * 1024)
    reply = await fake.wait_for_message(ALICE, "MB")
    assert "26.2 MB" in reply.text and "at most 20 MB" in reply.text
    assert "split" in reply.text
    assert fake.calls_of("getFile") == [] and fake.downloads == []


async def test_a_blocked_user_does_not_stop_the_bot_for_others(
    tg: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    fake = tg.fake
    alice, bob = fake.user(ALICE, "Alice"), fake.user(BOB, "Bob")
    fake.block(ALICE)
    fake.send_text(alice, "/start")
    await fake.wait_until(lambda: any(c.status == 403 for c in fake.calls_of("sendMessage")))
    fake.send_text(bob, "/start")
    await fake.wait_for_message(BOB, "Hi Bob")
    assert fake.bot_messages(ALICE) == []
    assert tg.fake.token not in caplog.text


async def test_the_notifier_pushes_with_buttons_edits_and_reports_blocked_users(
    tg: RunningBot,
) -> None:
    fake = tg.fake
    fake.user(ALICE, "Alice")
    fake.user(BOB, "Bob")
    notifier = tg.app.notifiers[Platform.TELEGRAM]
    assert notifier.platform is Platform.TELEGRAM
    buttons = [[Button("Start review", "review:go")]]
    ref = await notifier.send(str(ALICE), "12 cards due <today> — about 6 minutes", buttons)
    pushed = fake.messages[(ALICE, int(ref))]
    assert pushed.text == "12 cards due <today> — about 6 minutes"
    assert pushed.callback_data == ["review:go"]
    await notifier.edit(str(ALICE), ref, "All done for today")
    assert pushed.text == "All done for today" and pushed.buttons == []

    fake.block(BOB)
    with pytest.raises(RecipientUnreachable):
        await notifier.send(str(BOB), "12 cards due")
    with pytest.raises(RecipientUnreachable):
        await notifier.send("424242", "nobody here")  # chat not found


async def test_a_failed_send_is_logged_without_secrets_and_the_user_hears_a_short_word(
    tg: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    fake = tg.fake
    alice = fake.user(ALICE, "Alice")
    fake.fail_next("sendMessage", 400, "Bad Request: something unexpected")
    with caplog.at_level(logging.INFO):
        fake.send_text(alice, "/start my private words")
        await fake.wait_for_message(ALICE, SORRY)
    assert "BadRequest" in caplog.text
    assert fake.token not in caplog.text
    assert "my private words" not in caplog.text


async def test_stop_lets_the_update_in_flight_finish(settings: Settings) -> None:
    async with running_bot(settings) as tg:
        fake = tg.fake
        alice = fake.user(ALICE, "Alice")
        fake.delay("sendMessage", 0.7)
        fake.send_text(alice, "/start")
        await fake.wait_until(lambda: fake.calls_of("sendMessage"))
        await tg.shut_down()  # SIGTERM while the reply is still on the wire
        assert [m.text.split("\n")[0] for m in fake.bot_messages(ALICE)] == ["Welcome to Rounds"]
        last_poll = fake.calls_of("getUpdates")[-1]
        assert last_poll.params.get("offset") == 2, "the handled update is confirmed"
        assert Platform.TELEGRAM not in tg.app.notifiers


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_webhook_mode_checks_the_secret_token(settings: Settings) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/tg-hook"
    overrides = {
        "telegram_webhook_url": url,
        "telegram_webhook_listen": f"127.0.0.1:{port}",
    }
    async with running_bot(settings, overrides) as tg:
        fake = tg.fake
        assert fake.webhook["url"] == url
        secret = fake.webhook["secret_token"]
        assert secret == webhook_secret(tg.app) and fake.token not in secret
        fake.user(ALICE, "Alice")
        update = {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": ALICE, "type": "private", "first_name": "Alice"},
                "from": fake.users[ALICE],
                "text": "/start",
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            },
        }
        async with aiohttp.ClientSession() as http:
            forged = await http.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "guess"}
            )
            assert forged.status == 403
            genuine = await http.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret}
            )
            assert genuine.status == 200
        await fake.wait_for_message(ALICE, "Hi Alice")
        await asyncio.sleep(0)
        assert len(fake.bot_messages(ALICE)) == 1
        assert fake.calls_of("getUpdates") == []


def test_an_empty_webhook_secret_counts_as_unset(settings: Settings) -> None:
    """docker-compose passes `${ROUNDS_TELEGRAM_WEBHOOK_SECRET:-}`: an empty secret would
    let any POST in, so the token-derived one is used instead."""
    token = SecretStr("123:abc")
    empty = SimpleNamespace(
        settings=settings.model_copy(
            update={"telegram_bot_token": token, "telegram_webhook_secret": SecretStr("")}
        )
    )
    unset = SimpleNamespace(settings=settings.model_copy(update={"telegram_bot_token": token}))
    derived = webhook_secret(unset)  # type: ignore[arg-type]
    assert len(derived) == 64 and webhook_secret(empty) == derived  # type: ignore[arg-type]


async def test_a_failing_poll_is_retried_and_the_bot_carries_on(
    tg: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    fake = tg.fake
    alice = fake.user(ALICE, "Alice")
    fake.fail_next("getUpdates", 502, "Bad Gateway")
    fake.send_text(alice, "/start")
    await fake.wait_for_message(ALICE, "Hi Alice")
    statuses = [call.status for call in fake.calls_of("getUpdates")]
    assert 502 in statuses and statuses[-1] == 200
    assert not tg.task.done()
    assert "Bad Gateway" in caplog.text and fake.token not in caplog.text


async def test_rounds_own_upload_limit_is_checked_by_the_handler_before_download(
    settings: Settings,
) -> None:
    async with running_bot(settings, {"max_upload_mb": 1}) as tg:
        fake = tg.fake
        alice = fake.user(ALICE, "Alice")
        fake.send_document(alice, "slides.pdf", size=2 * 1024 * 1024)  # under Telegram's 20 MB
        reply = await fake.wait_for_message(ALICE, "up to 1 MB")
        assert "2 MB" in reply.text
        assert fake.calls_of("getFile") == [] and fake.downloads == []


async def test_a_wrong_token_fails_fast_and_registers_no_notifier(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # PTB logs every Bot API URL (token inside) at DEBUG
    fake = await FakeTelegram().start()
    wrong = "999:not-the-right-token"
    app = await build_app(telegram_settings(settings, fake, telegram_bot_token=SecretStr(wrong)))
    try:
        with pytest.raises(Exception) as refused:
            await asyncio.wait_for(serve_for(settings)(app, asyncio.Event()), 15)
        assert "401 Unauthorized" in startup_failure(refused.value)
        assert Platform.TELEGRAM not in app.notifiers
        if settings.telegram_runtime == "ptb":
            assert "Set Bot API URL" in caplog.text  # the line that carries the token was seen
        assert wrong not in caplog.text
    finally:
        await app.close()
        await fake.stop()
