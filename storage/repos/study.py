"""Quiz sessions and their items (the live state of a quiz), plus the reads the study loop
needs: questions not yet seen, a student's recent answers per topic, where a question came
from. State changes of an item are conditional UPDATEs, so a second click (even from another
process at the same moment) finds the row already moved on and changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import and_, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from storage.enums import ItemState, MaterialStatus, SessionState
from storage.models import Attempt, Card, Chunk, Material, Question, QuizItem, QuizSession
from storage.repos.cards import in_play, is_due
from storage.repos.questions import topic_filter


async def active_session_for(session: AsyncSession, user_id: int) -> QuizSession | None:
    """The student's quiz or review in progress, if any (the newest, should two exist)."""
    return await session.scalar(
        select(QuizSession)
        .where(QuizSession.user_id == user_id, QuizSession.state == SessionState.ACTIVE)
        .order_by(QuizSession.id.desc())
        .limit(1)
    )


async def add_session(session: AsyncSession, quiz_session: QuizSession) -> QuizSession:
    session.add(quiz_session)
    await session.flush()
    return quiz_session


async def item_at(session: AsyncSession, session_id: int, position: int) -> QuizItem | None:
    return await session.scalar(
        select(QuizItem).where(QuizItem.session_id == session_id, QuizItem.position == position)
    )


async def add_item(session: AsyncSession, item: QuizItem) -> QuizItem:
    session.add(item)
    await session.flush()
    return item


async def item_with_session(
    session: AsyncSession, token: str
) -> tuple[QuizItem, QuizSession, Question | None] | None:
    """The item a button token names, with its session and question, in one query."""
    row = (
        await session.execute(
            select(QuizItem, QuizSession, Question)
            .join(QuizSession, QuizSession.id == QuizItem.session_id)
            .outerjoin(Question, Question.id == QuizItem.question_id)
            .where(QuizItem.token == token)
        )
    ).first()
    return None if row is None else (row[0], row[1], row[2])


async def claim_answer(
    session: AsyncSession, item: QuizItem, *, choice: int, time_ms: int, answered_at: datetime
) -> bool:
    """ASKED -> ANSWERED with the choice. False (and nothing written) if it moved on already."""
    values = {
        "state": ItemState.ANSWERED,
        "choice": choice,
        "time_ms": time_ms,
        "answered_at": answered_at,
    }
    return await _claim(session, item, from_states=[ItemState.ASKED], values=values)


async def claim_item_state(
    session: AsyncSession, item: QuizItem, *, from_states: Sequence[ItemState], to: ItemState
) -> bool:
    """Moves an item from one of `from_states` to `to`; False if another event got there first."""
    return await _claim(session, item, from_states=from_states, values={"state": to})


