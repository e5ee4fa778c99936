"""/round, /stop_round, /leaderboard and the round answer buttons, through the router."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from core import round_service
from core.rounds import RoundRequest
from core.settings import Settings
from handlers.context import Services
from handlers.router import Router
from handlers.types import Actor, ChatRef, Document, EventKind, Incoming, Reply, Tone
from scheduler.rounds import RoundTimers
from storage.db import Database
from storage.enums import ChatKind, Platform, RoundState
from storage.files import FileStore
from storage.models import (
    Attempt,
    Chat,
    GenerationRun,
    GroupRound,
    Membership,
    RoundAnswer,
    User,
)
from storage.repos.chats import personal_scope
from storage.repos.study import questions_by_id
from storage.vector_index import VectorIndexes
from tests.materials_support import CHAPTER, HashingEmbedder, text_pdf
from tests.rounds_support import (
    T0,
    FakeClock,
    RecordingNotifier,
    Rig,
    TimerDriver,
    group_question,
    key_of,
    make_rig,
    option_payloads,
    paused_scheduler,
    seed_group,
)


async def _rig(db: Database, settings: Settings, **seed: object) -> Rig:
    await seed_group(db, **seed)
    return await make_rig(db, settings, FakeClock(T0), RecordingNotifier())


async def _count(db: Database, model: type) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _posted_round(rig: Rig) -> list[str]:
    """Starts a 3 x 5 s round by ann and runs the countdown; question 1's payloads."""
    await rig.command("ann", "round", "3", "5")
    await rig.driver.advance(5)
    return option_payloads(rig.notifier.messages[-1])


# --- /round --------------------------------------------------------------------------------


async def test_round_is_for_group_chats_only(db: Database, settings: Settings) -> None:
    rig = await _rig(db, settings)
    replies = await rig.command("ann", "round", chat="u-ann")
    assert "group chats" in replies[0].text
    assert await _count(db, GroupRound) == 0


async def test_limits_get_a_friendly_message_and_start_nothing(
    db: Database, settings: Settings
) -> None:
    rig = await _rig(db, settings)
    replies = await rig.command("ann", "round", "valves", "99")
    assert "1 to 20 questions; you asked for 99" in replies[0].text
    replies = await rig.command("ann", "round", "3", "1")
    assert "5 to 120 seconds; you asked for 1" in replies[0].text
    assert await _count(db, GroupRound) == 0


async def test_defaults_are_ten_questions_of_thirty_seconds(
    db: Database, settings: Settings
) -> None:
    rig = await _rig(db, settings, questions=12)
    replies = await rig.command("ann", "round")
    assert "10 questions, 30 s each" in replies[0].text
    async with db.session() as session:
        group_round = await session.scalar(select(GroupRound))
        assert group_round is not None
        assert (group_round.question_count, group_round.seconds_per_question) == (10, 30)
        assert len(set(group_round.plan)) == 10


async def test_a_second_round_in_the_same_chat_is_refused(
    db: Database, settings: Settings
) -> None:
    rig = await _rig(db, settings)
    await rig.command("ann", "round", "3", "5")
    replies = await rig.command("bea", "round", "2", "10")
    assert "already running" in replies[0].text
    assert await _count(db, GroupRound) == 1


async def test_fewer_questions_than_asked_runs_with_what_there_is(
    db: Database, settings: Settings
) -> None:
    rig = await _rig(db, settings, questions=2)
    replies = await rig.command("ann", "round", "5", "10")
    assert "2 questions, 10 s each" in replies[0].text
    assert "I have 2 of the 5 questions you asked for" in replies[0].text


async def test_topic_picks_matching_questions_and_an_unknown_topic_is_explained(
    db: Database, settings: Settings
) -> None:
    rig = await _rig(db, settings, questions=3, topic="Heart valves")
    replies = await rig.command("ann", "round", "kidney", "3", "5")
    assert "no questions on that topic" in replies[0].text
    replies = await rig.command("ann", "round", "valves", "3", "5")
    assert "3 questions on valves" in replies[0].text


