"""A scope's question bank: paged listing with word search, and the writes a student's bank
management needs (delete; restore from retirement with the cards put back in play)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import CardStatus
from storage.models import Card, Material, Question


@dataclass(frozen=True)
class BankPage:
    questions: list[Question]
    total: int


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def page_of(
    session: AsyncSession, scope_id: int, *, words: list[str], offset: int, limit: int
) -> BankPage:
    """The scope's questions (retired ones too), newest first; every word must occur in the
    topic or the stem."""
    query = select(Question).where(Question.scope_id == scope_id)
    for word in words:
        pattern = f"%{_escape_like(word.lower())}%"
        query = query.where(
            func.lower(Question.topic).like(pattern, escape="\\")
            | func.lower(Question.stem).like(pattern, escape="\\")
        )
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(query.order_by(Question.id.desc()).offset(offset).limit(limit))
    return BankPage(list(rows), int(total or 0))


async def question_in_scope(
    session: AsyncSession, scope_id: int, question_id: int
) -> Question | None:
    return await session.scalar(
        select(Question).where(Question.id == question_id, Question.scope_id == scope_id)
    )


async def uploader_of(session: AsyncSession, question: Question) -> int | None:
    if question.material_id is None:
        return None
    return await session.scalar(
        select(Material.uploaded_by).where(Material.id == question.material_id)
    )


async def delete_question(session: AsyncSession, question: Question) -> None:
    """Deletes the question and its cards; attempts keep their history (question_id NULL)."""
    await session.execute(delete(Question).where(Question.id == question.id))
    session.expunge(question)


async def suspended_cards(session: AsyncSession, question_id: int) -> list[Card]:
    rows = await session.scalars(
        select(Card).where(Card.question_id == question_id, Card.status == CardStatus.SUSPENDED)
    )
    return list(rows)