async def _claim(
    session: AsyncSession,
    item: QuizItem,
    *,
    from_states: Sequence[ItemState],
    values: dict[str, Any],
) -> bool:
    # The WHERE on the state is the guard; the loaded object is then told the new values
    # without a second round trip (and without being marked dirty).
    result = await session.execute(
        update(QuizItem)
        .where(QuizItem.id == item.id, QuizItem.state.in_(list(from_states)))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    for key, value in values.items():
        set_committed_value(item, key, value)
    return True


async def mark_sent(
    session: AsyncSession, token: str, *, message_ref: str, sent_at: datetime
) -> bool:
    """Records when and as which message a still-unanswered item was delivered."""
    result = await session.execute(
        update(QuizItem)
        .where(QuizItem.token == token, QuizItem.state == ItemState.ASKED)
        .values(message_ref=message_ref, sent_at=sent_at)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def has_ready_material(session: AsyncSession, scope_id: int) -> bool:
    found = await session.scalar(
        select(Material.id)
        .where(Material.scope_id == scope_id, Material.status == MaterialStatus.READY)
        .limit(1)
    )
    return found is not None


async def unseen_question_ids(
    session: AsyncSession,
    *,
    scope_id: int,
    user_id: int,
    topic: str = "",
    exact_topic: bool = False,
    near_difficulty: int = 3,
    limit: int = 10,
    exclude: Sequence[int] = (),
    unrated_quality: float = 0.5,
) -> list[int]:
    """Questions of the scope this student has never answered and still in circulation:
    closest difficulty first (the observed one where known), then the better-proven."""
    query = (
        select(Question.id)
        .outerjoin(Card, and_(Card.question_id == Question.id, Card.user_id == user_id))
        .where(Question.scope_id == scope_id, Card.id.is_(None), Question.retired_at.is_(None))
    )
    if exclude:
        query = query.where(Question.id.not_in(list(exclude)))
    query = topic_filter(query, topic, exact=exact_topic)
    level = func.coalesce(func.round(Question.observed_difficulty), Question.difficulty)
    distance = case(
        (level >= near_difficulty, level - near_difficulty), else_=near_difficulty - level
    )
    proven = func.coalesce(Question.quality, unrated_quality)
    rows = await session.scalars(query.order_by(distance, proven.desc(), Question.id).limit(limit))
    return list(rows)


async def seen_question_ids(
    session: AsyncSession,
    *,
    scope_id: int,
    user_id: int,
    topic: str = "",
    exact_topic: bool = False,
    limit: int = 10,
    exclude: Sequence[int] = (),
) -> list[int]:
    """Questions of the scope already answered, the soonest due first (for extra practice)."""
    query = (
        select(Question.id)
        .join(Card, and_(Card.question_id == Question.id, Card.user_id == user_id))
        .where(
            Question.scope_id == scope_id,
            in_play(),
            Question.retired_at.is_(None),
        )
    )
    if exclude:
        query = query.where(Question.id.not_in(list(exclude)))
    query = topic_filter(query, topic, exact=exact_topic)
    rows = await session.scalars(query.order_by(Card.due_at, Question.id).limit(limit))
    return list(rows)


async def due_question_ids(
    session: AsyncSession, user_id: int, now: datetime, limit: int
) -> list[int]:
    """Question ids of the student's due cards, most overdue first."""
    rows = await session.scalars(
        select(Card.question_id)
        .where(Card.user_id == user_id, is_due(now))
        .order_by(Card.due_at, Card.id)
        .limit(limit)
    )
    return list(rows)


async def next_due_at(session: AsyncSession, user_id: int) -> datetime | None:
    """When the student's next card falls due (None without cards)."""
    return await session.scalar(
        select(func.min(Card.due_at)).where(Card.user_id == user_id, in_play())
    )


@dataclass(frozen=True)
class RecentAnswer:
    correct: bool
    difficulty: int


async def recent_answers(
    session: AsyncSession, user_id: int, *, topic: str = "", limit: int = 8
) -> list[RecentAnswer]:
    """The student's newest answers (in `topic` when given), newest first."""
    query = select(Attempt.correct, Attempt.difficulty).where(Attempt.user_id == user_id)
    if topic:
        query = query.where(func.lower(Attempt.topic).contains(topic.lower(), autoescape=True))
    rows = await session.execute(
        query.order_by(Attempt.answered_at.desc(), Attempt.id.desc()).limit(limit)
    )
    return [RecentAnswer(bool(correct), int(difficulty)) for correct, difficulty in rows]


@dataclass(frozen=True)
class TopicTally:
    topic: str
    attempts: int
    correct: int
    # A question of this topic the student answered (newest), for "practise this" buttons.
    question_id: int | None


async def topic_tallies(
    session: AsyncSession, user_id: int, *, since: datetime, session_id: int | None = None
) -> list[TopicTally]:
    """Attempts and right answers per topic since `since` (or within one quiz session)."""
    query = select(
        Attempt.topic,
        func.count(),
        func.sum(case((Attempt.correct, 1), else_=0)),
        func.max(Attempt.question_id),
    ).where(Attempt.user_id == user_id, Attempt.answered_at >= since, Attempt.topic != "")
    if session_id is not None:
        query = query.where(Attempt.session_id == session_id)
    rows = await session.execute(query.group_by(Attempt.topic))
    return [TopicTally(str(topic), int(n), int(right or 0), qid) for topic, n, right, qid in rows]


@dataclass(frozen=True)
class SourceRef:
    heading: str
    filename: str
    material_title: str


async def source_of(session: AsyncSession, question: Question) -> SourceRef:
    """The heading of the question's first source chunk and the file it came from."""
    first = question.source_chunk_ids[0] if question.source_chunk_ids else None
    heading = (
        select(Chunk.heading).where(Chunk.id == first).scalar_subquery()
        if isinstance(first, int)
        else sa.literal("")
    )
    if question.material_id is None:
        return SourceRef(heading=await session.scalar(select(heading)) or "", filename="",
                         material_title="")  # fmt: skip
    row = (
        await session.execute(
            select(heading, Material.filename, Material.title).where(
                Material.id == question.material_id
            )
        )
    ).first()
    if row is None:
        return SourceRef(heading="", filename="", material_title="")
    return SourceRef(heading=row[0] or "", filename=row[1] or "", material_title=row[2] or "")


async def questions_by_id(session: AsyncSession, ids: Sequence[int]) -> dict[int, Question]:
    if not ids:
        return {}
    rows = await session.scalars(select(Question).where(Question.id.in_(list(ids))))
    return {question.id: question for question in rows}


async def count_items(session: AsyncSession, session_id: int, state: ItemState) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(QuizItem)
        .where(QuizItem.session_id == session_id, QuizItem.state == state)
    )
    return int(count or 0)