async def test_a_members_private_material_is_never_used(db: Database, settings: Settings) -> None:
    group = await seed_group(db, questions=0)
    async with db.session() as session:
        ann = await session.get(User, group.member_ids["ann"])
        assert ann is not None
        own = await personal_scope(session, ann)
        session.add_all([group_question(own.id, None, 0, i, "Heart valves") for i in range(5)])
    rig = await make_rig(db, settings, FakeClock(T0), RecordingNotifier())
    replies = await rig.command("ann", "round", "3", "5")
    assert "This group has no questions yet. Send a PDF here" in replies[0].text
    assert await _count(db, GroupRound) == 0


async def test_without_timers_a_round_is_not_started(db: Database, settings: Settings) -> None:
    await seed_group(db)
    router = Router(Services(settings=settings, db=db, clock=FakeClock(T0)))
    replies = await router.route(
        Incoming(
            platform=Platform.TELEGRAM,
            user=Actor("u-ann", "Ann"),
            chat=ChatRef("-100500", ChatKind.GROUP),
            kind=EventKind.COMMAND,
            received_at=T0,
            command="round",
        )
    )
    assert "timer service" in replies[0].text
    assert await _count(db, GroupRound) == 0


async def test_the_generator_fills_a_shortfall_into_the_group_scope(db: Database) -> None:
    group = await seed_group(db, questions=1)
    asked: list[int] = []
    # The real generator writes into the session it is given; this stand-in does the same.
    async with db.session() as session:
        chat = await session.get(Chat, group.chat_id)
        starter = await session.get(User, group.member_ids["ann"])
        assert chat is not None and starter is not None

        async def generate_into_scope(n: int) -> None:
            asked.append(n)
            session.add_all(
                [group_question(group.scope_id, None, 0, 10 + i, "Heart valves") for i in range(n)]
            )
            await session.flush()

        started = await round_service.start_round(
            session,
            chat=chat,
            scope_id=group.scope_id,
            starter=starter,
            request=RoundRequest("", 4, 10),
            now=T0,
            top_up=generate_into_scope,
        )
        assert asked == [3]
        assert len(started.round.plan) == 4


# --- answer buttons ------------------------------------------------------------------------


async def test_forged_clicks_from_outside_the_group_are_rejected(
    db: Database, settings: Settings
) -> None:
    rig = await _rig(db, settings)
    await seed_group(db, chat_external_id="-200600", members=("eve",), questions=0)
    payloads = await _posted_round(rig)
    # Eve replays a button's payload from her private chat, then from her own group.
    private = await rig.click("eve", payloads[0], chat="u-eve")
    other_group = await rig.click("eve", payloads[0], chat="-200600")
    # Bea is a member (her membership row exists), but she replays from her private chat:
    # only a tap delivered from the round's own chat counts as a member's.
    replayed = await rig.click("bea", payloads[0], chat="u-bea")
    for replies in (private, other_group, replayed):
        assert replies[0].is_alert and "Only members of the group" in replies[0].text
    assert await _count(db, RoundAnswer) == 0
    assert await _count(db, Attempt) == 0


async def test_unknown_and_malformed_round_buttons(db: Database, settings: Settings) -> None:
    rig = await _rig(db, settings)
    await _posted_round(rig)
    unknown = await rig.click("ann", "ra:AAAAAAAAAAAAAAAA:0")
    assert "not valid any more" in unknown[0].text
    malformed = await rig.click("ann", "ra:AAAAAAAAAAAAAAAA")
    assert "not valid any more" in malformed[0].text
    out_of_range = await rig.click("ann", (await _posted_payload(rig))[:-1] + "7")
    assert "not valid any more" in out_of_range[0].text
    assert await _count(db, RoundAnswer) == 0


async def _posted_payload(rig: Rig) -> str:
    return option_payloads(rig.notifier.messages[-1])[0]


