"""Reporting a round question in a Telegram group, end to end: the real python-telegram-bot
adapter against the fake Bot API. Three members answer, two report it from their private
chats, it is retired, and a later round never poses it; the group sees none of the reports.
"""

from __future__ import annotations

from sqlalchemy import select

from core.settings import Settings
from storage.enums import CardStatus, Platform
from storage.models import Card, GroupRound, Question, RoundItem
from tests.bot.telegram_harness import telegram_settings
from tests.bot.test_rounds_telegram_e2e import ANN, BEA, CY, GROUP, _press, bot_process
from tests.fakes.telegram_server import FakeTelegram
from tests.rounds_support import T0, FakeClock, key_of, seed_group


async def test_two_of_three_members_report_a_round_question_and_it_is_retired(
    settings: Settings,
) -> None:
    fake = await FakeTelegram().start()
    settings = telegram_settings(settings, fake)
    clock = FakeClock(T0)
    members = {ANN: fake.user(ANN, "Ann"), BEA: fake.user(BEA, "Bea"), CY: fake.user(CY, "Cy")}
    fake.group(GROUP, "Cardio study group", admins=(CY,))
    try:
        async with bot_process(settings, fake, clock) as bot:
            db = bot.app.services.db
            await seed_group(db, platform=Platform.TELEGRAM, chat_external_id=str(GROUP),
                             members=(), questions=4)  # fmt: skip
            for member_id, member in members.items():  # each has a private chat with the bot
                fake.send_text(member, "/start", chat_id=member_id)
                await fake.wait_for_message(member_id, "Rounds")
            ann, bea, cy = members[ANN], members[BEA], members[CY]

            fake.send_text(ann, "/round 1 5", chat_id=GROUP)
            await fake.wait_for_message(GROUP, "Round starting")
            await bot.driver.advance(5)
            q1 = await fake.wait_for_message(GROUP, "Question 1/1")
            key = await key_of(db, q1.callback_data[0])
            for member in (ann, bea, cy):
                await bot.driver.advance(1)
                assert "Locked in" in await _press(fake, member, q1, q1.callback_data[key])
            await bot.driver.advance(10)
            assert q1.text.startswith("Question 1/1 · closed")
            report = q1.button("Report a problem")
            async with db.session() as session:
                item = await session.scalar(
                    select(RoundItem).where(RoundItem.token == report.split(":")[2])
                )
                assert item is not None and item.question_id is not None
                reported_id = item.question_id
            group_before = len(fake.bot_messages(GROUP))

            for member_id, reason in ((ANN, "Wrong answer key"), (BEA, "Unclear")):
                notice = await _press(fake, members[member_id], q1, report)
                assert "private chat" in notice
                picker = await fake.wait_for_message(
                    member_id, "What is wrong with this question?"
                )
                query = fake.press(members[member_id], picker, picker.button(reason))
                await fake.wait_answered(query)
                await fake.wait_until(lambda shown=picker: "Thank you!" in shown.text)
                assert f"Reported as “{reason}”" in picker.text

            assert "Your report retired this question" in picker.text  # Bea's: the second
            told = await fake.wait_for_message(ANN, "A question you reported was retired")
            assert told.chat_id == ANN
            assert not [m for m in fake.bot_messages(ANN) if "was retired" in m.text][1:]
            # The group saw nothing of it.
            assert len(fake.bot_messages(GROUP)) == group_before
            async with db.session() as session:
                question = await session.get(Question, reported_id)
                assert question is not None and question.retired_at is not None
                statuses = set(
                    await session.scalars(
                        select(Card.status).where(Card.question_id == reported_id)
                    )
                )
                assert statuses == {CardStatus.SUSPENDED}

            await bot.driver.advance(30)
            await fake.wait_for_message(GROUP, "Round over")
            fake.send_text(cy, "/round 4 5", chat_id=GROUP)
            await fake.wait_for_message(GROUP, "Round starting in 5 s: 3 questions")
            async with db.session() as session:
                later = await session.scalar(select(GroupRound).order_by(GroupRound.id.desc()))
                assert later is not None and reported_id not in later.plan
    finally:
        await fake.stop()
