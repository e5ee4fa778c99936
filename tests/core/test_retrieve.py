"""retrieve(): the right passages, with the page they are printed on, from the asker's own
material only, and not k copies of one sentence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.embed import Embedder, normalise_rows
from core.ingest import delete_material, ingest
from core.retrieve import ChunkHit, mmr, retrieve, search_by_vector
from core.settings import Settings
from storage.db import Database
from storage.enums import ChunkKind, MaterialStatus
from storage.files import FileStore
from storage.models import Chunk, Material, Scope
from storage.repos.chats import bump_index_version
from storage.vector_index import VectorIndexes
from tests.materials_support import EXCERPT, HEART, slice_pdf, student_scope, text_pdf

KIDNEY_NOTES = [
    [
        "Renal physiology lecture notes",
        "The kidney filters about 180 litres of plasma every day through its glomeruli.",
        "Each nephron has a glomerulus, a proximal tubule, the loop of Henle and a",
        "distal tubule that empties into a collecting duct.",
        "Antidiuretic hormone makes the collecting duct permeable to water, so urine",
        "becomes concentrated when the body needs to save water.",
        "Aldosterone acts on the distal nephron to reabsorb sodium and secrete potassium.",
    ]
]


class Library:
    """Ingests into scopes with one embedder and one index cache, as the app does."""

    def __init__(self, settings: Settings, db: Database, embedder: Embedder) -> None:
        self.settings, self.db, self.embedder = settings, db, embedder
        self.indexes = VectorIndexes(settings.data_dir, dim=embedder.dim)
        self.files = FileStore(settings.data_dir)

    async def add(self, scope: Scope, data: bytes, name: str = "notes.pdf") -> Material:
        async with self.db.session() as session:
            return await ingest(
                session, scope=scope, filename=name, data=data, uploaded_by=scope.user_id,
                embedder=self.embedder, indexes=self.indexes, files=self.files,
                max_bytes=self.settings.max_upload_bytes,
            )  # fmt: skip

    async def ask(self, scope: Scope, query: str, **options: object) -> list[ChunkHit]:
        async with self.db.session() as session:
            return await retrieve(
                session, embedder=self.embedder, indexes=self.indexes, scope_id=scope.id,
                query=query, **options,  # type: ignore[arg-type]
            )  # fmt: skip


@pytest.fixture
def library(settings: Settings, db: Database, embedder: Embedder) -> Library:
    return Library(settings, db, embedder)


async def test_a_hit_cites_the_page_its_sentence_is_printed_on(
    library: Library, shared_data: Path
) -> None:
    ada = await student_scope(library.db)
    await library.add(ada, (shared_data / EXCERPT).read_bytes())
    hits = await library.ask(
        ada, "Which embryonic structure develops into the right ventricle?", kinds=[ChunkKind.BODY]
    )
    top = hits[0]
    assert "The bulbus cordis develops into the right ventricle." in top.chunk.text
    assert top.page == 2  # the excerpt's footer on that page reads 2
    hits = await library.ask(ada, "When does the human heart begin beating?", k=3)
    assert "It begins beating and pumping blood around day 21 or 22" in hits[0].chunk.text
    assert hits[0].page == 1
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True) or (
        len({hit.chunk.id for hit in hits}) == len(hits)
    )


async def test_two_students_asking_the_same_question_see_only_their_own_material(
    library: Library, shared_data: Path
) -> None:
    ada, bo = await student_scope(library.db, "ada"), await student_scope(library.db, "bo")
    heart = await library.add(ada, (shared_data / EXCERPT).read_bytes())
    kidney = await library.add(bo, text_pdf(KIDNEY_NOTES))
    query = "How does the heart develop in the embryo?"
    ada_hits = await library.ask(ada, query, k=8)
    bo_hits = await library.ask(bo, query, k=8)
    assert ada_hits and bo_hits
    assert {hit.chunk.material_id for hit in ada_hits} == {heart.id}
    assert {hit.chunk.material_id for hit in bo_hits} == {kidney.id}
    assert not {hit.chunk.id for hit in ada_hits} & {hit.chunk.id for hit in bo_hits}


async def test_review_questions_can_be_left_out(library: Library, shared_data: Path) -> None:
    ada = await student_scope(library.db)
    material = await library.add(ada, (shared_data / EXCERPT).read_bytes())
    question = "The earliest organ to form and begin function within the developing human is the"
    (anything,) = await library.ask(ada, question, k=1)
    assert anything.chunk.kind is ChunkKind.REVIEW_QUESTIONS
    body = await library.ask(ada, question, k=4, kinds=[ChunkKind.BODY])
    assert body and {hit.chunk.kind for hit in body} == {ChunkKind.BODY}
    mine = await library.ask(ada, question, k=4, material_id=material.id)
    assert {hit.chunk.material_id for hit in mine} == {material.id}
    assert await library.ask(ada, question, material_id=material.id + 99) == []


async def test_a_question_about_a_heading_finds_that_section(
    library: Library, shared_data: Path
) -> None:
    # Pages 2-6 of the heart chapter: "Location", "Shape and Size", "Chambers and
    # Circulation" and "Membranes, Surface Features, and Layers" (no outline in the slice).
    ada = await student_scope(library.db)
    await library.add(ada, slice_pdf(shared_data / HEART, [2, 3, 4, 5, 6]))
    hits = await library.ask(ada, "What is the shape and size of the heart?", k=3)
    assert hits[0].chunk.heading.endswith("Shape and Size of the Heart")
    hits = await library.ask(ada, "the membranes and layers that surround the heart", k=3)
    assert hits[0].chunk.heading.endswith("Membranes, Surface Features, and Layers")


async def test_k_hits_are_not_near_copies(library: Library) -> None:
    ada = await student_scope(library.db)
    insulin = [
        "Insulin from the beta cells of the pancreas lowers blood glucose.",
        "It moves glucose into muscle and fat cells and makes the liver store glycogen.",
        "Without insulin, cells starve while glucose builds up in the blood.",
        "Type 1 diabetes destroys the beta cells, so patients need insulin injections.",
        "Insulin also promotes fat storage and protein synthesis after a meal.",
    ]
    glucagon = [
        "Glucagon from the alpha cells of the pancreas raises blood glucose.",
        "It makes the liver break down glycogen and make new glucose from amino acids.",
        "Glucagon is released between meals and during fasting, opposing insulin.",
        "Low blood glucose is the main signal for glucagon release.",
        "Together the two hormones keep blood glucose in a narrow range.",
    ]
    # One page, the insulin section printed three times (as happens with repeated boxes).
    lines = [line for n in (1, 2, 3) for line in (f"1.{n} Insulin", *insulin)]
    await library.add(ada, text_pdf([["Pancreas notes", *lines, "1.4 Glucagon", *glucagon]]))
    query = "How does insulin lower blood glucose?"
    plain = await library.ask(ada, query, k=3, diversify=False)
    assert all("Insulin from the beta cells" in hit.chunk.text for hit in plain)
    varied = await library.ask(ada, query, k=2)
    assert "Insulin from the beta cells" in varied[0].chunk.text
    assert "Glucagon from the alpha cells" in varied[1].chunk.text


def test_mmr_skips_a_near_duplicate_for_the_next_best_distinct_passage() -> None:
    query = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    candidates = np.array(
        [[0.9, 0.436, 0.0], [0.9, 0.436, 0.001], [0.7, 0.0, 0.714]], dtype=np.float32
    )
    candidates /= np.linalg.norm(candidates, axis=1, keepdims=True)
    assert mmr(query, candidates, k=2) == [0, 2]
    assert mmr(query, candidates, k=3) == [0, 2]  # the copy is never taken
    assert mmr(query, candidates, k=0) == []


async def test_an_empty_scope_or_query_returns_nothing(library: Library) -> None:
    ada = await student_scope(library.db)
    assert await library.ask(ada, "anything") == []
    assert await library.ask(ada, "   ") == []


async def add_vectors(db: Database, scope: Scope, name: str, vectors: list[np.ndarray]) -> int:
    """A ready material whose chunk i, with text "<name>.pdf i", has vectors[i]; its id."""
    async with db.session() as session:
        material = Material(
            scope_id=scope.id, filename=f"{name}.pdf", sha256=name[0] * 64, size_bytes=1,
            status=MaterialStatus.READY,
        )  # fmt: skip
        session.add(material)
        await session.flush()
        session.add_all(
            Chunk(
                material_id=material.id, ordinal=i, page_start=i + 1, page_end=i + 1,
                text=f"{name}.pdf {i}",
                embedding=normalise_rows(vector)[0].astype("<f4").tobytes(),
            )
            for i, vector in enumerate(vectors)
        )  # fmt: skip
        await bump_index_version(session, scope.id)
        return material.id


async def test_a_narrow_filter_still_finds_its_passages_beyond_the_nearest_candidates(
    db: Database, settings: Settings
) -> None:
    # Candidates are filtered by the database check; a material too small to appear among
    # the nearest candidates of the whole scope is searched on its own ids instead.
    rng = np.random.default_rng(7)
    ada = await student_scope(db)
    near = rng.normal(size=8).astype(np.float32)
    textbook = await add_vectors(
        db, ada, "textbook", [near + 0.1 * rng.normal(size=8) for _ in range(150)]
    )
    handout = await add_vectors(db, ada, "handout", [-near + 0.1 * rng.normal(size=8)] * 3)
    indexes = VectorIndexes(settings.data_dir, dim=8)
    query = normalise_rows(near)[0]
    async with db.session() as session:
        anywhere = await search_by_vector(
            session, indexes=indexes, scope_id=ada.id, vector=query, k=3
        )
        handout_only = await search_by_vector(
            session, indexes=indexes, scope_id=ada.id, vector=query, k=3,
            material_id=handout, diversify=False,
        )  # fmt: skip
    assert {hit.chunk.material_id for hit in anywhere} == {textbook}
    assert sorted(hit.chunk.text for hit in handout_only) == [f"handout.pdf {i}" for i in range(3)]


async def test_a_worker_with_a_cached_index_sees_another_workers_upload_and_deletion(
    db: Database, settings: Settings
) -> None:
    rng = np.random.default_rng(3)
    ada = await student_scope(db)
    topic = rng.normal(size=8).astype(np.float32)
    await add_vectors(db, ada, "old", [rng.normal(size=8) for _ in range(20)])
    first, second = (VectorIndexes(settings.data_dir / n, dim=8) for n in ("a", "b"))

    async def ask(indexes: VectorIndexes) -> list[str]:
        async with db.session() as session:
            hits = await search_by_vector(
                session, indexes=indexes, scope_id=ada.id, vector=normalise_rows(topic)[0], k=2
            )
        return [hit.chunk.text for hit in hits]

    assert all(text.startswith("old.pdf") for text in await ask(first))  # now cached
    new = await add_vectors(db, ada, "new", [topic, topic + 0.5 * rng.normal(size=8)])
    assert await ask(second) == await ask(first) == ["new.pdf 0", "new.pdf 1"]
    async with db.session() as session:
        await delete_material(session, material=await session.get(Material, new),
                              indexes=second, files=FileStore(settings.data_dir))  # fmt: skip
    assert all(text.startswith("old.pdf") for text in await ask(first))
