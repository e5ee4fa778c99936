"""Retrieval on one scope of 100,000 chunks: where a query's time goes, and the total.

The scope is seeded with synthetic unit vectors in clusters (as passages of one textbook
are: many near neighbours, no exact ties) on a file-backed SQLite database, or PostgreSQL
with ROUNDS_BENCH_POSTGRES_URL. The headline is `search_by_vector` for k=8 as generation
calls it: FAISS search of the cached index, the database check of the candidates (one
`WHERE id IN (...)` that also reads the scope's index version), MMR; p50/p95/p99 over
QUERIES queries. Then each stage alone, the float32 flat index with one and with two
OpenMP threads (why one), recall@32 of the stored index against an exact float32 search,
and the query embedding: in this process and through the worker pool (where the bot
computes it).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from sqlalchemy import select

from bench.load import LoadWindow, Row, write_results
from core.embed import MiniLMEmbedder
from core.offload import ProcessOffload, embedder_here
from core.retrieve import CANDIDATES_PER_HIT, MIN_CANDIDATES, mmr, search_by_vector
from core.settings import Settings
from storage.db import Database
from storage.enums import ChunkKind, MaterialStatus, Platform
from storage.models import Chunk, Material
from storage.repos.chats import bump_index_version, personal_scope
from storage.repos.chunks import ready_chunks
from storage.repos.users import get_or_create_user
from storage.vector_index import ScopeIndex, VectorIndexes

SYNTHETIC_CHUNKS = 100_000
CLUSTERS = 2_000
QUERIES = 300
K = 8
FETCH = max(K * CANDIDATES_PER_HIT, MIN_CANDIDATES)
INSERT_BATCH = 5_000
DIM = 384
GOAL_P99_MS = 15.0
POSTGRES_ENV = "ROUNDS_BENCH_POSTGRES_URL"


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = np.asarray(samples_ms)
    return {f"p{p}": float(np.percentile(ordered, p)) for p in (50, 95, 99)}


def clustered_unit_vectors(rng: np.random.Generator, count: int) -> np.ndarray:
    centres = rng.normal(size=(CLUSTERS, DIM)).astype(np.float32)
    rows = centres[rng.integers(0, CLUSTERS, count)]
    rows += 0.5 * rng.normal(size=rows.shape).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


async def _seed(db: Database, vectors: np.ndarray) -> tuple[int, list[int]]:
    """A user's scope with one ready material of len(vectors) chunks; (scope id, chunk ids)."""
    async with db.session() as session:
        user = await get_or_create_user(session, Platform.CONSOLE, "big", "big")
        scope_id = (await personal_scope(session, user)).id
        material = Material(
            scope_id=scope_id, filename="synthetic.pdf", sha256="s" * 64, size_bytes=1,
            status=MaterialStatus.READY, pages=len(vectors) // 4,
        )  # fmt: skip
        session.add(material)
        await session.flush()
        material_id = material.id
    for start in range(0, len(vectors), INSERT_BATCH):
        batch = vectors[start : start + INSERT_BATCH]
        async with db.session() as session:
            await session.run_sync(
                lambda sync, vs=batch, s=start: sync.execute(
                    Chunk.__table__.insert(),
                    [
                        {"material_id": material_id, "ordinal": s + i, "page_start": 1 + (s + i)
                         // 4, "page_end": 1 + (s + i) // 4, "heading": "Synthetic",
                         "kind": "body", "text": f"synthetic passage {s + i}",
                         "embedding": v.astype("<f4").tobytes()}
                        for i, v in enumerate(vs)
                    ],
                )
            )  # fmt: skip
    async with db.session() as session:
        await bump_index_version(session, scope_id)
        ids = list((await session.scalars(select(Chunk.id).order_by(Chunk.id))).all())
    return scope_id, ids


async def _timed(
    queries: np.ndarray, call: Callable[[np.ndarray], Awaitable[Any]]
) -> tuple[list[float], list[Any]]:
    latencies, results = [], []
    for query in queries:
        started = time.perf_counter()
        results.append(await call(query))
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies, results


