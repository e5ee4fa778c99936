"""Quizzing through the real discord.py client and the fake Discord, on seeded questions (no
ingest, so each test takes well under a second): buttons that edit the question in place,
ephemeral quizzes in a server channel, forged and double clicks, and a restart mid-question.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import App
from core.study import AlreadyAnswered, NotYourQuestion
from storage.enums import ChatKind, MaterialStatus, Platform
from storage.models import Attempt, Chunk, Material
from storage.repos.chats import get_or_create_chat, group_scope
from tests.bot.discord_harness import app_for, discord_settings, fake_discord, running
from tests.fakes.discord_server import (
    DEFERRED_MESSAGE,
    DEFERRED_UPDATE,
    UPDATE_MESSAGE,
    FakeDiscord,
    FakeInteraction,
    FakeMessage,
    FakeUser,
)
from tests.study_seed import question_row, seed_student

ANA = FakeUser(444_444_444_444_444_444, "ana")
BEN = FakeUser(555_555_555_555_555_555, "ben")
GUILD_ID, CHANNEL_ID = 7777, 8888


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with fake_discord() as server:
        yield server


@pytest.fixture
async def app(tmp_path: Path, fake: FakeDiscord) -> AsyncIterator[App]:
    async with app_for(discord_settings(tmp_path, fake)) as application:
        for user in (ANA, BEN):
            await seed_student(
                application.services.db,
                external_id=str(user.id),
                platform=Platform.DISCORD,
                count=3,
            )
        yield application


@pytest.fixture
async def bot(app: App, fake: FakeDiscord) -> AsyncIterator[App]:
    async with running(app, fake):
        yield app


async def answered(fake: FakeDiscord, interaction: FakeInteraction) -> FakeInteraction:
    """Waits until the bot has acknowledged the interaction and is done with it."""
    await fake.wait_for(lambda: interaction.callbacks)
    assert interaction.ack_latency_s is not None and interaction.ack_latency_s < 3
    return interaction


async def ask(fake: FakeDiscord, user: FakeUser, **where: object) -> FakeMessage:
    interaction = await fake.slash(user, "quiz", {"n": 3}, **where)  # type: ignore[arg-type]
    await fake.wait_for(lambda: interaction.original_id and fake.messages[
        interaction.original_id].buttons)  # fmt: skip
    # /quiz may generate questions, so it is deferred first and then edited into the question.
    assert interaction.callback_types == [DEFERRED_MESSAGE]
    question = fake.messages[interaction.original_id]  # type: ignore[index]
    assert "Question 1 of 3" in question.text
    assert [label for label, _ in question.buttons] == ["A", "B", "C", "D"]
    return question


def right_option(question: FakeMessage) -> str:
    """The seeded key reads 'right N'; its letter is wherever it was shuffled to."""
    line = next(line for line in question.text.splitlines() if ". right " in line)
    return question.custom_id(line.split(".")[0])


async def attempts(app: App) -> int:
    async with app.services.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Attempt)) or 0)


async def test_answer_then_confidence_turn_the_question_into_the_reveal(
    bot: App, fake: FakeDiscord
) -> None:
    question = await ask(fake, ANA)
    assert not question.ephemeral, "a quiz in DMs is ordinary messages"
    click = await answered(fake, await fake.click(ANA, question, right_option(question)))
    assert click.callback_types == [UPDATE_MESSAGE], "the click edits its own message"
    assert "How sure were you?" in question.text
    assert [label for label, _ in question.buttons][-1] == "Certain"
    click = await answered(fake, await fake.click(ANA, question, question.custom_id("Certain")))
    await fake.wait_for(lambda: click.followup_ids)
    assert "Correct" in question.text
    assert "Source: 19.5 Heart Development, p. 3 of heart.pdf" in question.text
    assert [label for label, _ in question.buttons] == ["Report a problem"], "only Report is left"
    following = fake.messages[click.followup_ids[0]]
    assert "Question 2 of 3" in following.text and not following.ephemeral
    assert await attempts(bot) == 1


async def test_a_double_click_records_once_and_says_so_privately(
    bot: App, fake: FakeDiscord
) -> None:
    question = await ask(fake, ANA)
    option = right_option(question)
    await answered(fake, await fake.click(ANA, question, option))
    versions = len(question.versions)
    # The second press comes from a client that still shows the question's options.
    second = await answered(fake, await fake.click(ANA, question, option, stale=True))
    alert = fake.messages[second.original_id]  # type: ignore[index]
    assert alert.ephemeral and alert.text == AlreadyAnswered.user_message
    assert "How sure were you?" in question.text, "the question was not touched again"
    assert len(question.versions) == versions
    await answered(fake, await fake.click(ANA, question, question.custom_id("Sure")))
    assert await attempts(bot) == 1


async def test_a_forged_click_on_another_students_question_records_nothing(
    bot: App, fake: FakeDiscord
) -> None:
    question = await ask(fake, ANA)
    stolen = right_option(question)
    ben_start = await fake.slash(BEN, "start")
    await fake.wait_for(lambda: ben_start.original_id)
    bens_message = fake.messages[ben_start.original_id]  # type: ignore[index]
    forged = await answered(fake, await fake.click(BEN, bens_message, stolen, forged=True))
    alert = fake.messages[forged.original_id]  # type: ignore[index]
    assert alert.ephemeral and alert.text == NotYourQuestion.user_message
    assert await attempts(bot) == 0
    assert [label for label, _ in question.buttons] == ["A", "B", "C", "D"], "Ana's is intact"
    await answered(fake, await fake.click(ANA, question, stolen))
    assert "How sure were you?" in question.text


async def test_buttons_keep_working_after_a_restart(app: App, fake: FakeDiscord) -> None:
    async with running(app, fake):
        question = await ask(fake, ANA)
    assert not fake.connected
    async with running(app, fake):  # a new client: nothing of the first one is in memory
        assert len(fake.identify_payloads) == 2
        click = await answered(fake, await fake.click(ANA, question, right_option(question)))
        assert click.callback_types == [UPDATE_MESSAGE]
        assert "How sure were you?" in question.text


async def test_a_quiz_asked_for_in_a_server_channel_runs_in_the_students_dms(
    bot: App, fake: FakeDiscord
) -> None:
    channel = fake.guild_channel(CHANNEL_ID, guild_id=GUILD_ID)
    await seed_group(bot, channel_id=CHANNEL_ID, count=3)
    interaction = await fake.slash(ANA, "quiz", {"n": 3}, channel=channel)
    dm = fake.dm_channel(ANA)
    await fake.wait_for(lambda: [m for m in fake.bot_messages(dm) if m.buttons])
    question = next(m for m in fake.bot_messages(dm) if m.buttons)
    assert "Question 1 of 3" in question.text and not question.ephemeral
    await fake.wait_for(lambda: interaction.original_id and "DMs" in fake.messages[
        interaction.original_id].text)  # fmt: skip
    pointer = fake.messages[interaction.original_id]  # type: ignore[index]
    assert pointer.ephemeral and "personal" in pointer.text
    # The quiz goes on in the DM, with the DM's buttons.
    await answered(fake, await fake.click(ANA, question, right_option(question)))
    assert "How sure were you?" in question.text
    assert not [m for m in fake.channel_messages(channel) if not m.ephemeral]


async def seed_group(app: App, *, channel_id: int, count: int) -> None:
    """Questions in the server channel's own (group) scope, as if someone had uploaded there."""
    async with app.services.db.session() as session:
        chat = await get_or_create_chat(
            session, Platform.DISCORD, str(channel_id), ChatKind.GROUP, "#study"
        )
        scope = await group_scope(session, chat)
        material = Material(
            scope_id=scope.id, filename="heart.pdf", title="Heart", sha256="g" * 64,
            size_bytes=10, status=MaterialStatus.READY, pages=4,
        )  # fmt: skip
        session.add(material)
        await session.flush()
        chunk = Chunk(
            material_id=material.id, ordinal=0, page_start=3, page_end=3,
            heading="19.5 Heart Development", text="The heart develops from ...",
        )  # fmt: skip
        session.add(chunk)
        await session.flush()
        session.add_all(
            question_row(scope.id, material.id, chunk.id, i, topic="Heart development")
            for i in range(count)
        )


async def test_a_click_that_takes_long_is_deferred_in_time_then_edited(
    bot: App, fake: FakeDiscord
) -> None:
    question = await ask(fake, ANA)
    # Another writer holds SQLite's write lock (a long upload elsewhere, say), so recording
    # the answer has to wait: the click is acknowledged before Discord's 3 s are up.
    blocker = sqlite3.connect(bot.settings.database_url.split("///", 1)[1], isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        click = await answered(fake, await fake.click(ANA, question, right_option(question)))
        assert click.callback_types == [DEFERRED_UPDATE]
        assert 1.5 < click.ack_latency_s < 3  # type: ignore[operator]
        assert "Question 1 of 3" in question.text
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    await fake.wait_for(lambda: "How sure were you?" in question.text)
    assert click.followup_ids == [], "the deferred click edited its own message"
