"""Every command in a Telegram group, against the fake Bot API: the group sees only the
group's own material and one-line pointers; a member's private material never shows there,
and a pointer's deep link brings the personal answer into the private chat."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from core.settings import Settings
from core.texts.commands import COMMAND_CATALOGUE
from handlers.personal import PERSONAL_COMMANDS
from storage.enums import Platform
from tests.bot.telegram_harness import running_bot
from tests.fakes.telegram_server import BOT_USERNAME, FakeTelegram, Message
from tests.privacy_seed import (
    PrivateStudent,
    leaks,
    seed_private_material,
    study_privately,
)
from tests.rounds_support import T0, FakeClock, seed_group

pytestmark = pytest.mark.telegram_runtimes

GROUP = -100777
# Every command in a row, faster than a person types: the rate limits are not under test.
UNHURRIED = {"rate_user_burst": 100, "rate_chat_burst": 100}
ZOE, MAX = 601, 602


def _everything_shown(fake: FakeTelegram, chat_id: int) -> list[str]:
    """Every text the bot ever showed in the chat: each version of each message, captions,
    file names and button labels and links."""
    shown: list[str] = []
    for message in fake.bot_messages(chat_id):
        shown += [message.text, message.html, message.file_name, *message.history]
        shown += [str(button) for row in message.buttons for button in row]
    return shown


async def _run(fake: FakeTelegram, user: dict, text: str, chat_id: int) -> list[Message]:
    """Sends `text` and returns the bot's new messages once there is one. One chat's updates
    run in order, so anything more would arrive before the next command's answer."""
    before = len(fake.bot_messages(chat_id))
    fake.send_text(user, text, chat_id=chat_id)
    await fake.wait_until(lambda: len(fake.bot_messages(chat_id)) > before)
    return fake.bot_messages(chat_id)[before:]


async def test_no_command_in_a_group_shows_a_members_private_material(
    settings: Settings,
) -> None:
    clock = FakeClock(T0)
    async with running_bot(settings, UNHURRIED, clock=clock) as bot:
        fake, db = bot.fake, bot.app.services.db
        zoe, max_ = fake.user(ZOE, "Zoe"), fake.user(MAX, "Max")
        fake.group(GROUP, "Endocrine study group", admins=(MAX,))
        await seed_group(db, platform=Platform.TELEGRAM, chat_external_id=str(GROUP),
                         members=(), questions=3)  # fmt: skip
        await seed_private_material(db, platform=Platform.TELEGRAM, external_id=str(ZOE))
        student = PrivateStudent(bot.app.router, clock, Platform.TELEGRAM, str(ZOE), str(ZOE))
        await study_privately(student)
        clock.advance(timedelta(days=3).total_seconds())  # her cards are due now

        for command, _line in COMMAND_CATALOGUE:
            shown = await _run(fake, zoe, f"/{command}", GROUP)
            assert shown, f"/{command} got no answer in the group"
            if command in PERSONAL_COMMANDS:
                assert len(shown) == 1 and "is personal" in shown[0].text, command
                link = shown[0].buttons[0][0]["url"]
                assert link.startswith(f"https://t.me/{BOT_USERNAME}?start=p-"), link

            if command == "topics":  # the group's own material is answered in the group
                assert "Cardiac Muscle" in shown[0].text
        # A personal button replayed in the group is refused with an alert, nothing posted.
        before = len(fake.bot_messages(GROUP))
        refused = await fake.wait_answered(fake.press(zoe, 1, "rv", chat_id=GROUP))
        assert "personal" in refused.text and refused.show_alert
        # A fence: everything the commands above caused has been sent once this arrives.
        fence = await _run(fake, max_, "/help", GROUP)
        assert len(fence) == 1 and len(fake.bot_messages(GROUP)) == before + 1

        leaked = {text: leaks(text) for text in _everything_shown(fake, GROUP) if leaks(text)}
        assert leaked == {}

        # Following /history's deep link: /start <parameter> in the private chat shows it.
        history = next(m for m in fake.bot_messages(GROUP) if "/history is personal" in m.text)
        parameter = parse_qs(urlsplit(history.buttons[0][0]["url"]).query)["start"][0]
        private = await _run(fake, zoe, f"/start {parameter}", ZOE)
        assert "Privstem" in private[0].text and "Your last 5 answers" in private[0].text