def _flat_search_ms(vectors: np.ndarray, queries: np.ndarray, threads: int) -> list[float]:
    flat = faiss.IndexFlatIP(DIM)
    flat.add(vectors)
    faiss.omp_set_num_threads(threads)
    latencies = []
    for query in queries:
        started = time.perf_counter()
        flat.search(query.reshape(1, -1), FETCH)
        latencies.append((time.perf_counter() - started) * 1000)
    faiss.omp_set_num_threads(1)
    return latencies


async def _embedding_ms(texts: list[str]) -> dict[str, dict[str, float]]:
    here = MiniLMEmbedder()
    await here.embed(["warm up the model"])
    in_process, _ = await _timed(np.arange(len(texts)), lambda i: here.embed([texts[int(i)]]))
    pool = ProcessOffload(MiniLMEmbedder(), workers=1)
    try:
        pooled = embedder_here(pool)
        await pooled.embed(["warm up the model"])
        through_pool, _ = await _timed(
            np.arange(len(texts)), lambda i: pooled.embed([texts[int(i)]])
        )
    finally:
        await pool.close()
    return {"in_process": percentiles(in_process), "worker_pool": percentiles(through_pool)}


async def _bench(root: Path) -> dict[str, Any]:
    url = os.environ.get(POSTGRES_ENV)
    settings = Settings(_env_file=None, data_dir=root)  # type: ignore[call-arg]
    db = Database(url or settings.database_url)
    await db.migrate()
    rng = np.random.default_rng(0)
    vectors = clustered_unit_vectors(rng, SYNTHETIC_CHUNKS)
    started = time.perf_counter()
    scope_id, chunk_ids = await _seed(db, vectors)
    seed_s = time.perf_counter() - started
    by_id = dict(zip(chunk_ids, range(len(chunk_ids)), strict=True))

    indexes = VectorIndexes(settings.data_dir, dim=DIM)
    started = time.perf_counter()
    async with db.session() as session:
        index = await indexes.get(session, scope_id)
    build_s = time.perf_counter() - started
    restarted = VectorIndexes(settings.data_dir, dim=DIM)
    started = time.perf_counter()
    async with db.session() as session:
        await restarted.get(session, scope_id)
    load_s = time.perf_counter() - started
    assert len(index) == SYNTHETIC_CHUNKS and index.fp16

    picks = rng.integers(0, SYNTHETIC_CHUNKS, QUERIES)
    queries = vectors[picks] + 0.3 * rng.normal(size=(QUERIES, DIM)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)

    async def whole(query: np.ndarray) -> list[Any]:
        async with db.session() as session:
            return await search_by_vector(
                session, indexes=indexes, scope_id=scope_id, vector=query, k=K
            )

    async def filtered(query: np.ndarray) -> list[Any]:
        async with db.session() as session:
            return await search_by_vector(
                session, indexes=indexes, scope_id=scope_id, vector=query, k=K,
                kinds=[ChunkKind.BODY],
            )  # fmt: skip

    await _timed(queries[:20], whole)  # warm caches and the connection pool
    total_ms, hits = await _timed(queries, whole)
    assert all(len(found) == K for found in hits)
    filtered_ms, _ = await _timed(queries, filtered)

    # Each stage on its own, in the order search_by_vector runs them.
    async def cached_index(_query: np.ndarray) -> ScopeIndex:
        async with db.session() as session:
            return await indexes.get(session, scope_id)

    index_ms, _ = await _timed(queries, cached_index)
    inline_ms, candidates = await _timed(queries, lambda q: _now(index.search(q, FETCH)))
    hop_ms, _ = await _timed(queries, lambda q: asyncio.to_thread(index.search, q, FETCH))

    async def check(found: list[tuple[int, float]]) -> dict[int, Chunk]:
        async with db.session() as session:
            return await ready_chunks(session, scope_id, [cid for cid, _ in found])

    sql_ms, _ = await _timed(np.arange(QUERIES), lambda i: check(candidates[int(i)]))
    mmr_ms, _ = await _timed(
        np.arange(QUERIES),
        lambda i: _now(
            mmr(queries[int(i)], index.vectors([c for c, _ in candidates[int(i)]]), k=K)
        ),
    )
    exact = np.argsort(-(vectors @ queries.T), axis=0)[:FETCH].T
    recall = float(
        np.mean(
            [
                len({by_id[c] for c, _ in found} & set(exact[i].tolist())) / FETCH
                for i, found in enumerate(candidates)
            ]
        )
    )
    flat_one = _flat_search_ms(vectors, queries, threads=1)
    flat_two = _flat_search_ms(vectors, queries[:100], threads=2)
    await db.dispose()
    texts = ["What does the sinoatrial node do?", "Where is antidiuretic hormone released?"]
    return {
        "database": "postgresql" if url else "sqlite",
        "chunks": SYNTHETIC_CHUNKS,
        "seed_s": seed_s,
        "build_s": build_s,
        "load_s": load_s,
        "search_by_vector_ms": percentiles(total_ms),
        "search_by_vector_kinds_filter_ms": percentiles(filtered_ms),
        "stages_ms": {
            "index_version_check": percentiles(index_ms),
            "faiss_fp16_inline": percentiles(inline_ms),
            "faiss_fp16_to_thread": percentiles(hop_ms),
            "sql_recheck": percentiles(sql_ms),
            "mmr": percentiles(mmr_ms),
        },
        "faiss_fp32_flat_1_thread_ms": percentiles(flat_one),
        "faiss_fp32_flat_2_threads_ms": percentiles(flat_two),
        "recall_at_32_vs_exact_fp32": recall,
        "query_embedding_ms": await _embedding_ms(texts * 25),
    }


