"""A whole group round driven by the timers on an injected clock, with a restart mid-round.

Three members, three 5-second questions: answers from all three including a double click
and a late click, the closes (key, votes, fastest), the final board's order and scores, and
each member's own cards and attempts.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from core.settings import Settings
from scheduler.notifier import RecipientUnreachable
from storage.db import Database
from storage.enums import AttemptSource, CardStatus, RoundState
from storage.models import Attempt, Card, GroupRound, RoundAnswer
from tests.rounds_support import (
    T0,
    FakeClock,
    RecordingNotifier,
    key_of,
    make_rig,
    option_payloads,
    seed_group,
)

WRONG = 1  # shift from the key to a wrong option


def _wrong(key: int) -> int:
    return (key + WRONG) % 4


async def test_three_question_round_with_restart(any_db: Database, settings: Settings) -> None:
    db = any_db
    group = await seed_group(db, questions=3)
    clock = FakeClock(T0)
    notifier = RecordingNotifier()
    rig = await make_rig(db, settings, clock, notifier)

    replies = await rig.command("ann", "round", "3", "5")
    assert "Round starting in 5 s: 3 questions, 5 s each." in replies[0].text
    assert notifier.messages == []  # nothing is posted before the countdown ends

    # Question 1 at T0+5 (closes T0+10).
    await rig.driver.advance(5)
    q1 = notifier.messages[0]
    assert q1.address == group.chat_external_id
    assert q1.text.startswith("Question 1/3 · 5 s")
    assert [b.label for row in q1.buttons for b in row] == ["A", "B", "C", "D"]
    p1 = option_payloads(q1)
    k1 = await key_of(db, p1[0])

    await rig.driver.advance(1)
    assert "Locked in" in (await rig.click("ann", p1[k1]))[0].text
    await rig.driver.advance(1)
    first = await rig.click("bea", p1[k1])
    again = await rig.click("bea", p1[_wrong(k1)])  # double click: the first one counts
    assert "Locked in" in first[0].text
    assert again[0].is_alert and "already answered" in again[0].text
    await rig.driver.advance(1)
    await rig.click("cy", p1[_wrong(k1)])

    # Close at T0+10: the question is edited in place to show the result.
    await rig.driver.advance(2)
    assert q1.edits, "question 1 was not closed"
    closed = q1.text
    assert closed.startswith("Question 1/3 · closed")
    letter = "ABCD"[k1]
    key_line = next(line for line in closed.splitlines() if "✅" in line)
    assert key_line.startswith(f"{letter}. right ") and key_line.endswith("✅ · 2 votes")
    assert f"{'ABCD'[_wrong(k1)]}. wrong " in closed and closed.count("· 1 vote\n") == 1
    assert f"Answer: {letter}." in closed
    assert "Fastest right: Ann (1.0 s)" in closed
    assert "Standings: 1. Ann 900 · 2. Bea 800 · 3. Cy 0" in closed
    assert [[b.label for b in row] for row in q1.buttons] == [["Report a problem"]]

    # Question 2 after the 3-second reveal pause: T0+13, closes T0+18.
    await rig.driver.advance(3)
    q2 = notifier.messages[1]
    assert q2.text.startswith("Question 2/3")
    p2 = option_payloads(q2)
    k2 = await key_of(db, p2[0])
    await rig.driver.advance(1)
    await rig.click("ann", p2[k2])
    await rig.driver.advance(0.5)
    await rig.click("bea", p2[_wrong(k2)])
    await rig.driver.advance(2.5)
    await rig.click("cy", p2[k2])  # 4.0 s

    # The process dies at T0+17 and comes back at T0+30, after question 2 should have closed.
    rig.shutdown()
    clock.set(T0 + timedelta(seconds=30))
    rig = await make_rig(db, settings, clock, notifier)
    assert await rig.timers.resume_open_rounds() == 1
    await rig.driver.run_due()
    assert q2.text.startswith("Question 2/3 · closed")
    late = await rig.click("cy", p2[_wrong(k2)])
    assert late[0].is_alert and "Too late" in late[0].text

    # Question 3 follows the reveal pause after the (late) close: T0+33, closes T0+38.
    await rig.driver.advance(3)
    q3 = notifier.messages[2]
    assert q3.text.startswith("Question 3/3")
    p3 = option_payloads(q3)
    k3 = await key_of(db, p3[0])
    await rig.driver.advance(0.5)
    await rig.click("bea", p3[k3])
    await rig.driver.advance(1)
    await rig.click("ann", p3[_wrong(k3)])
    await rig.driver.advance(10)  # cy never answers; the round ends

    final = notifier.messages[3].text
    # ann 900 + 1000 (streak) + 0; bea 800 + 0 + 950; cy 0 + 600.
    assert final.splitlines()[:5] == [
        "Round over",
        "",
        "🥇 Ann · 1,900 pts · 2/3 right (67%)",
        "🥈 Bea · 1,750 pts · 2/3 right (67%)",
        "🥉 Cy · 600 pts · 1/2 right (50%)",
    ]
    assert len(notifier.messages) == 4
    assert rig.driver.pending() == []

    async with db.session() as session:
        group_round = await session.scalar(select(GroupRound))
        assert group_round is not None and group_round.state is RoundState.FINISHED
        assert await session.scalar(select(func.count()).select_from(RoundAnswer)) == 8
        for name, answered, right in (("ann", 3, 2), ("bea", 3, 2), ("cy", 2, 1)):
            user_id = group.member_ids[name]
            cards = list(await session.scalars(select(Card).where(Card.user_id == user_id)))
            assert len(cards) == answered
            assert all(card.last_reviewed_at is not None for card in cards)
            assert all(card.due_at > clock.now for card in cards)
            assert {card.status for card in cards} == {CardStatus.LEARNING}
            attempts = list(
                await session.scalars(select(Attempt).where(Attempt.user_id == user_id))
            )
            assert len(attempts) == answered
            assert sum(a.correct for a in attempts) == right
            assert {a.source for a in attempts} == {AttemptSource.ROUND}
            assert {a.round_id for a in attempts} == {group_round.id}
            assert {a.confidence for a in attempts} == {None}
            # Quality as for "fairly sure": right -> 4, wrong -> 1.
            assert sorted(a.quality for a in attempts) == sorted(
                4 if a.correct else 1 for a in attempts
            )


async def test_a_round_left_open_too_long_is_stopped_cleanly(
    db: Database, settings: Settings
) -> None:
    await seed_group(db, questions=3)
    clock = FakeClock(T0)
    notifier = RecordingNotifier()
    rig = await make_rig(db, settings, clock, notifier)
    await rig.command("ann", "round", "3", "5")
    await rig.driver.advance(6)
    payload = option_payloads(notifier.messages[0])[
        await key_of(db, option_payloads(notifier.messages[0])[0])
    ]
    await rig.click("bea", payload)

    rig.shutdown()  # down for an hour
    clock.advance(3600)
    rig = await make_rig(db, settings, clock, notifier)
    await rig.timers.resume_open_rounds()
    await rig.driver.run_due()

    assert notifier.messages[0].text.startswith("Question 1/3 · closed")
    final = notifier.messages[-1].text
    assert final.startswith("Round stopped (I was offline too long)")
    assert "🥇 Bea" in final
    assert "1 question." in final
    assert rig.driver.pending() == []
    async with db.session() as session:
        group_round = await session.scalar(select(GroupRound))
        assert group_round is not None and group_round.state is RoundState.STOPPED


async def test_a_round_started_where_no_job_was_booked_is_found_by_the_sweep(
    db: Database, settings: Settings
) -> None:
    await seed_group(db, questions=2)
    clock = FakeClock(T0)
    notifier = RecordingNotifier()
    rig = await make_rig(db, settings, clock, notifier)
    await rig.command("ann", "round", "2", "5")
    rig.scheduler.remove_all_jobs()  # as if another worker, without a scheduler, started it
    clock.advance(5)
    await rig.timers.sweep()
    await rig.driver.run_due()
    assert notifier.messages and notifier.messages[0].text.startswith("Question 1/2")


class _KickedOut(RecordingNotifier):
    """The bot was removed from the group: every send is refused for good."""

    async def send(self, address: str, text: str, buttons=()) -> str:  # type: ignore[no-untyped-def]
        raise RecipientUnreachable(address, "Forbidden: bot was kicked from the group chat")


async def test_a_round_in_a_chat_the_bot_was_removed_from_stops(
    db: Database, settings: Settings
) -> None:
    await seed_group(db, questions=3)
    clock = FakeClock(T0)
    rig = await make_rig(db, settings, clock, _KickedOut())
    await rig.command("ann", "round", "3", "5")
    await rig.driver.advance(5)
    assert rig.driver.pending() == []
    async with db.session() as session:
        group_round = await session.scalar(select(GroupRound))
        assert group_round is not None and group_round.state is RoundState.STOPPED


async def test_ticks_wait_for_the_platforms_notifier(db: Database, settings: Settings) -> None:
    await seed_group(db, questions=2)
    clock = FakeClock(T0)
    notifier = RecordingNotifier()
    rig = await make_rig(db, settings, clock, notifier)
    rig.timers.notifiers = {}  # the adapter is still starting
    await rig.command("ann", "round", "2", "5")
    await rig.driver.advance(6)
    assert rig.driver.next_wake() is not None  # retried, not dropped
    rig.timers.notifiers = {notifier.platform: notifier}
    await rig.driver.advance(2)
    assert [m.text.splitlines()[0] for m in notifier.messages] == ["Question 1/2 · 5 s"]