async def test_first_click_counts_and_feeds_the_members_own_card(
    db: Database, settings: Settings
) -> None:
    rig = await _rig(db, settings)
    payloads = await _posted_round(rig)
    key = await key_of(db, payloads[0])
    await rig.driver.advance(2)
    ok = await rig.click("bea", payloads[key])
    assert not ok[0].is_alert and ok[0].ephemeral and "Locked in: " + "ABCD"[key] in ok[0].text
    again = await rig.click("bea", payloads[key])
    assert "already answered" in again[0].text
    async with db.session() as session:
        answer = await session.scalar(select(RoundAnswer))
        assert answer is not None
        assert (answer.correct, answer.time_ms, answer.score) == (True, 2000, 800)
        bea = await session.scalar(select(User).where(User.external_id == "u-bea"))
        assert bea is not None and bea.xp > 0 and bea.streak == 1
    assert await _count(db, Attempt) == 1


# --- /stop_round ---------------------------------------------------------------------------


async def test_only_the_starter_or_an_admin_may_stop(db: Database, settings: Settings) -> None:
    rig = await _rig(db, settings, admins=("cy",))
    payloads = await _posted_round(rig)
    key = await key_of(db, payloads[0])
    await rig.driver.advance(1)
    await rig.click("bea", payloads[key])

    refused = await rig.command("bea", "stop_round")
    assert "Only the member who started the round or a chat admin" in refused[0].text

    # Cy was an admin when she joined; only what the platform says now counts.
    demoted = await rig.command("cy", "stop_round", admin=False)
    assert "Only the member who started the round or a chat admin" in demoted[0].text
    await rig.command("cy", "leaderboard", admin=False)  # the stored flag follows too
    async with db.session() as session:
        cy = await session.scalar(select(User).where(User.external_id == "u-cy"))
        assert cy is not None
        membership = await session.scalar(select(Membership).where(Membership.user_id == cy.id))
        assert membership is not None and not membership.is_admin

    stopped = await rig.command("cy", "stop_round", admin=True)
    question_ref = rig.notifier.messages[0].ref
    assert stopped[0].edit_of == question_ref
    assert stopped[0].text.startswith("Question 1/3 · closed")
    assert stopped[1].text.startswith("Round stopped (by Cy)")
    assert "🥇 Bea · 900 pts · 1/1 right (100%)" in stopped[1].text

    late = await rig.click("ann", payloads[key])
    assert "Too late" in late[0].text
    await rig.driver.advance(60)
    assert len(rig.notifier.messages) == 1  # the timers post nothing more
    async with db.session() as session:
        group_round = await session.scalar(select(GroupRound))
        assert group_round is not None and group_round.state is RoundState.STOPPED
    nothing = await rig.command("ann", "stop_round")
    assert "no round running" in nothing[0].text


async def test_the_starter_may_stop_during_the_countdown_and_start_again(
    db: Database, settings: Settings
) -> None:
    rig = await _rig(db, settings)
    await rig.command("ann", "round", "3", "5")
    stopped = await rig.command("ann", "stop_round")
    assert stopped[0].text.startswith("Round stopped (by Ann)")
    assert "Nobody answered this time." in stopped[0].text
    again = await rig.command("ann", "round", "2", "5")
    assert "Round starting" in again[0].text


# --- /leaderboard --------------------------------------------------------------------------


async def _play_one(rig: Rig, answers: dict[str, bool]) -> None:
    payloads = await _posted_round(rig)
    key = await key_of(rig.db, payloads[0])
    for member, right in answers.items():
        await rig.driver.advance(1)
        await rig.click(member, payloads[key] if right else payloads[(key + 1) % 4])
    await rig.command("ann", "stop_round")


