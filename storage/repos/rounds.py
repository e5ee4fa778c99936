"""Group rounds, their posted questions (round_items) and the members' answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import RoundState
from storage.models import Chat, GroupRound, Question, RoundAnswer, RoundItem, User

OPEN_STATES = (RoundState.COUNTDOWN, RoundState.RUNNING)


async def _write_first(
    session: AsyncSession, table: type[Chat] | type[GroupRound], row_id: int
) -> None:
    """On SQLite, FOR UPDATE is ignored and a read takes no lock: two processes would both
    read the same state and both act on it. A no-op write first takes the database's one
    write lock, so the second waits for the first to commit and then reads what it did."""
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(update(table).where(table.id == row_id).values(id=table.id))


async def lock_chat(session: AsyncSession, chat_id: int) -> Chat | None:
    """Locks the chat row so two /round commands in one chat serialise."""
    await _write_first(session, Chat, chat_id)
    return await session.scalar(select(Chat).where(Chat.id == chat_id).with_for_update())


async def open_round_in_chat(session: AsyncSession, chat_id: int) -> GroupRound | None:
    """The chat's round in countdown or running, if any (there is at most one)."""
    return await session.scalar(
        select(GroupRound)
        .where(GroupRound.chat_id == chat_id, GroupRound.state.in_(OPEN_STATES))
        .order_by(GroupRound.id.desc())
        .limit(1)
    )


async def open_rounds(session: AsyncSession) -> list[GroupRound]:
    """Every round not finished or stopped, oldest first (start-up resume, sweeps)."""
    rows = await session.scalars(
        select(GroupRound).where(GroupRound.state.in_(OPEN_STATES)).order_by(GroupRound.id)
    )
    return list(rows)


async def get_round(
    session: AsyncSession, round_id: int, *, for_update: bool = False
) -> GroupRound | None:
    """`for_update` locks the round until the caller's commit (a timer tick's claim of its
    step: a second process ticking the round waits, then finds the step done)."""
    query = select(GroupRound).where(GroupRound.id == round_id)
    if for_update:
        await _write_first(session, GroupRound, round_id)
        query = query.with_for_update()
    return await session.scalar(query)


async def add_round(session: AsyncSession, group_round: GroupRound) -> GroupRound:
    session.add(group_round)
    await session.flush()
    return group_round


async def add_item(session: AsyncSession, item: RoundItem) -> RoundItem:
    session.add(item)
    await session.flush()
    return item


async def last_item(session: AsyncSession, round_id: int) -> RoundItem | None:
    """The most recently posted question of the round."""
    return await session.scalar(
        select(RoundItem)
        .where(RoundItem.round_id == round_id)
        .order_by(RoundItem.position.desc())
        .limit(1)
    )


async def item_by_token(
    session: AsyncSession, token: str, *, for_update: bool = False
) -> RoundItem | None:
    query = select(RoundItem).where(RoundItem.token == token)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def add_answer(session: AsyncSession, answer: RoundAnswer) -> bool:
    """Stores a member's answer; False (and nothing stored) if they had already answered.

    The unique (round_item_id, user_id) constraint is the final word when two clicks race.
    """
    try:
        async with session.begin_nested():
            session.add(answer)
            await session.flush()
    except IntegrityError:
        return False
    return True


async def answers_to(session: AsyncSession, item_id: int) -> list[RoundAnswer]:
    """The answers to one posted question, earliest first."""
    rows = await session.scalars(
        select(RoundAnswer)
        .where(RoundAnswer.round_item_id == item_id)
        .order_by(RoundAnswer.time_ms, RoundAnswer.id)
    )
    return list(rows)


@dataclass(frozen=True)
class AnswerRow:
    user_id: int
    display_name: str
    position: int
    correct: bool
    score: int
    time_ms: int


async def answers_in_round(session: AsyncSession, round_id: int) -> list[AnswerRow]:
    """Every answer in the round with the member's name and the question's position."""
    rows = await session.execute(
        select(
            RoundAnswer.user_id,
            User.display_name,
            RoundItem.position,
            RoundAnswer.correct,
            RoundAnswer.score,
            RoundAnswer.time_ms,
        )
        .join(RoundItem, RoundItem.id == RoundAnswer.round_item_id)
        .join(User, User.id == RoundAnswer.user_id)
        .where(RoundItem.round_id == round_id)
        .order_by(RoundItem.position, RoundAnswer.id)
    )
    return [AnswerRow(*row) for row in rows]


async def member_results(
    session: AsyncSession, round_id: int, user_id: int, before_position: int
) -> list[bool | None]:
    """The member's result on each earlier question of the round: right, wrong or None."""
    rows = await session.execute(
        select(RoundItem.position, RoundAnswer.correct)
        .outerjoin(
            RoundAnswer,
            (RoundAnswer.round_item_id == RoundItem.id) & (RoundAnswer.user_id == user_id),
        )
        .where(RoundItem.round_id == round_id, RoundItem.position < before_position)
        .order_by(RoundItem.position)
    )
    by_position = {position: correct for position, correct in rows}
    return [by_position.get(position) for position in range(before_position)]


async def answers_in_chat_since(
    session: AsyncSession, chat_id: int, since: datetime | None
) -> tuple[list[AnswerRow], int]:
    """All round answers given in the chat since `since` (None = ever) and how many rounds
    they came from."""
    query = (
        select(
            RoundAnswer.user_id,
            User.display_name,
            RoundItem.position,
            RoundAnswer.correct,
            RoundAnswer.score,
            RoundAnswer.time_ms,
            RoundItem.round_id,
        )
        .join(RoundItem, RoundItem.id == RoundAnswer.round_item_id)
        .join(GroupRound, GroupRound.id == RoundItem.round_id)
        .join(User, User.id == RoundAnswer.user_id)
        .where(GroupRound.chat_id == chat_id)
    )
    if since is not None:
        query = query.where(RoundAnswer.answered_at >= since)
    rows = list(await session.execute(query))
    return [AnswerRow(*row[:6]) for row in rows], len({row[6] for row in rows})


async def recent_round_question_ids(session: AsyncSession, chat_id: int, limit: int) -> set[int]:
    """Questions posted in the chat's latest rounds, so a new round prefers fresh ones."""
    rows = await session.scalars(
        select(RoundItem.question_id)
        .join(GroupRound, GroupRound.id == RoundItem.round_id)
        .where(GroupRound.chat_id == chat_id, RoundItem.question_id.is_not(None))
        .order_by(RoundItem.id.desc())
        .limit(limit)
    )
    return {question_id for question_id in rows if question_id is not None}


async def round_candidates(
    session: AsyncSession, scope_id: int, topic: str, *, limit: int = 500
) -> list[Question]:
    """The scope's questions in circulation about `topic` (matched in topic or stem; "" =
    all)."""
    query = select(Question).where(Question.scope_id == scope_id, Question.retired_at.is_(None))
    if topic:
        pattern = f"%{_escape_like(topic.lower())}%"
        query = query.where(
            or_(
                func.lower(Question.topic).like(pattern, escape="\\"),
                func.lower(Question.stem).like(pattern, escape="\\"),
            )
        )
    rows = await session.scalars(query.order_by(Question.id).limit(limit))
    return list(rows)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
