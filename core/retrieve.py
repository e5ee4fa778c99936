"""Semantic search over one scope's chunks, diversified so k hits are not near copies.

Only chunks of `ready` materials in the asked scope are ever returned: the FAISS index is a
cache, so every hit is re-checked against the database before it leaves this module.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from core.embed import Embedder
from storage.enums import ChunkKind
from storage.models import Chunk
from storage.repos.chunks import chunk_ids_in_scope, ready_chunks
from storage.vector_index import ScopeIndex, VectorIndexes

if TYPE_CHECKING:
    from numpy.typing import NDArray

# Relevance weight in maximal marginal relevance: 1.0 is plain similarity ranking. 0.7 keeps
# the top hit and mostly relevant ones, but a near copy of a hit already taken loses.
MMR_LAMBDA = 0.7
# Candidates considered for MMR per requested hit (and at least this many in total).
CANDIDATES_PER_HIT = 4
MIN_CANDIDATES = 32
# A flat search over more vectors than this takes milliseconds: run it off the event loop.
INLINE_SEARCH_MAX = 20_000
# Candidates searched per needed one when a material or kinds filter will drop some.
FILTERED_OVERFETCH = 2
# Two chunks this similar say the same thing (overlap, repeated boxes); keep only one.
NEAR_COPY = 0.97


@dataclass(frozen=True)
class ChunkHit:
    """A retrieved chunk, its cosine similarity to the query, and the page to cite."""

    chunk: Chunk
    score: float
    page: int


async def retrieve(
    session: AsyncSession,
    *,
    embedder: Embedder,
    indexes: VectorIndexes,
    scope_id: int,
    query: str,
    k: int = 8,
    material_id: int | None = None,
    kinds: Collection[ChunkKind] | None = None,
    diversify: bool = True,
) -> list[ChunkHit]:
    """Up to k chunks of the scope most relevant to `query`, best first.

    `material_id` restricts to one material, `kinds` to some chunk kinds (e.g. BODY only).
    With `diversify`, maximal marginal relevance drops near copies from the k.
    """
    if not query.strip() or k <= 0:
        return []
    vector = (await embedder.embed([query]))[0]
    return await search_by_vector(
        session,
        indexes=indexes,
        scope_id=scope_id,
        vector=vector,
        k=k,
        material_id=material_id,
        kinds=kinds,
        diversify=diversify,
    )


async def search_by_vector(
    session: AsyncSession,
    *,
    indexes: VectorIndexes,
    scope_id: int,
    vector: NDArray[np.float32],
    k: int = 8,
    material_id: int | None = None,
    kinds: Collection[ChunkKind] | None = None,
    diversify: bool = True,
) -> list[ChunkHit]:
    """Like `retrieve`, for a query that is already a unit vector."""
    if k <= 0:
        return []
    fetch = max(k * CANDIDATES_PER_HIT, MIN_CANDIDATES) if diversify else k
    filtered = material_id is not None or kinds is not None
    # A filter is applied by the database check of the nearest candidates: listing every
    # allowed id of a large scope first costs more than the search itself.
    wanted = fetch * FILTERED_OVERFETCH if filtered else fetch
    index, candidates, rows = await _checked_nearest(
        session, indexes, scope_id, vector, wanted, material_id=material_id, kinds=kinds
    )
    if filtered and len(candidates) < fetch and len(index) > wanted:
        # A narrow filter (one small material among many): search only the allowed ids.
        allowed = await chunk_ids_in_scope(session, scope_id, material_id=material_id, kinds=kinds)
        if not allowed:
            return []
        candidates = await _nearest(index, vector, fetch, allowed=set(allowed))
        rows, _ = await ready_chunks(session, scope_id, [chunk_id for chunk_id, _ in candidates])
        candidates = [hit for hit in candidates if hit[0] in rows]
    candidates = candidates[:fetch]
    if diversify and len(candidates) > 1:
        ids = [chunk_id for chunk_id, _ in candidates]
        picked = mmr(
            np.asarray(vector, dtype=np.float32).reshape(-1),
            index.vectors(ids),
            k=k,
            relevance_weight=MMR_LAMBDA,
        )
        candidates = [candidates[i] for i in picked]
    else:
        candidates = candidates[:k]
    return [
        ChunkHit(chunk=rows[chunk_id], score=score, page=rows[chunk_id].page_start)
        for chunk_id, score in candidates
    ]


async def _checked_nearest(
    session: AsyncSession,
    indexes: VectorIndexes,
    scope_id: int,
    vector: NDArray[np.float32],
    k: int,
    *,
    material_id: int | None,
    kinds: Collection[ChunkKind] | None,
) -> tuple[ScopeIndex, list[tuple[int, float]], dict[int, Chunk]]:
    """The k nearest candidates that the database confirms, with their rows.

    A cached index is searched before its version is checked: the one statement that
    confirms the candidates also reads the scope's version, and only when that moved (a
    material added or deleted meanwhile) is the index synced and searched again. That
    saves a round trip per query over checking the version first.
    """
    index = indexes.cached(scope_id)
    checked = index is None or len(index) == 0
    if checked:
        index = await indexes.get(session, scope_id)
    assert index is not None
    while True:
        if len(index) == 0:
            return index, [], {}
        candidates = await _nearest(index, vector, k)
        ids = [chunk_id for chunk_id, _ in candidates]
        rows, version = await ready_chunks(
            session, scope_id, ids, material_id=material_id, kinds=kinds
        )
        if checked or version == index.version:
            break
        searched_at = index.version
        index, checked = await indexes.get(session, scope_id), True
        if version is None and index.version == searched_at:
            break  # nothing qualified, and the index was current: the answer stands
    return index, [hit for hit in candidates if hit[0] in rows], rows


async def _nearest(
    index: ScopeIndex,
    vector: NDArray[np.float32],
    k: int,
    *,
    allowed: Collection[int] | None = None,
) -> list[tuple[int, float]]:
    if len(index) > INLINE_SEARCH_MAX:
        return await asyncio.to_thread(index.search, vector, k, allowed_ids=allowed)
    return index.search(vector, k, allowed_ids=allowed)


def mmr(
    query: NDArray[np.float32],
    candidates: NDArray[np.float32],
    *,
    k: int,
    relevance_weight: float = MMR_LAMBDA,
    near_copy: float = NEAR_COPY,
) -> list[int]:
    """Row indexes of `candidates` picked by maximal marginal relevance, in pick order.

    Rows are unit vectors; a candidate at least `near_copy`-similar to one already picked
    is never taken, even if fewer than k remain.
    """
    if len(candidates) == 0 or k <= 0:
        return []
    relevance = candidates @ query
    pairwise = candidates @ candidates.T
    picked: list[int] = [int(np.argmax(relevance))]
    remaining = set(range(len(candidates))) - set(picked)
    while remaining and len(picked) < k:
        pool = sorted(remaining)
        redundancy = pairwise[np.ix_(pool, picked)].max(axis=1)
        scores = relevance_weight * relevance[pool] - (1 - relevance_weight) * redundancy
        scores[redundancy >= near_copy] = -np.inf
        best = int(np.argmax(scores))
        if scores[best] == -np.inf:
            break
        picked.append(pool[best])
        remaining.discard(pool[best])
    return picked
