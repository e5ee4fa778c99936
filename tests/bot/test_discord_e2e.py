"""The real discord.py client against a fake Discord: connection, slash commands, buttons.

Every test runs `bot.discord_bot.serve` (the same entry point `python -m bot discord` uses)
against tests/fakes/discord_server.py and looks only at what Discord would have received.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
import pytest
from pydantic import SecretStr

from bot import discord_bot
from bot.app import App
from storage.enums import Platform
from tests.bot.discord_harness import app_for, discord_settings, fake_discord, running
from tests.derived_material import page_images, photo
from tests.fakes.discord_server import (
    DEFERRED_MESSAGE,
    MESSAGE,
    PRIVILEGED_INTENTS,
    UPDATE_MESSAGE,
    FakeDiscord,
    FakeInteraction,
    FakeMessage,
    FakeUser,
)

GUILD_ID = 4242


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with fake_discord() as server:
        yield server


@pytest.fixture
async def app(tmp_path: Path, fake: FakeDiscord, embedder: Any) -> AsyncIterator[App]:
    async with app_for(discord_settings(tmp_path, fake), embedder=embedder) as application:
        yield application


@pytest.fixture
async def bot(app: App, fake: FakeDiscord) -> AsyncIterator[App]:
    async with running(app, fake):
        yield app


STUDENT = FakeUser(111_111_111_111_111_111, "ana")
OTHER = FakeUser(222_222_222_222_222_222, "ben")


async def test_connects_with_minimal_intents_and_syncs_every_command(
    bot: App, fake: FakeDiscord
) -> None:
    identify = fake.identify_payloads[-1]
    assert identify["token"] == fake.token
    intents = int(identify["intents"])
    assert not any(intents & bit for bit in PRIVILEGED_INTENTS.values())
    assert intents == discord_bot.discord_intents().value
    # No DISCORD_GATEWAY_URL: the bot connected where GET /gateway/bot told it to.
    assert fake.requests_to("GET", "/gateway/bot")
    assert fake.gateway_paths == ["/gateway"]
    synced = {command["name"]: command for command in fake.global_commands}
    assert set(synced) == {name for name, _ in bot.router.menu}
    assert all(command["description"] for command in synced.values())
    assert bot.notifiers[Platform.DISCORD].platform is Platform.DISCORD


async def test_guild_sync_and_an_explicit_gateway_url(tmp_path: Path, fake: FakeDiscord) -> None:
    settings = discord_settings(
        tmp_path,
        fake,
        discord_guild_id=GUILD_ID,
        discord_gateway_url=fake.gateway_url.replace("/gateway", "/gateway-override"),
    )
    async with app_for(settings) as application:
        async with running(application, fake):
            assert fake.gateway_paths == ["/gateway-override"]
            assert not fake.requests_to("GET", "/gateway/bot")
            assert not fake.global_commands
            names = {command["name"] for command in fake.guild_commands[GUILD_ID]}
            assert "start" in names and "help" in names
            channel = fake.guild_channel(5150, guild_id=GUILD_ID)
            interaction = await fake.slash(STUDENT, "help", channel=channel)
            await fake.wait_for(lambda: interaction.original_id)
        assert application.notifiers == {}, "a stopped adapter unregisters its notifier"


async def test_start_in_a_dm_is_a_normal_message(bot: App, fake: FakeDiscord) -> None:
    interaction = await fake.slash(STUDENT, "start")
    await fake.wait_for(lambda: interaction.original_id)
    message = fake.messages[interaction.original_id]  # type: ignore[index]
    assert "Welcome to Rounds" in message.text
    assert "Hi Ana" in message.text
    assert not message.ephemeral
    assert interaction.ack_latency_s is not None and interaction.ack_latency_s < 3


async def test_help_in_a_server_channel_is_ephemeral_and_lists_commands(
    bot: App, fake: FakeDiscord
) -> None:
    channel = fake.guild_channel(5150, guild_id=GUILD_ID)
    interaction = await fake.slash(STUDENT, "help", channel=channel)
    await fake.wait_for(lambda: interaction.original_id)
    message = fake.messages[interaction.original_id]  # type: ignore[index]
    assert message.ephemeral
    assert "/start" in message.text and "/help" in message.text


async def test_wrong_token_fails_to_start(tmp_path: Path, fake: FakeDiscord) -> None:
    settings = discord_settings(tmp_path, fake, discord_bot_token=SecretStr("not-the-token"))
    async with app_for(settings) as application:
        with pytest.raises(discord.LoginFailure, match="token"):
            async with running(application, fake):
                pass
    assert not fake.identify_payloads


async def test_a_dm_message_gets_an_answer_in_the_dm(bot: App, fake: FakeDiscord) -> None:
    dm = fake.dm_channel(STUDENT)
    await fake.send_dm(STUDENT, "hello?")
    [answer] = await fake.wait_for(lambda: fake.bot_messages(dm))
    assert "/help" in answer.text
    await fake.send_dm(STUDENT, "/help")
    await fake.wait_for(lambda: len(fake.bot_messages(dm)) == 2)
    assert "/start" in fake.bot_messages(dm)[-1].text


async def test_an_oversized_pdf_in_a_dm_is_refused_before_download(
    bot: App, fake: FakeDiscord
) -> None:
    huge = fake.host_file("whole_textbook.pdf", b"%PDF-1.7 not really", size=60 * 1024 * 1024)
    await fake.send_dm(STUDENT, attachments=[huge])
    dm = fake.dm_channel(STUDENT)
    [answer] = await fake.wait_for(lambda: fake.bot_messages(dm))
    assert "60 MB" in answer.text and "20 MB" in answer.text
    assert fake.downloads == []


PDF = "ap2e_19-5_heart_development_excerpt.pdf"


async def test_a_student_uploads_a_pdf_and_takes_a_quiz_that_cites_the_page(
    bot: App, fake: FakeDiscord, shared_data: Path
) -> None:
    pdf = fake.host_file(PDF, (shared_data / PDF).read_bytes())
    upload = await fake.slash(STUDENT, "upload", attachments={"file": pdf})
    # The first upload of a run starts the embedding worker (model load): on a busy machine
    # that alone has taken over 15 s, so only the acknowledgement below is held to a second.
    await fake.wait_for(
        lambda: upload.original_id and "ready" in original(fake, upload).text, within_s=120
    )
    # Acknowledged at once ("thinking…"), then that same message became the answer.
    assert upload.callback_types == [DEFERRED_MESSAGE]
    assert upload.ack_latency_s is not None and upload.ack_latency_s < 1
    assert fake.downloads == [pdf["url"].split("/cdn/")[1]]
    ready = original(fake, upload)
    assert "Material added" in ready.text and "4 pages" in ready.text
    assert any(v["content"].startswith("⏳") for v in ready.versions), "progress was shown"

    quiz = await fake.slash(STUDENT, "quiz", {"n": 2})
    # No questions yet: the answer is a status message at once, the questions are written in
    # the background, the status says how it went and the quiz starts by itself.
    await fake.wait_for(
        lambda: quiz.original_id and "Wrote 2" in original(fake, quiz).text, within_s=60
    )
    status = original(fake, quiz)
    assert any("Writing 2 new questions" in json.dumps(v) for v in status.versions)
    await fake.wait_for(lambda: _message_with(fake, "Question 1 of 2"))
    question = _message_with(fake, "Question 1 of 2")
    assert question is not None and not question.ephemeral
    letters = [label for label, _ in question.buttons]
    assert letters[:2] == ["A", "B"] and len(letters) >= 4

    click = await fake.click(STUDENT, question, question.custom_id("A"))
    await fake.wait_for(lambda: "How sure were you?" in question.text)
    assert click.callback_types == [UPDATE_MESSAGE]
    click = await fake.click(STUDENT, question, question.custom_id("Fairly sure"))
    await fake.wait_for(lambda: click.followup_ids)
    assert re.search(r"Source: .*p\. \d+ of " + re.escape(PDF), question.text), question.text
    assert [label for label, _ in question.buttons] == ["Report a problem"]
    assert "Question 2 of 2" in fake.messages[click.followup_ids[0]].text
    for interaction in (upload, quiz, click):
        assert interaction.ack_latency_s is not None and interaction.ack_latency_s < 3


async def test_an_oversized_upload_is_refused_without_downloading_it(
    bot: App, fake: FakeDiscord
) -> None:
    huge = fake.host_file("whole_textbook.pdf", b"%PDF-1.7 stub", size=60 * 1024 * 1024)
    upload = await fake.slash(STUDENT, "upload", attachments={"file": huge})
    await fake.wait_for(lambda: upload.original_id)
    answer = original(fake, upload)
    assert "60 MB" in answer.text and "20 MB" in answer.text
    assert upload.callback_types == [MESSAGE], "answered at once, nothing to wait for"
    assert fake.downloads == []


def _message_with(fake: FakeDiscord, text: str) -> FakeMessage | None:
    return next((m for m in fake.messages.values() if text in m.text and m.buttons), None)


def original(fake: FakeDiscord, interaction: FakeInteraction) -> FakeMessage:
    assert interaction.original_id is not None
    return fake.messages[interaction.original_id]


async def test_stats_arrive_as_an_image_attachment_shown_in_the_embed(
    bot: App, fake: FakeDiscord
) -> None:
    stats = await fake.slash(STUDENT, "stats")
    await fake.wait_for(lambda: stats.original_id and original(fake, stats).attachment_names)
    message = original(fake, stats)
    [name] = message.attachment_names
    assert name.endswith(".png")
    [embed] = message.payload["embeds"]
    assert embed["image"]["url"] == f"attachment://{name}"
    [upload] = [r for r in fake.requests if r.files]
    assert upload.files[name].startswith(b"\x89PNG")


async def test_a_flood_of_dms_gets_one_slow_down_and_the_excess_is_dropped(
    bot: App, fake: FakeDiscord
) -> None:
    from core.ratelimit import SLOW_DOWN_TEXT

    dm = fake.dm_channel(STUDENT)
    for index in range(30):  # far faster than anyone types
        await fake.send_dm(STUDENT, f"hi {index}")
    await fake.wait_for(lambda: SLOW_DOWN_TEXT in [m.text for m in fake.bot_messages(dm)])
    burst = bot.settings.rate_user_burst
    await fake.wait_for(lambda: len(fake.bot_messages(dm)) >= burst + 1)
    texts = [m.text for m in fake.bot_messages(dm)]
    assert texts.count(SLOW_DOWN_TEXT) == 1
    assert len(texts) - 1 <= burst + 1  # the burst (and at most a token of refill) answered
    # Someone else is not slowed down by it.
    await fake.send_dm(OTHER, "hello?")
    await fake.wait_for(lambda: fake.bot_messages(fake.dm_channel(OTHER)))


@pytest.mark.slow
async def test_several_pictures_in_one_dm_become_one_material_in_order(
    bot: App, fake: FakeDiscord, shared_data: Path
) -> None:
    bands = page_images(shared_data / "ap2e_ch19_heart.pdf", [9, 10], dpi=200, band=(0.06, 0.2))
    pictures = [fake.host_file(f"page{n}.jpg", photo(b)) for n, b in enumerate(bands, start=1)]
    await fake.send_dm(STUDENT, attachments=pictures)
    dm = fake.dm_channel(STUDENT)
    await fake.wait_for(lambda: any("is ready" in m.text for m in fake.bot_messages(dm)), 180)
    ready = next(m for m in fake.bot_messages(dm) if "is ready" in m.text)
    assert "is ready: 2 pages, " in ready.text
    assert "2 scanned pages read with OCR." in ready.text
    assert len(fake.downloads) == 2
