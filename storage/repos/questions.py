"""Generated questions: store, look up by stem hash, and find likely repeats of new ones."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Question

# Stored questions compared with a run's candidates, newest first; bounds the work per run.
MAX_COMPARED = 2000


def topic_filter(query: Select, topic: str, *, exact: bool) -> Select:  # type: ignore[type-arg]
    """Narrows a question query to a topic: the exact name, or any topic containing it."""
    if not topic:
        return query
    if exact:
        return query.where(Question.topic == topic)
    return query.where(func.lower(Question.topic).contains(topic.lower(), autoescape=True))


async def questions_for_export(session: AsyncSession, scope_id: int, topic: str) -> list[Question]:
    """The scope's questions in circulation (not retired), of topics containing `topic`
    when given, oldest first."""
    query = select(Question).where(Question.scope_id == scope_id, Question.retired_at.is_(None))
    rows = await session.scalars(topic_filter(query, topic, exact=False).order_by(Question.id))
    return list(rows)


async def existing_hashes(
    session: AsyncSession, scope_id: int, hashes: Collection[str]
) -> set[str]:
    """Which of these normalised-stem hashes the scope already has."""
    if not hashes:
        return set()
    rows = await session.scalars(
        select(Question.stem_hash).where(
            Question.scope_id == scope_id, Question.stem_hash.in_(list(hashes))
        )
    )
    return set(rows)


async def questions_of_materials(
    session: AsyncSession, scope_id: int, material_ids: Collection[int] | None
) -> list[Question]:
    """The scope's questions (of these materials, if given), newest first, bounded."""
    query = select(Question).where(Question.scope_id == scope_id)
    if material_ids is not None:
        query = query.where(Question.material_id.in_(list(material_ids)))
    rows = await session.scalars(query.order_by(Question.id.desc()).limit(MAX_COMPARED))
    return list(rows)


async def stem_hashes_of_scope(session: AsyncSession, scope_id: int) -> set[str]:
    """Every normalised-stem hash the scope holds (a generation run's exact-duplicate check)."""
    rows = await session.scalars(select(Question.stem_hash).where(Question.scope_id == scope_id))
    return set(rows)
