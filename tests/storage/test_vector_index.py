"""The per-scope FAISS cache follows the chunks table: it loads lazily, persists only what
was committed, heals stale files, and never mixes scopes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import delete

from core.settings import Settings
from storage.db import Database
from storage.enums import MaterialStatus
from storage.models import Chunk, Material, Scope
from storage.repos.chats import bump_index_version
from storage.vector_index import ScopeIndex, VectorIndexes
from tests.materials_support import student_scope

DIM = 8


def unit(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=DIM).astype(np.float32)
    return vector / np.linalg.norm(vector)


async def add_material(db: Database, scope: Scope, seeds: list[int], name: str = "a") -> list[int]:
    """A ready material whose chunk i has the vector unit(seeds[i]); returns chunk ids."""
    async with db.session() as session:
        material = Material(
            scope_id=scope.id, filename=f"{name}.pdf", sha256=name * 64, size_bytes=1,
            status=MaterialStatus.READY,
        )  # fmt: skip
        session.add(material)
        await session.flush()
        chunks = [
            Chunk(material_id=material.id, ordinal=i, page_start=1, page_end=1, text=f"c{seed}",
                  embedding=unit(seed).astype("<f4").tobytes())
            for i, seed in enumerate(seeds)
        ]  # fmt: skip
        session.add_all(chunks)
        await session.flush()
        await bump_index_version(session, scope.id)
        return [chunk.id for chunk in chunks]


def names_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


@pytest.fixture
def indexes(settings: Settings) -> VectorIndexes:
    return VectorIndexes(settings.data_dir, dim=DIM)


async def get(db: Database, indexes: VectorIndexes, scope: Scope) -> ScopeIndex:
    async with db.session() as session:
        return await indexes.get(session, scope.id)


async def test_an_index_is_built_from_stored_embeddings_and_searches_by_cosine(
    any_db: Database, indexes: VectorIndexes
) -> None:
    db = any_db
    scope = await student_scope(db)
    ids = await add_material(db, scope, [1, 2, 3])
    index = await get(db, indexes, scope)
    assert index.ids() == set(ids)
    (best, score), *_ = index.search(unit(2), 3)
    assert best == ids[1] and score == pytest.approx(1.0, abs=1e-5)
    assert [i for i, _ in index.search(unit(2), 3, allowed_ids={ids[0]})] == [ids[0]]
    np.testing.assert_allclose(index.vectors([ids[2]])[0], unit(3), atol=1e-6)
    assert indexes.path_for(scope.id).exists()


async def test_scopes_never_share_vectors(db: Database, indexes: VectorIndexes) -> None:
    ada, bo = await student_scope(db, "ada"), await student_scope(db, "bo")
    ada_ids = await add_material(db, ada, [1, 2], "a")
    bo_ids = await add_material(db, bo, [3], "b")
    assert (await get(db, indexes, ada)).ids() == set(ada_ids)
    assert (await get(db, indexes, bo)).ids() == set(bo_ids)


async def test_a_change_by_another_process_is_picked_up_through_the_version(
    db: Database, indexes: VectorIndexes
) -> None:
    scope = await student_scope(db)
    first = await add_material(db, scope, [1, 2], "a")
    assert len(await get(db, indexes, scope)) == 2
    second = await add_material(db, scope, [3], "b")  # as another worker would
    assert (await get(db, indexes, scope)).ids() == set(first + second)
    async with db.session() as session:
        await session.execute(delete(Chunk).where(Chunk.id.in_(first)))
        await bump_index_version(session, scope.id)
    assert (await get(db, indexes, scope)).ids() == set(second)


async def test_a_fresh_process_loads_the_file_and_heals_a_stale_one(
    settings: Settings, db: Database, indexes: VectorIndexes
) -> None:
    scope = await student_scope(db)
    ids = await add_material(db, scope, [1, 2, 3])
    await get(db, indexes, scope)
    stale = indexes.path_for(scope.id).read_bytes()
    async with db.session() as session:  # a chunk goes while no process has the index open
        await session.execute(delete(Chunk).where(Chunk.id == ids[0]))
    restarted = VectorIndexes(settings.data_dir, dim=DIM)
    assert (await get(db, restarted, scope)).ids() == set(ids[1:])
    assert indexes.path_for(scope.id).read_bytes() != stale  # rewritten after the sync


async def test_an_unreadable_or_foreign_file_is_rebuilt(
    settings: Settings, db: Database, indexes: VectorIndexes
) -> None:
    scope = await student_scope(db)
    ids = await add_material(db, scope, [1, 2])
    path = indexes.path_for(scope.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a faiss index")
    assert (await get(db, indexes, scope)).ids() == set(ids)
    other_dim = VectorIndexes(settings.data_dir, dim=DIM * 2)  # a model of another size
    assert len(await get(db, other_dim, scope)) == 0  # wrong-size embeddings are skipped


async def test_uncommitted_vectors_never_reach_the_file_and_vanish_on_rollback(
    any_db: Database, indexes: VectorIndexes
) -> None:
    db = any_db
    scope = await student_scope(db)
    kept = await add_material(db, scope, [1])
    await get(db, indexes, scope)
    committed_file = indexes.path_for(scope.id).read_bytes()

    class Abort(Exception):
        pass

    with pytest.raises(Abort):
        async with db.session() as session:
            material = Material(scope_id=scope.id, filename="x.pdf", sha256="f" * 64,
                                size_bytes=1, status=MaterialStatus.READY)  # fmt: skip
            session.add(material)
            await session.flush()
            session.add(Chunk(material_id=material.id, ordinal=0, page_start=1, page_end=1,
                              text="x", embedding=unit(9).astype("<f4").tobytes()))  # fmt: skip
            await session.flush()
            await bump_index_version(session, scope.id)
            assert len(await indexes.get(session, scope.id)) == 2  # this session sees it
            assert indexes.path_for(scope.id).read_bytes() == committed_file
            raise Abort
    assert indexes.cached(scope.id) is None
    assert indexes.path_for(scope.id).read_bytes() == committed_file
    assert (await get(db, indexes, scope)).ids() == set(kept)


async def test_no_temporary_files_are_left_and_drop_removes_the_file(
    db: Database, indexes: VectorIndexes
) -> None:
    scope = await student_scope(db)
    await add_material(db, scope, [1, 2])
    await get(db, indexes, scope)
    folder: Path = indexes.path_for(scope.id).parent
    assert names_in(folder) == [f"scope_{scope.id}.faiss"]
    indexes.drop(scope.id)
    assert names_in(folder) == []
    assert indexes.cached(scope.id) is None


async def test_a_large_scope_is_stored_as_float16_and_still_finds_the_exact_nearest(
    db: Database, settings: Settings, indexes: VectorIndexes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The threshold is lowered so a small scope plays the large one.
    monkeypatch.setattr("storage.vector_index.FP16_MIN_VECTORS", 50)
    scope = await student_scope(db)
    small = await add_material(db, scope, list(range(40)), name="a")
    assert not (await get(db, indexes, scope)).fp16
    big = await add_material(db, scope, list(range(100, 180)), name="b")
    index = await get(db, indexes, scope)
    assert index.fp16 and len(index) == 120
    seeds = [*range(40), *range(100, 180)]
    vectors = {cid: unit(seed) for cid, seed in zip(small + big, seeds, strict=True)}
    ids = np.array(list(vectors))
    stored = np.stack(list(vectors.values()))
    for seed in range(1000, 1010):
        query = unit(seed)
        exact = ids[np.argsort(-(stored @ query))[:5]].tolist()
        assert [cid for cid, _ in index.search(query, 5)] == exact
    # A restart reads the float16 file back; a deleted material's vectors leave it.
    restarted = VectorIndexes(settings.data_dir, dim=DIM)
    async with db.session() as session:
        await session.execute(delete(Chunk).where(Chunk.id.in_(small)))
        await bump_index_version(session, scope.id)
    again = await get(db, restarted, scope)
    assert again.fp16 and again.ids() == set(big)