async def _now(value: Any) -> Any:
    return value


async def run(results_dir: Path) -> list[Row]:
    load = LoadWindow()
    with tempfile.TemporaryDirectory(prefix="rounds-bench-retrieval-") as tmp:
        figures = await _bench(Path(tmp))
    load.close()
    total = figures["search_by_vector_ms"]
    stages = figures["stages_ms"]
    embed = figures["query_embedding_ms"]

    def ms(name: str, p: dict[str, float], goal: str = "") -> Row:
        line = f"{p['p50']:.2f} / {p['p95']:.2f} / {p['p99']:.2f}"
        return ("retrieval", f"{name} p50/p95/p99", line, "ms", goal)

    db = figures["database"]
    rows: list[Row] = [
        ("retrieval", "scope", f"{SYNTHETIC_CHUNKS:,} chunks, {db}", "", ""),
        ("retrieval", "build index from SQL / load file",
         f"{figures['build_s']:.2f} / {figures['load_s']:.2f}", "s", ""),
        ms(f"search_by_vector k={K} (FAISS + SQL check + MMR)", total, f"p99 < {GOAL_P99_MS}"),
        ms("same, kinds filter", figures["search_by_vector_kinds_filter_ms"]),
        ms("stage: index version check alone (only on a cold cache)",
           stages["index_version_check"]),
        ms("stage: FAISS fp16, inline", stages["faiss_fp16_inline"]),
        ms("stage: FAISS fp16, via asyncio.to_thread", stages["faiss_fp16_to_thread"]),
        ms("stage: SQL re-check of 32 candidates + scope version", stages["sql_recheck"]),
        ms("stage: MMR", stages["mmr"]),
        ms("FAISS fp32 flat, 1 thread", figures["faiss_fp32_flat_1_thread_ms"]),
        ms("FAISS fp32 flat, 2 threads", figures["faiss_fp32_flat_2_threads_ms"]),
        ("retrieval", "recall@32, fp16 vs exact fp32",
         f"{figures['recall_at_32_vs_exact_fp32']:.4f}", "", ">= 0.99"),
        ms("query embedding in this process", embed["in_process"]),
        ms("query embedding through the worker pool", embed["worker_pool"]),
        load.row("retrieval"),
    ]  # fmt: skip
    await write_results(results_dir / "retrieval.json", figures, rows, load)
    return rows
