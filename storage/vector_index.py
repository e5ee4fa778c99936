"""Per-scope FAISS indexes: a cache of the chunks' stored embeddings, kept in step with SQL.

The chunks table is the system of record. A scope's index is an `IndexIDMap2` over an
exact inner-product index (vectors are unit length, so scores are cosines) whose ids are
chunk row ids: float32 rows, or float16 ones once the scope outgrows `FP16_MIN_VECTORS`.
It lives in memory per process and on disk under `<data dir>/indexes/`, written atomically.
Whenever the scope's `index_version` differs from the cached one, the index is brought in
step by comparing chunk ids with the database (add the missing, drop the gone) — so a stale
file, or another worker's change, self-heals. A changed index is written to its file only
after the transaction that changed it commits; if it rolls back, the in-memory copy is
dropped.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import faiss
import numpy as np
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.files import fsync_directory
from storage.models import Chunk, Material, Scope

if TYPE_CHECKING:
    from numpy.typing import NDArray

log = logging.getLogger(__name__)

INDEX_DIR_NAME = "indexes"
# Embeddings fetched per SELECT while syncing; keeps each IN (...) list well below limits.
FETCH_BATCH = 2000
# Scopes kept in memory per process; a scope is one student's or one group's material.
DEFAULT_MAX_CACHED = 256
# Past this many vectors a scope's rows are kept as float16: half the memory, and a search
# reads half the bytes (measured on 100k MiniLM-sized rows: 13 -> 7 ms, recall@32 1.000 vs
# float32; bench/bench_retrieval.py). Smaller scopes search in under 2 ms either way.
FP16_MIN_VECTORS = 20_000
# OpenMP threads per search. One query over one scope is a few ms of work; fanning it out
# over 2 busy cores made it 4x slower (the threads wait for each other's cores).
SEARCH_THREADS = 1


def _new_index(dim: int, *, fp16: bool = False) -> faiss.IndexIDMap2:
    if fp16:
        rows = faiss.IndexScalarQuantizer(
            dim, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
        )
        return faiss.IndexIDMap2(rows)
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


def _ids_array(ids: Iterable[int]) -> NDArray[np.int64]:
    return np.fromiter(ids, dtype=np.int64)


@dataclass
class ScopeIndex:
    """One scope's vectors; `version` is the scope's index_version it was synced to."""

    scope_id: int
    dim: int
    version: int = -1
    index: faiss.IndexIDMap2 = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.index is None:
            self.index = _new_index(self.dim)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def ids(self) -> set[int]:
        return {int(i) for i in faiss.vector_to_array(self.index.id_map)}

    @property
    def fp16(self) -> bool:
        """Whether the rows are stored as float16 (a large scope)."""
        return isinstance(faiss.downcast_index(self.index.index), faiss.IndexScalarQuantizer)

    def add(self, ids: Collection[int], vectors: NDArray[np.float32]) -> None:
        if len(ids):
            if not self.fp16 and len(self) + len(ids) > FP16_MIN_VECTORS:
                self._to_fp16()
            rows = np.ascontiguousarray(vectors, dtype=np.float32)
            self.index.add_with_ids(rows, _ids_array(ids))

    def _to_fp16(self) -> None:
        ids = faiss.vector_to_array(self.index.id_map)
        rows = self.index.index.reconstruct_n(0, len(self))
        index = _new_index(self.dim, fp16=True)
        if len(ids):
            index.add_with_ids(rows, ids)
        self.index = index

    def remove(self, ids: Collection[int]) -> int:
        if not ids:
            return 0
        return int(self.index.remove_ids(faiss.IDSelectorBatch(_ids_array(ids))))

    def search(
        self,
        query: NDArray[np.float32],
        k: int,
        *,
        allowed_ids: Collection[int] | None = None,
    ) -> list[tuple[int, float]]:
        """The k nearest (chunk id, cosine) pairs, best first, optionally among `allowed_ids`."""
        if len(self) == 0 or k <= 0:
            return []
        vector = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        params = None
        if allowed_ids is not None:
            if not allowed_ids:
                return []
            selector = faiss.IDSelectorBatch(_ids_array(allowed_ids))
            params = faiss.SearchParameters()
            params.sel = selector
            k = min(k, len(allowed_ids))
        k = min(k, len(self))
        # Per calling thread (an OpenMP setting), so set by whichever thread searches.
        faiss.omp_set_num_threads(SEARCH_THREADS)
        scores, ids = self.index.search(vector, k, params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i != -1]

    def vectors(self, ids: Collection[int]) -> NDArray[np.float32]:
        """The stored vectors of `ids` (each must be in the index), one row per id."""
        out = np.zeros((len(ids), self.dim), dtype=np.float32)
        for row, chunk_id in enumerate(ids):
            out[row] = self.index.reconstruct(int(chunk_id))
        return out


class VectorIndexes:
    """The per-process cache of scope indexes plus their files under the data dir."""

    def __init__(self, data_dir: Path, *, dim: int, max_cached: int = DEFAULT_MAX_CACHED) -> None:
        self.root = Path(data_dir) / INDEX_DIR_NAME
        self.dim = dim
        self.max_cached = max_cached
        self._cache: OrderedDict[int, ScopeIndex] = OrderedDict()
        self._locks: dict[int, asyncio.Lock] = {}

    def path_for(self, scope_id: int) -> Path:
        return self.root / f"scope_{scope_id}.faiss"

    def cached(self, scope_id: int) -> ScopeIndex | None:
        return self._cache.get(scope_id)

    async def get(self, session: AsyncSession, scope_id: int) -> ScopeIndex:
        """The scope's index in step with what `session` sees. Loads or syncs if stale."""
        lock = self._locks.setdefault(scope_id, asyncio.Lock())
        async with lock:
            version = await session.scalar(select(Scope.index_version).where(Scope.id == scope_id))
            if version is None:
                return ScopeIndex(scope_id, self.dim)
            entry = self._cache.get(scope_id)
            if entry is not None and entry.version == version:
                self._cache.move_to_end(scope_id)
                return entry
            if entry is None:
                entry = await asyncio.to_thread(self._load, scope_id)
            changed = await self._sync(session, entry)
            entry.version = version
            self._remember(entry)
            if changed:
                self._settle_with(session, entry)
            return entry

    def forget(self, scope_id: int) -> None:
        """Drops the in-memory index; the next `get` reloads the file and re-syncs."""
        self._cache.pop(scope_id, None)

    def drop(self, scope_id: int) -> None:
        """Forgets the scope entirely, file included (the scope is gone)."""
        self.forget(scope_id)
        self.path_for(scope_id).unlink(missing_ok=True)

    def _settle_with(self, session: AsyncSession, entry: ScopeIndex) -> None:
        """Writes the file only once the transaction that produced this state commits, and
        forgets the state if it rolls back: the file never holds uncommitted chunks."""

        def committed() -> None:
            if self._cache.get(entry.scope_id) is entry:
                self._persist(entry)

        def rolled_back() -> None:
            if self._cache.get(entry.scope_id) is entry:
                self.forget(entry.scope_id)

        on_transaction_end(session, committed=committed, rolled_back=rolled_back)

    def _remember(self, entry: ScopeIndex) -> None:
        self._cache[entry.scope_id] = entry
        self._cache.move_to_end(entry.scope_id)
        while len(self._cache) > self.max_cached:
            self._cache.popitem(last=False)

    async def _sync(self, session: AsyncSession, entry: ScopeIndex) -> bool:
        """Adds chunks the index lacks and drops ids the database no longer has."""
        db_ids = set(
            (
                await session.scalars(
                    select(Chunk.id)
                    .join(Material, Material.id == Chunk.material_id)
                    .where(Material.scope_id == entry.scope_id, Chunk.embedding.is_not(None))
                )
            ).all()
        )
        have = entry.ids()
        gone = have - db_ids
        missing = sorted(db_ids - have)
        entry.remove(gone)
        for start in range(0, len(missing), FETCH_BATCH):
            batch = missing[start : start + FETCH_BATCH]
            rows = (
                await session.execute(select(Chunk.id, Chunk.embedding).where(Chunk.id.in_(batch)))
            ).all()
            ids, vectors = self._decode(rows)
            entry.add(ids, vectors)
        return bool(gone or missing)

    def _decode(self, rows: Iterable[Any]) -> tuple[list[int], NDArray[np.float32]]:
        ids: list[int] = []
        blobs: list[bytes] = []
        width = self.dim * 4
        for chunk_id, blob in rows:
            if blob is None or len(blob) != width:
                # Written by a model of another size: unusable until re-ingested.
                log.warning("chunk %s has an embedding of the wrong size; skipped", chunk_id)
                continue
            ids.append(int(chunk_id))
            blobs.append(blob)
        if not blobs:
            return [], np.zeros((0, self.dim), dtype=np.float32)
        vectors = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(-1, self.dim)
        return ids, vectors.astype(np.float32, copy=False)

    def _load(self, scope_id: int) -> ScopeIndex:
        path = self.path_for(scope_id)
        if path.exists():
            try:
                # read_index returns the concrete type; a downcast copy would not own its
                # C++ object and would crash once the original wrapper is collected.
                index = faiss.read_index(str(path))
                if index.d == self.dim and isinstance(index, faiss.IndexIDMap2):
                    return ScopeIndex(scope_id, self.dim, index=index)
                log.warning("index %s has another shape; rebuilding", path)
            except RuntimeError:
                log.warning("index %s is unreadable; rebuilding", path)
        return ScopeIndex(scope_id, self.dim)

    def _persist(self, entry: ScopeIndex) -> None:
        """Temp file in the same directory, fsync, rename: readers see old or new, never half."""
        path = self.path_for(entry.scope_id)
        if len(entry) == 0:
            path.unlink(missing_ok=True)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        data = faiss.serialize_index(entry.index)
        fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data.tobytes())
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        fsync_directory(path.parent)


def on_transaction_end(
    session: AsyncSession,
    *,
    committed: Callable[[], None] | None = None,
    rolled_back: Callable[[], None] | None = None,
) -> None:
    """Runs one of the callbacks when the session's outermost transaction ends: `committed`
    after a real COMMIT, `rolled_back` after a rollback (savepoints do not count)."""
    sync_session = session.sync_session
    root = sync_session.get_transaction()
    if root is None:  # nothing pending: the state is already what the database holds
        if committed is not None:
            committed()
        return
    last_commit = {"ok": False}

    # SQLAlchemy fires after_commit for savepoints too; only the root's end decides, and
    # after_commit always fires just before its transaction's after_transaction_end.
    def after_commit(_session: object) -> None:
        last_commit["ok"] = True

    def after_end(_session: object, transaction: object) -> None:
        if transaction is not root:
            last_commit["ok"] = False
            return
        event.remove(sync_session, "after_commit", after_commit)
        callback = committed if last_commit["ok"] else rolled_back
        if callback is not None:
            callback()

    event.listen(sync_session, "after_commit", after_commit)
    event.listen(sync_session, "after_transaction_end", after_end)