async def test_leaderboard_week_and_all(db: Database, settings: Settings) -> None:
    rig = await _rig(db, settings)
    await _play_one(rig, {"bea": True, "cy": False})  # bea 900 (1 s), cy wrong
    rig.clock.advance(timedelta(days=8).total_seconds())
    await _play_one(rig, {"cy": True, "ann": True})  # cy 900 (1 s), ann 800 (2 s)

    week = await rig.command("ann", "leaderboard")
    assert week[0].text.splitlines() == [
        "Leaderboard · past 7 days · 1 round",
        "",
        "🥇 Cy · 900 pts · 1/1 right (100%)",
        "🥈 Ann · 800 pts · 1/1 right (100%)",
    ]
    everything = await rig.command("ann", "leaderboard", "all")
    # Equal points and equal right answers share a rank.
    assert everything[0].text.splitlines() == [
        "Leaderboard · all time · 2 rounds",
        "",
        "🥇 Bea · 900 pts · 1/1 right (100%)",
        "🥇 Cy · 900 pts · 1/2 right (50%)",
        "🥉 Ann · 800 pts · 1/1 right (100%)",
    ]
    bogus = await rig.command("ann", "leaderboard", "month")
    assert "/leaderboard week" in bogus[0].text
    private = await rig.command("ann", "leaderboard", chat="u-ann")
    assert "group chats" in private[0].text


async def test_empty_leaderboard_says_how_to_start(db: Database, settings: Settings) -> None:
    rig = await _rig(db, settings)
    replies = await rig.command("ann", "leaderboard", "all")
    assert "No round answers yet. Start one with /round" in replies[0].text


# --- the group's own material, through the generator --------------------------------------


async def test_a_round_writes_its_questions_from_the_groups_own_pdf(
    db: Database, settings: Settings, shared_data: Path
) -> None:
    """The group sends the excerpt, Ann has a private PDF of her own; /round has no stored
    questions yet, so the offline generator writes them from the group's material only."""
    clock = FakeClock(T0)
    notifier = RecordingNotifier()
    scheduler = await paused_scheduler()
    embedder = HashingEmbedder()
    timers = RoundTimers(
        db=db, notifiers={notifier.platform: notifier}, clock=clock, scheduler=scheduler
    )
    services = Services(
        settings=settings, db=db, clock=clock, round_timers=timers, embedder=embedder,
        indexes=VectorIndexes(settings.data_dir, dim=embedder.dim),
        files=FileStore(settings.data_dir),
    )  # fmt: skip
    driver = TimerDriver(scheduler, clock)
    rig = Rig(db, clock, notifier, scheduler, timers, Router(services), driver)

    async def send(member: str, chat: str, name: str, data: bytes) -> list[Reply]:
        async def read() -> bytes:
            return data

        kind = ChatKind.GROUP if chat.startswith("-") else ChatKind.PRIVATE
        return await rig.router.route(
            Incoming(
                platform=Platform.TELEGRAM, user=Actor(f"u-{member}", member.title()),
                chat=ChatRef(chat, kind), kind=EventKind.DOCUMENT, received_at=clock(),
                document=Document(filename=name, size=len(data), read=read),
            )
        )  # fmt: skip

    private = text_pdf([["Ann's own notes on the kidney. The nephron is the functional unit "
                         "of the kidney, which filters blood plasma."] * 3])  # fmt: skip
    assert (await send("ann", "u-ann", "kidney.pdf", private))[0].tone is Tone.GOOD
    group_pdf = (shared_data / CHAPTER).read_bytes()
    assert (await send("bea", "-100500", "heart.pdf", group_pdf))[0].tone is Tone.GOOD

    replies = await rig.command("ann", "round", "3", "5")
    assert "Round starting in 5 s: 3 questions, 5 s each." in replies[0].text
    await rig.driver.advance(5)
    assert notifier.messages[0].text.startswith("Question 1/3 · 5 s")
    async with db.session() as session:
        group_round = await session.scalar(select(GroupRound))
        assert group_round is not None
        questions = list((await questions_by_id(session, group_round.plan)).values())
        assert len(questions) == 3
        assert {q.scope_id for q in questions} == {group_round.scope_id}
        assert all("kidney" not in q.stem.lower() for q in questions)
        run = await session.scalar(select(GenerationRun))
        assert run is not None and run.scope_id == group_round.scope_id
