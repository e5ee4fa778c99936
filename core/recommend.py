"""/next: what to study now, weighing due reviews, weak topics, untouched material and how
long ago each topic was practised; every suggestion carries a one-sentence reason.

`recommend(signals, now=...)` is pure; `gather_signals` collects its inputs with a handful
of aggregates. Scores are on one 0-1 scale so the kinds can be compared:

- review   0.5 + 0.5 x min(due, 30) / 30   a few due cards matter, a pile matters most
- weak     0.35 + 0.65 x gap x evidence    gap = how far under the 80% bar, evidence =
           + up to 0.1 for staleness       n / (n + 5) so three answers don't outrank ten
- new      0.45, then 0.02 less per topic  untouched material, in book order
- refresh  0.2 + 0.3 x min(days, 60) / 60  a topic not practised for a week or more
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import stats
from core.chunking import HEADING_SEPARATOR
from core.topics import topics_from_chunks
from storage.enums import ChunkKind, MaterialStatus
from storage.models import Chunk, Material, Question, User
from storage.repos.cards import count_due

REVIEW_BASE, REVIEW_PILE = 0.5, 30
WEAK_BASE, WEAK_SPAN, WEAK_EVIDENCE, WEAK_STALE_BONUS = 0.35, 0.65, 5, 0.1
NEW_BASE, NEW_STEP, NEW_MAX = 0.45, 0.02, 3
REFRESH_AFTER_DAYS, REFRESH_BASE, REFRESH_SPAN, REFRESH_FULL_DAYS = 7, 0.2, 0.3, 60
STALE_FULL_DAYS = 30
_SECTION_NUMBER = re.compile(r"^\d{1,3}(?:\.\d{1,3}){0,2}\s+")


class Kind(StrEnum):
    REVIEW = "review"
    WEAK = "weak"
    NEW = "new"
    REFRESH = "refresh"


@dataclass(frozen=True)
class MaterialTopic:
    topic: str  # as shown and as /quiz takes it
    filename: str
    aliases: tuple[str, ...] = ()  # other spellings, e.g. with the section number


@dataclass(frozen=True)
class Signals:
    due_now: int
    weak: tuple[stats.TopicAccuracy, ...]  # recent accuracy, weakest first
    studied: tuple[stats.TopicAccuracy, ...]  # every answered topic, with last_answered_at
    material_topics: tuple[MaterialTopic, ...]  # in book order


@dataclass(frozen=True)
class Recommendation:
    kind: Kind
    topic: str  # "" for a review of whatever is due
    score: float
    reason: str


def _days_since(moment: datetime | None, now: datetime) -> int:
    return max(0, (now - moment).days) if moment is not None else 0


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _review(due: int) -> Recommendation:
    score = REVIEW_BASE + (1 - REVIEW_BASE) * min(due, REVIEW_PILE) / REVIEW_PILE
    verb = "is" if due == 1 else "are"
    reason = (
        f"{_plural(due, 'card')} {verb} due now; reviewing on the day they are due is what "
        "makes spaced repetition stick."
    )
    return Recommendation(Kind.REVIEW, "", score, reason)


def _weak(topic: stats.TopicAccuracy, rank: int, now: datetime) -> Recommendation:
    gap = max(0.0, (stats.WEAK_BELOW - topic.accuracy) / stats.WEAK_BELOW)
    evidence = topic.attempts / (topic.attempts + WEAK_EVIDENCE)
    stale = min(_days_since(topic.last_answered_at, now), STALE_FULL_DAYS) / STALE_FULL_DAYS
    score = WEAK_BASE + WEAK_SPAN * gap * evidence + WEAK_STALE_BONUS * stale
    which = "your weakest topic" if rank == 0 else "one of your weak topics"
    reason = (
        f"You got {topic.correct} of your last {topic.attempts} on {topic.topic} right "
        f"({topic.accuracy:.0%}), {which}; a focused quiz closes the gap fastest."
    )
    return Recommendation(Kind.WEAK, topic.topic, score, reason)


def _new(material: MaterialTopic, rank: int) -> Recommendation:
    reason = (
        f"{material.topic} is in {material.filename} but you haven't answered a question "
        "on it yet."
    )
    return Recommendation(Kind.NEW, material.topic, NEW_BASE - NEW_STEP * rank, reason)


def _refresh(topic: stats.TopicAccuracy, days: int) -> Recommendation:
    score = REFRESH_BASE + REFRESH_SPAN * min(days, REFRESH_FULL_DAYS) / REFRESH_FULL_DAYS
    reason = (
        f"You last practised {topic.topic} {_plural(days, 'day')} ago ({topic.accuracy:.0%} "
        "right so far); a short quiz shows whether it stuck."
    )
    return Recommendation(Kind.REFRESH, topic.topic, score, reason)


def _key(topic: str) -> str:
    return " ".join(topic.casefold().split())


def _keys(topic: str) -> set[str]:
    """Every spelling under which `topic` may be a material's section: itself, and each part
    of a heading path ("19 The Heart › 19.1 Heart Anatomy"), with or without its number."""
    keys = {_key(topic)}
    for part in topic.split(HEADING_SEPARATOR):
        keys |= {_key(part), _key(_SECTION_NUMBER.sub("", part.strip()))}
    return keys - {""}


def recommend(signals: Signals, *, now: datetime, limit: int = 3) -> list[Recommendation]:
    """The best `limit` things to study at `now`, best first, one per topic."""
    candidates: list[Recommendation] = []
    if signals.due_now > 0:
        candidates.append(_review(signals.due_now))
    weak_keys = {_key(t.topic) for t in signals.weak}
    candidates += [_weak(topic, rank, now) for rank, topic in enumerate(signals.weak)]
    studied_keys = set().union(*(_keys(t.topic) for t in signals.studied))
    fresh = [
        m
        for m in signals.material_topics
        if not {_key(m.topic), *map(_key, m.aliases)} & studied_keys
    ]
    candidates += [_new(material, rank) for rank, material in enumerate(fresh[:NEW_MAX])]
    for topic in signals.studied:
        days = _days_since(topic.last_answered_at, now)
        if topic.topic and _key(topic.topic) not in weak_keys and days >= REFRESH_AFTER_DAYS:
            candidates.append(_refresh(topic, days))
    candidates.sort(key=lambda r: (-r.score, r.kind, r.topic))
    chosen: list[Recommendation] = []
    seen: set[str] = set()
    for candidate in candidates:
        key = _key(candidate.topic) if candidate.topic else "\0review"
        if key not in seen:
            seen.add(key)
            chosen.append(candidate)
    return chosen[:limit]


async def material_topics(session: AsyncSession, scope_id: int) -> list[MaterialTopic]:
    """Sections of the scope's ready material in book order (core.topics reads them from
    the chunk headings), then question topics that are not among them."""
    rows = await session.execute(
        select(
            Chunk.material_id,
            func.min(Material.filename),
            Chunk.heading,
            func.min(Chunk.page_start),
        )
        .join(Material, Material.id == Chunk.material_id)
        .where(
            Material.scope_id == scope_id,
            Material.status == MaterialStatus.READY,
            Chunk.kind == ChunkKind.BODY,
            Chunk.heading != "",
        )
        .group_by(Chunk.material_id, Chunk.heading)
        .order_by(Chunk.material_id, func.min(Chunk.ordinal))
    )
    by_material: dict[int, tuple[str, list[Chunk]]] = {}
    for material_id, filename, heading, page in rows:
        entry = by_material.setdefault(material_id, (filename, []))
        # One stand-in chunk per distinct heading: core.topics needs only heading and page,
        # and the chunk texts (and key-phrase extraction) stay out of /next.
        entry[1].append(Chunk(heading=heading, page_start=page))
    found: list[MaterialTopic] = []
    known: set[str] = set()
    for filename, chunks in by_material.values():
        for topic in topics_from_chunks(chunks):
            key = _key(topic.query)
            if topic.level == 1 and key not in known:
                known.add(key)
                found.append(MaterialTopic(topic.query, filename, aliases=(topic.title,)))
    questions = await session.execute(
        select(Question.topic, func.min(Material.filename))
        .outerjoin(Material, Material.id == Question.material_id)
        .where(Question.scope_id == scope_id, Question.topic != "")
        .group_by(Question.topic)
        .order_by(func.min(Question.id))
    )
    for question_topic, filename in questions:
        if not _keys(question_topic) & known:
            known.add(_key(question_topic))
            found.append(MaterialTopic(question_topic, filename or "your material"))
    return found


async def quiz_question_ids(
    session: AsyncSession, scope_id: int, topics: Iterable[str]
) -> dict[str, int]:
    """One question id per topic that has questions in this scope (what `qt:` buttons carry)."""
    wanted = sorted({t for t in topics if t})
    if not wanted:
        return {}
    rows = await session.execute(
        select(Question.topic, func.min(Question.id))
        .where(Question.scope_id == scope_id, Question.topic.in_(wanted))
        .group_by(Question.topic)
    )
    return {topic: int(question_id) for topic, question_id in rows}


async def gather_signals(
    session: AsyncSession, user: User, scope_id: int, now: datetime
) -> Signals:
    """Everything `recommend` weighs, for `user` studying the material of `scope_id`."""
    now = now.astimezone(UTC)
    weak: Sequence[stats.TopicAccuracy] = await stats.weak_topics(session, user.id)
    return Signals(
        due_now=await count_due(session, user.id, now),
        weak=tuple(weak),
        studied=tuple(await stats.accuracy_by_topic(session, user.id)),
        material_topics=tuple(await material_topics(session, scope_id)),
    )
