"""/next's choices: the weak topic in the seeded case, and each signal winning when it should."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core import recommend, stats
from core.recommend import Kind, MaterialTopic, Signals
from storage.db import Database
from tests.progress_seed import NOW, add_material, get_user, seed_history


async def test_the_seeded_student_is_sent_to_their_weak_topic_first(any_db: Database) -> None:
    seeded = await seed_history(any_db)
    await add_material(
        any_db, seeded.scope_id, ["Cardiac muscle", "Skeletal muscle", "Smooth muscle"]
    )
    user = await get_user(any_db, seeded.user_id)
    async with any_db.session() as session:
        signals = await recommend.gather_signals(session, user, seeded.scope_id, NOW)
    assert signals.due_now == 2  # the two overdue cards; the rest fall due later today
    picks = recommend.recommend(signals, now=NOW)
    assert [(p.kind, p.topic) for p in picks] == [
        (Kind.WEAK, "Cardiac muscle"),
        (Kind.REVIEW, ""),
        (Kind.NEW, "Smooth muscle"),
    ]
    assert picks[0].reason == (
        "You got 3 of your last 10 on Cardiac muscle right (30%), your weakest topic; "
        "a focused quiz closes the gap fastest."
    )
    assert picks[2].reason == (
        "Smooth muscle is in muscle.pdf but you haven't answered a question on it yet."
    )


def _topic(name: str, attempts: int, correct: int, days_ago: int) -> stats.TopicAccuracy:
    return stats.TopicAccuracy(name, attempts, correct, NOW - timedelta(days=days_ago))


def test_a_pile_of_due_cards_beats_a_mildly_weak_topic() -> None:
    signals = Signals(
        due_now=40,
        weak=(_topic("Blood", 10, 7, 1),),
        studied=(_topic("Blood", 10, 7, 1),),
        material_topics=(),
    )
    picks = recommend.recommend(signals, now=NOW)
    assert [p.kind for p in picks] == [Kind.REVIEW, Kind.WEAK]
    assert picks[0].reason.startswith("40 cards are due now")


def test_a_new_student_with_material_starts_at_the_beginning_of_the_book() -> None:
    material = tuple(MaterialTopic(t, "heart.pdf") for t in ("Heart anatomy", "Cardiac cycle"))
    picks = recommend.recommend(
        Signals(due_now=0, weak=(), studied=(), material_topics=material), now=NOW
    )
    assert [p.topic for p in picks] == ["Heart anatomy", "Cardiac cycle"]
    assert all(p.kind is Kind.NEW for p in picks)


def test_a_topic_left_alone_for_weeks_comes_back_and_a_fresh_one_does_not() -> None:
    studied = (_topic("Bone tissue", 12, 11, 40), _topic("Nerves", 12, 11, 2))
    picks = recommend.recommend(
        Signals(due_now=0, weak=(), studied=studied, material_topics=()), now=NOW
    )
    assert [(p.kind, p.topic) for p in picks] == [(Kind.REFRESH, "Bone tissue")]
    assert "40 days ago" in picks[0].reason


def test_studied_material_topics_are_not_new_even_with_other_spelling() -> None:
    signals = Signals(
        due_now=0,
        weak=(),
        studied=(_topic("cardiac  Muscle", 3, 3, 0),),
        material_topics=(MaterialTopic("Cardiac muscle", "m.pdf"),),
    )
    assert recommend.recommend(signals, now=NOW) == []


def test_nothing_to_go_on_means_no_recommendation() -> None:
    empty = Signals(due_now=0, weak=(), studied=(), material_topics=())
    assert recommend.recommend(empty, now=datetime(2026, 1, 1, tzinfo=UTC)) == []


async def test_material_topics_come_in_book_order_and_only_from_ready_body_chunks(
    any_db: Database,
) -> None:
    seeded = await seed_history(any_db)
    await add_material(any_db, seeded.scope_id, ["Intro", "Smooth muscle", "Intro", "Tendons"])
    async with any_db.session() as session:
        topics = await recommend.material_topics(session, seeded.scope_id)
        ids = await recommend.quiz_question_ids(session, seeded.scope_id, ["Blood", "Tendons"])
    names = [t.topic for t in topics]
    assert names[:3] == ["Intro", "Smooth muscle", "Tendons"]
    # then the seeded question topics that are not headings, first question first
    assert names[3:] == ["Cardiac muscle", "Skeletal muscle", "Bone tissue", "Nerves", "Blood"]
    assert ids == {"Blood": seeded.question_ids["Blood"]}


async def test_sections_studied_through_a_subsection_heading_are_not_new(db: Database) -> None:
    seeded = await seed_history(db)
    await add_material(
        db,
        seeded.scope_id,
        [
            "19.1 Heart Anatomy",
            "19.1 Heart Anatomy › Location of the Heart",
            "19.2 Cardiac Muscle and Electrical Activity",
            "Key Terms",
        ],
        filename="heart.pdf",
    )
    async with db.session() as session:
        topics = await recommend.material_topics(session, seeded.scope_id)
    assert [(t.topic, t.filename) for t in topics[:2]] == [
        ("Heart Anatomy", "heart.pdf"),
        ("Cardiac Muscle and Electrical Activity", "heart.pdf"),
    ]
    # The offline generator files questions under the chunk's full heading path.
    studied = (_topic("19.1 Heart Anatomy › Location of the Heart", 4, 4, 0),)
    signals = Signals(due_now=0, weak=(), studied=studied, material_topics=tuple(topics[:2]))
    picks = recommend.recommend(signals, now=NOW)
    assert [(p.kind, p.topic) for p in picks] == [
        (Kind.NEW, "Cardiac Muscle and Electrical Activity")
    ]
    assert picks[0].reason.startswith("Cardiac Muscle and Electrical Activity is in heart.pdf")
