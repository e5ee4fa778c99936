"""One generation run: sources -> generator -> validate -> dedupe -> shuffle -> store.

A run has three phases so a background job holds no transaction while it thinks:
`read_sources` (a session), `write_questions` (no session: the generator, validation and
de-duplication against what was read), `save_run` (one short write). `run_generation` does
all three in the caller's session, for callers that already wait (tests, the eval).

Every stage is counted on the run's generation_runs row (requested, generated, parse
failures, rejections per rule, exact and semantic duplicates, inserted, API calls,
duration). Review-question chunks are never sources, and every stem is also checked
against them (validate.NOT_A_REVIEW_QUESTION), so the book's own questions are not copied.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.ext.asyncio import AsyncSession

from core.adaptive import StudentLevel
from core.generate.arbiter import ARBITER_PROMPT_VERSION, Arbiter
from core.generate.cases import clinical_items
from core.generate.dedupe import DuplicateGuard, answer_key
from core.generate.errors import (
    GenerationError,
    NoMaterial,
    NothingOnTopic,
    ProviderUnavailable,
)
from core.generate.facts import SourceChunk, read_material
from core.generate.flaws import FlawContext, flaw_context
from core.generate.llm import (
    ITEMS_PER_CALL,
    SOURCES_PER_CALL,
    LLMGenerator,
    learning_objectives,
    provider_of,
)
from core.generate.offline import (
    OFFLINE_MODEL,
    OFFLINE_PROMPT_VERSION,
    OfflineRequest,
    TermVectors,
    key_of,
    offline_items,
)
from core.generate.prompts import load_prompt
from core.generate.schema import DraftItem
from core.generate.shuffle import KeyPositions, shuffle_options
from core.generate.table_items import table_items
from core.generate.text import content_words, stem_hash
from core.generate.validate import (
    ValidationContext,
    failed_rules,
    review_texts_for,
)
from core.offload import WorkerContext
from core.readers.formats import page_unit
from core.settings import Settings
from storage.enums import ChunkKind, RunStatus
from storage.models import Chunk, GenerationRun, Question
from storage.repos import questions as question_repo
from storage.repos import runs as run_repo
from storage.types import utcnow

# The chunk kinds questions are written from (never the book's review questions).
SOURCE_KINDS = (ChunkKind.BODY, ChunkKind.KEY_TERMS, ChunkKind.SUMMARY)
MAX_QUESTIONS_PER_RUN = 50
# Offline candidates validated and embedded together.
CANDIDATE_BATCH = 16
# Retrieval for a topic: hits below this cosine are not about it.
MIN_TOPIC_SCORE = 0.2
TOPIC_HITS = 12
# A glossary entry this far from the topic (cosine) is not asked in a topic run.
MIN_FACT_RELEVANCE = 0.25
# LLM calls per run: one per batch of ITEMS_PER_CALL, plus room for rejected items.
EXTRA_LLM_CALLS = 2
# Stems sharing this share of meaningful words (Jaccard) may say the same thing.
RELATED_WORDING = 0.3
# A source passage shorter than this gives the model too little to ask about.
MIN_LLM_SOURCE_CHARS = 300


@dataclass
class _Tally:
    """Counts of one run, copied onto its row at the end."""

    generated: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    exact: int = 0
    semantic: int = 0
    inserted: int = 0


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def source_of(chunk: Chunk, unit: str = "page") -> SourceChunk:
    return SourceChunk(
        id=chunk.id,
        material_id=chunk.material_id,
        ordinal=chunk.ordinal,
        kind=chunk.kind,
        text=chunk.text,
        page_start=chunk.page_start,
        page_end=chunk.page_end,
        heading=chunk.heading,
        unit=unit,
    )


def _siblings(chunks: Sequence[SourceChunk]) -> dict[int, list[SourceChunk]]:
    """Each chunk's neighbours in reading order (they pin down a quote's page)."""
    ordered = sorted(chunks, key=lambda c: (c.material_id, c.ordinal))
    found: dict[int, list[SourceChunk]] = {}
    for i, chunk in enumerate(ordered):
        found[chunk.id] = [
            other
            for other in ordered[max(0, i - 1) : i + 2]
            if other.id != chunk.id and other.material_id == chunk.material_id
        ]
    return found


class _Run:
    """The mutable state of one run; `consider` takes candidates through every check."""

    def __init__(
        self,
        *,
        row: GenerationRun,
        n: int,
        embedder: Any,
        context: ValidationContext,
        stored: list[Question],
        topic: str,
        rng: random.Random,
        material_of: dict[int, int],
        known_hashes: set[str],
        chunk_vectors: dict[int, bytes],
        llm_slots: asyncio.Semaphore | None = None,
        progress: Callable[[int, int], Awaitable[None]] | None = None,
    ) -> None:
        self.row = row
        # Told (stored so far, wanted) after each batch: the student's status message.
        self.progress = progress
        self.n = n
        self.embedder = embedder
        self.context = context
        self.stored = stored
        self.topic = topic
        self.rng = rng
        self.key_positions = KeyPositions(rng)
        self.material_of = material_of
        # Read before the slow part: the scope's stem hashes and the chunks' embeddings.
        self.known_hashes = known_hashes
        self.chunk_vectors = chunk_vectors
        self.llm_slots = llm_slots
        # Questions that passed every check, written by `save_run` in one short transaction.
        self.new_questions: list[Question] = []
        self.tally = _Tally()
        self.guard = DuplicateGuard()
        self._stored_vectors: dict[int, NDArray[np.float32]] = {}

    @property
    def done(self) -> bool:
        return self.tally.inserted >= self.n

    def written(self) -> Written:
        return Written(self.row, self.new_questions, self.n)

    @contextlib.asynccontextmanager
    async def llm_slot(self) -> AsyncIterator[None]:
        """Holds one of the process's LLM-call slots (ROUNDS_MAX_LLM_CALLS) for one call."""
        if self.llm_slots is None:
            yield
            return
        async with self.llm_slots:
            yield

    async def consider(self, items: Sequence[DraftItem]) -> None:
        self.tally.generated += len(items)
        # Options the material does not define get a kind guessed from their embedding.
        options = [option for item in items for option in item.options]
        await self.context.flaws.lexicon.guess_unknown(options, self.embedder)
        valid: list[DraftItem] = []
        for item in items:
            failed = failed_rules(item, self.context)
            self.tally.rejected.update(failed)
            if not failed:
                valid.append(item)
        hashes = [stem_hash(item.stem) for item in valid]
        known = {digest for digest in hashes if digest in self.known_hashes}
        fresh: list[tuple[DraftItem, str]] = []
        for item, digest in zip(valid, hashes, strict=True):
            if digest in known or self.guard.is_exact(digest):
                self.tally.exact += 1
            else:
                fresh.append((item, digest))
                known.add(digest)  # a twin later in this batch is an exact duplicate
        if not fresh:
            return
        vectors = await self.embedder.embed([item.stem for item, _ in fresh])
        for position, ((item, digest), vector) in enumerate(zip(fresh, vectors, strict=True)):
            if self.done:
                # Good candidates beyond the n asked for were not needed: not counted.
                self.tally.generated -= len(fresh) - position
                return
            if self.guard.is_semantic(vector, await self._related_vectors(item)):
                self.tally.semantic += 1
                continue
            self.guard.keep(digest, vector)
            key_at = self.key_positions.next(len(item.options))
            await self._store(shuffle_options(item, self.rng, key_at), digest)
        if self.progress is not None:
            await self.progress(self.tally.inserted, self.n)

    async def _related_vectors(self, item: DraftItem) -> NDArray[np.float32]:
        """Stems of stored questions that might repeat `item`: the same answer, or the same
        chunk and overlapping wording (a glossary chunk is shared by dozens of items)."""
        chunks = set(item.source_chunk_ids)
        key = answer_key(item.key)
        words = set(content_words(item.stem))
        related = [
            q
            for q in self.stored
            if (
                0 <= q.correct_index < len(q.options)
                and answer_key(q.options[q.correct_index]) == key
            )
            or (
                chunks & set(q.source_chunk_ids or ())
                and _overlap(words, set(content_words(q.stem))) >= RELATED_WORDING
            )
        ]
        missing = [q for q in related if q.id not in self._stored_vectors]
        if missing:
            vectors = await self.embedder.embed([q.stem for q in missing])
            for question, vector in zip(missing, vectors, strict=True):
                self._stored_vectors[question.id] = vector
        if not related:
            return np.zeros((0, 1), dtype=np.float32)
        return np.vstack([self._stored_vectors[q.id] for q in related])

    async def _store(self, item: DraftItem, digest: str) -> None:
        first = item.source_chunk_ids[0] if item.source_chunk_ids else None
        question = Question(
            scope_id=self.row.scope_id,
            material_id=self.material_of.get(first) if first is not None else None,
            run_id=self.row.id,
            stem=item.stem,
            stem_hash=digest,
            options=list(item.options),
            correct_index=item.correct_index,
            explanation=item.explanation,
            topic=(self.topic or item.topic)[:255],
            difficulty=item.difficulty,
            source_chunk_ids=list(item.source_chunk_ids),
            source_pages=list(item.source_pages),
            prompt_version=self.row.prompt_version,
            model=self.row.model,
            flags=[*([item.kind] if item.kind else []), *item.flags],
        )
        self.new_questions.append(question)
        self.known_hashes.add(digest)
        self.tally.inserted += 1

    def finish(
        self,
        *,
        started: float,
        api_calls: int,
        parse_failures: int,
        error: str,
        now: datetime | None = None,
    ) -> None:
        row, tally = self.row, self.tally
        row.completed_at = now or utcnow()
        row.generated = tally.generated + parse_failures
        row.parse_failures = parse_failures
        row.rejected_by_rule = dict(sorted(tally.rejected.items()))
        row.exact_duplicates = tally.exact
        row.semantic_duplicates = tally.semantic
        row.inserted = tally.inserted
        row.api_calls = api_calls
        row.duration_ms = int((time.perf_counter() - started) * 1000)
        if tally.inserted >= self.n:
            row.status, row.error = RunStatus.COMPLETED, ""
        elif tally.inserted > 0:
            row.status = RunStatus.PARTIAL
            row.error = error or self._shortfall()
        else:
            row.status, row.error = RunStatus.FAILED, error or "No question passed the checks."

    def _shortfall(self) -> str:
        """Why a run wrote fewer than asked, in the student's terms: what was asked before
        counts, not only what the checks turned down."""
        earlier = len(self.stored)
        if earlier:
            return (
                f"This material has given {earlier} question{'s' if earlier != 1 else ''} "
                "before, and I do not repeat them; what is left of it I could not ask about "
                "well enough."
            )
        return "The material has no more facts I could ask about well enough."


def new_run(
    settings: Settings,
    *,
    scope_id: int,
    topic: str | None,
    material_id: int | None,
    n: int,
    difficulty: int,
    requested_by: int | None,
    triggered_by: str = "",
) -> GenerationRun:
    """A `running` generation_runs row for this request (not yet added to a session)."""
    use_llm = bool(settings.llm_model.strip())
    model = settings.llm_model.strip() if use_llm else OFFLINE_MODEL
    return GenerationRun(
        scope_id=scope_id,
        material_id=material_id,
        requested_by=requested_by,
        topic=(topic or "").strip()[:255],
        difficulty=max(1, min(5, difficulty)),
        status=RunStatus.RUNNING,
        generator="llm" if use_llm else "offline",
        provider=(provider_of(model) or "unknown") if use_llm else "rounds",
        model=model[:128],
        prompt_version=settings.prompt_version if use_llm else OFFLINE_PROMPT_VERSION,
        requested=max(1, min(MAX_QUESTIONS_PER_RUN, n)),
        triggered_by=triggered_by,
    )


@dataclass
class Sources:
    """Everything a run reads before its slow part; holds no session or connection."""

    usable: list[SourceChunk]
    sources: list[SourceChunk]
    material_chunks: list[SourceChunk]
    # The book's own question sections (never sources; items must not copy them).
    book_questions: list[str]
    relevance: dict[int, float] | None
    stored: list[Question]
    known_hashes: set[str]
    chunk_vectors: dict[int, bytes]


async def read_sources(
    session: AsyncSession,
    row: GenerationRun,
    *,
    embedder: Any,
    indexes: Any,
    settings: Settings,
) -> Sources:
    """Phase 1: the chunks, topic hits and stored questions a run needs. Raises NoMaterial or
    NothingOnTopic. Reads only."""
    topic, material_id = row.topic, row.material_id
    rows = await run_repo.source_chunks(
        session, row.scope_id, material_ids=[material_id] if material_id is not None else None
    )
    names = await run_repo.material_filenames(session, sorted({c.material_id for c in rows}))
    usable = [
        source_of(c, page_unit(names.get(c.material_id, "")))
        for c in rows
        if c.kind in SOURCE_KINDS
    ]
    if not usable:
        raise NoMaterial()
    book_questions = [c.text for c in rows if c.kind is ChunkKind.REVIEW_QUESTIONS]
    relevance: dict[int, float] | None = None
    if topic:
        relevance = await _topic_relevance(
            session, embedder, indexes, row.scope_id, topic, material_id
        )
        if not relevance:
            raise NothingOnTopic()
    sources = [c for c in usable if relevance is None or c.id in relevance]
    material_ids = sorted({c.material_id for c in sources})
    stored = await question_repo.questions_of_materials(session, row.scope_id, material_ids)
    use_llm = bool(settings.llm_model.strip())
    return Sources(
        usable=usable,
        sources=sources,
        material_chunks=[c for c in usable if c.material_id in set(material_ids)],
        book_questions=book_questions,
        relevance=relevance,
        stored=stored,
        known_hashes=await question_repo.stem_hashes_of_scope(session, row.scope_id),
        chunk_vectors=(
            await run_repo.chunk_vectors(session, [c.id for c in usable]) if use_llm else {}
        ),
    )


async def write_questions(
    row: GenerationRun,
    found: Sources,
    *,
    embedder: Any,
    settings: Settings,
    seed: int | None = None,
    llm_slots: asyncio.Semaphore | None = None,
    progress: Callable[[int, int], Awaitable[None]] | None = None,
    now: datetime | None = None,
    level: StudentLevel | None = None,
) -> _Run:
    """Phase 2, with no session: the generator's candidates through every check. The counts
    go onto `row`; the questions wait in `run.new_questions` for `save_run`."""
    started = time.perf_counter()
    n, difficulty, topic = row.requested, row.difficulty, row.topic
    seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
    use_llm = row.generator == "llm"
    usable, sources, relevance, stored = found.usable, found.sources, found.relevance, found.stored
    material_chunks = found.material_chunks
    # Reading the material's kinds is pure Python: in a worker thread, as the generator is.
    flaws = await asyncio.to_thread(flaw_context_of, material_chunks, found.book_questions)
    run = _Run(
        row=row,
        n=n,
        embedder=embedder,
        context=ValidationContext(
            min_options=5 if use_llm else 4,
            max_options=5,
            chunk_texts={c.id: c.text for c in usable},
            review_texts=review_texts_for(found.book_questions),
            flaws=flaws,
        ),
        stored=stored,
        topic=topic,
        rng=random.Random(f"shuffle:{seed}"),
        material_of={c.id: c.material_id for c in usable},
        known_hashes=set(found.known_hashes),
        chunk_vectors=found.chunk_vectors,
        llm_slots=llm_slots,
        progress=progress,
    )
    if use_llm:
        generator = LLMGenerator(
            settings,
            load_prompt(settings.prompt_version),
            siblings=_siblings(usable),
            level=level,
            objectives=learning_objectives(usable),
        )
        judge_calls = await _run_llm(run, generator, sources, relevance, difficulty, topic, seed)
        calls = generator.stats.api_calls + judge_calls
        failures = generator.stats.parse_failures
        error = f"Stopped early: {generator.stats.error}." if generator.stats.error else ""
    else:
        await _run_offline(
            run, material_chunks, sources, relevance, stored, difficulty, seed, topic
        )
        calls, failures, error = 0, 0, ""
    run.finish(started=started, api_calls=calls, parse_failures=failures, error=error, now=now)
    return run


@dataclass
class Written:
    """What the slow phase of a run produced: its counted row and the questions to store
    (plain data, so it can come back from a worker process)."""

    row: GenerationRun
    questions: list[Question]
    n: int


async def save_run(session: AsyncSession, written: Written) -> GenerationRun:
    """Phase 3, one short transaction: stores the new questions and the run's counts. A stem
    another run stored meanwhile counts as an exact duplicate."""
    row = written.row
    taken = await question_repo.existing_hashes(
        session, row.scope_id, {q.stem_hash for q in written.questions}
    )
    inserted = 0
    for question in written.questions:
        if question.stem_hash in taken:
            row.exact_duplicates += 1
            continue
        question.run_id = row.id
        session.add(question)
        inserted += 1
    row.inserted = inserted
    if row.inserted == 0 and row.status is not RunStatus.FAILED:
        row.status = RunStatus.FAILED
        row.error = row.error or "No question passed the checks."
    elif row.inserted < written.n and row.status is RunStatus.COMPLETED:
        row.status = RunStatus.PARTIAL
        row.error = f"Only {row.inserted} of {written.n} questions were new."
    saved = row if row in session else await session.get(GenerationRun, row.id)
    if saved is None:
        raise GenerationError(reason=f"run {row.id} is gone")
    if saved is not row:  # a background run: only its outcome is copied (not its status_ref)
        for name in _OUTCOME:
            setattr(saved, name, getattr(row, name))
    await session.flush()
    return saved


# The columns a run's slow phase fills in.
_OUTCOME = (
    "generated", "parse_failures", "rejected_by_rule", "exact_duplicates",
    "semantic_duplicates", "inserted", "api_calls", "duration_ms", "status", "error",
    "completed_at",
)  # fmt: skip


def raise_if_empty(row: GenerationRun) -> None:
    """The friendly error for a run that stored nothing (none when it stored any)."""
    if row.inserted > 0:
        return
    if row.generator == "llm" and row.error.startswith("Stopped early"):
        raise ProviderUnavailable(reason=row.error, run=row)
    raise GenerationError(
        "I could not write any new question from this material just now "
        "(everything I found was already asked, or did not pass my quality checks).",
        reason=row.error,
        run=row,
    )


async def run_generation(
    session: AsyncSession,
    *,
    scope_id: int,
    topic: str | None,
    material_id: int | None,
    n: int,
    difficulty: int,
    embedder: Any,
    indexes: Any,
    settings: Settings,
    requested_by: int | None,
    seed: int | None,
    triggered_by: str = "",
    level: StudentLevel | None = None,
) -> GenerationRun:
    """See `core.generate.generate`: the three phases in the caller's session."""
    row = new_run(
        settings, scope_id=scope_id, topic=topic, material_id=material_id, n=n,
        difficulty=difficulty, requested_by=requested_by, triggered_by=triggered_by,
    )  # fmt: skip
    found = await read_sources(session, row, embedder=embedder, indexes=indexes, settings=settings)
    await run_repo.start_run(session, row)
    run = await write_questions(
        row, found, embedder=embedder, settings=settings, seed=seed, level=level
    )
    row = await save_run(session, run.written())
    raise_if_empty(row)
    return row


async def write_offline(
    context: WorkerContext,
    row: GenerationRun,
    found: Sources,
    settings: Settings,
    level: StudentLevel | None,
) -> Written:
    """Phase 2 of an offline run off the event loop (core/offload.py): the generator is
    pure Python for seconds. Progress goes out as (stored, wanted) notes."""

    async def progress(done: int, total: int) -> None:
        context.tell((done, total))

    run = await write_questions(
        row, found, embedder=context.embedder, settings=settings, progress=progress, level=level
    )
    return run.written()


def flaw_context_of(material_chunks: list[SourceChunk], review_texts: list[str]) -> FlawContext:
    """What the flaw detectors know of the materials: their terms' kinds and fragments."""
    known = read_material(material_chunks, [])
    body = [c.text for c in material_chunks if c.kind is not ChunkKind.KEY_TERMS]
    return flaw_context(known.lexicon, body, review_texts)


async def _topic_relevance(
    session: AsyncSession,
    embedder: Any,
    indexes: Any,
    scope_id: int,
    topic: str,
    material_id: int | None,
) -> dict[int, float]:
    """Chunk id -> cosine with the topic, for the chunks retrieval finds about it."""
    from core.retrieve import retrieve

    hits = await retrieve(
        session,
        embedder=embedder,
        indexes=indexes,
        scope_id=scope_id,
        query=topic,
        k=TOPIC_HITS,
        material_id=material_id,
        kinds=SOURCE_KINDS,
        diversify=True,
    )
    return {h.chunk.id: float(h.score) for h in hits if h.score >= MIN_TOPIC_SCORE}


def _next_batch(batches: Iterator[list[DraftItem]]) -> list[DraftItem] | None:
    return next(batches, None)


def _batches(items: Iterator[DraftItem], size: int) -> Iterator[list[DraftItem]]:
    batch: list[DraftItem] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


async def _run_offline(
    run: _Run,
    material_chunks: list[SourceChunk],
    sources: list[SourceChunk],
    relevance: dict[int, float] | None,
    stored: list[Question],
    difficulty: int,
    seed: int,
    topic: str,
) -> None:
    # A topic run also looks at the glossaries: their entries are kept by relevance below.
    glossaries = [c for c in material_chunks if c.kind is ChunkKind.KEY_TERMS]
    # Reading facts and writing candidates is pure Python that runs for seconds: in a worker
    # thread, so the event loop (other students' clicks) is never stalled behind it.
    material = await asyncio.to_thread(read_material, material_chunks, [*sources, *glossaries])
    # One lexicon for the run: what the generator offers is what the validator judges.
    lexicon = run.context.flaws.lexicon
    await lexicon.guess_unknown([t.text for t in material.bank.terms], run.embedder)
    material = dataclasses.replace(material, lexicon=lexicon)
    source_ids = {c.id for c in sources}
    body = [c for c in material_chunks if c.kind is ChunkKind.BODY and c.id in source_ids]
    # Cases and treatments of disease sections before the glossary's recall items.
    cases = clinical_items(body, seed=seed, difficulty=difficulty)
    avoid = frozenset(
        key_of(q.options[q.correct_index]) for q in stored if 0 <= q.correct_index < len(q.options)
    )
    tables = table_items(body, seed=seed, difficulty=difficulty, avoid_keys=avoid)
    if not material.facts:
        for batch in _batches(itertools.chain(cases, tables), CANDIDATE_BATCH):
            await run.consider(batch)
            if run.done:
                return
        return
    names, full = zip(*(t.embedding_texts() for t in material.bank.terms), strict=True)
    # A term without a definition has one text for both; each distinct text is embedded once.
    unique = list(dict.fromkeys([*names, *full]))
    embedded = await run.embedder.embed(unique)
    row_of = {text: i for i, text in enumerate(unique)}
    vectors = TermVectors(
        embedded[[row_of[t] for t in names]], embedded[[row_of[t] for t in full]]
    )
    fact_relevance: list[float] | None = None
    facts = material.facts
    if relevance is not None:
        query = (await run.embedder.embed([topic]))[0]
        fact_relevance = []
        for fact in facts:
            if fact.kind in ("term", "definition"):
                score = float(vectors.full[fact.term] @ query)
            else:
                score = max(relevance.get(cid, 0.0) for cid in fact.chunk_ids)
            fact_relevance.append(score)
        keep = [i for i, score in enumerate(fact_relevance) if score >= MIN_FACT_RELEVANCE]
        material = dataclasses.replace(material, facts=tuple(facts[i] for i in keep))
        fact_relevance = [fact_relevance[i] for i in keep]
    request = OfflineRequest(
        difficulty=difficulty,
        seed=seed,
        avoid_keys=avoid,
        avoid_stems=frozenset(q.stem_hash for q in stored),
        relevance=fact_relevance,
    )
    # Application items first: a clinical chapter's cases are what board items look like.
    # Table rows take turns with the text's facts: a drug chapter keeps its drugs in tables.
    candidates = itertools.chain(
        cases, _alternate(offline_items(material, vectors, request), tables)
    )
    batches = _batches(candidates, CANDIDATE_BATCH)
    while True:
        next_batch: list[DraftItem] | None = await asyncio.to_thread(_next_batch, batches)
        if next_batch is None:
            return
        await run.consider(next_batch)
        if run.done:
            return


def _alternate(first: Iterator[DraftItem], second: Iterator[DraftItem]) -> Iterator[DraftItem]:
    for pair in itertools.zip_longest(first, second):
        yield from (item for item in pair if item is not None)


def _llm_contexts(
    sources: list[SourceChunk], relevance: dict[int, float] | None, seed: int
) -> list[list[SourceChunk]]:
    """Groups of source chunks, one group per call: the best topic hits first, or (without
    a topic) a seeded spread over the material in reading order."""
    pool = [c for c in sources if len(c.text) >= MIN_LLM_SOURCE_CHARS] or list(sources)
    if relevance is not None:
        pool.sort(key=lambda c: -relevance.get(c.id, 0.0))
    else:
        random.Random(f"contexts:{seed}").shuffle(pool)
    return [pool[i : i + SOURCES_PER_CALL] for i in range(0, len(pool), SOURCES_PER_CALL)]


async def _run_llm(
    run: _Run,
    generator: LLMGenerator,
    sources: list[SourceChunk],
    relevance: dict[int, float] | None,
    difficulty: int,
    topic: str,
    seed: int,
) -> int:
    """Writes, judges and considers batches until the run is done; returns the arbiter's
    calls (the writer counts its own). The arbiter's set-up and outcome go on the run row."""
    settings, row = generator.settings, run.row
    arbiter = Arbiter(settings) if settings.arbiter_model_name else None
    if arbiter is not None:
        row.arbiter_model = arbiter.model_name[:128]
        row.arbiter_prompt_version = ARBITER_PROMPT_VERSION
        row.arbiter_threshold = arbiter.threshold
    try:
        await _write_batches(run, generator, arbiter, sources, relevance, difficulty, topic, seed)
    finally:
        if arbiter is not None:
            row.arbiter_judged = arbiter.stats.judged
            row.arbiter_error = arbiter.stats.error
    return arbiter.stats.calls if arbiter is not None else 0


async def _write_batches(
    run: _Run,
    generator: LLMGenerator,
    arbiter: Arbiter | None,
    sources: list[SourceChunk],
    relevance: dict[int, float] | None,
    difficulty: int,
    topic: str,
    seed: int,
) -> None:
    contexts = _llm_contexts(sources, relevance, seed)
    needed = -(-run.n // ITEMS_PER_CALL)
    for calls, group in enumerate(contexts):
        # Every batch's worth of items the arbiter drops buys one more call (at most as many
        # as the run needs), so a strict judge costs calls, not questions. Rule rejections
        # are covered by EXTRA_LLM_CALLS, as before the arbiter.
        refill = -(-run.tally.rejected["arbiter"] // ITEMS_PER_CALL)
        if calls >= needed + EXTRA_LLM_CALLS + min(refill, needed):
            return
        if run.done or generator.failed:
            return
        count = min(ITEMS_PER_CALL, run.n - run.tally.inserted)
        async with run.llm_slot():
            drafts = await generator.write(group, count=count, difficulty=difficulty, topic=topic)
        if drafts:
            drafts = await _with_support_similarity(run, drafts)
            if arbiter is not None:
                drafts = await _judged(run, arbiter, drafts, group)
            await run.consider(drafts)


async def _judged(
    run: _Run, arbiter: Arbiter, drafts: list[DraftItem], group: list[SourceChunk]
) -> list[DraftItem]:
    """The drafts the arbiter does not reject; those it rejects are counted on the run as
    "arbiter" and "arbiter:<code>". Drafts the rules already reject are not sent to it."""
    to_judge = [i for i, draft in enumerate(drafts) if not failed_rules(draft, run.context)]
    verdicts = await arbiter.judge([drafts[i] for i in to_judge], group)
    dropped: set[int] = set()
    for i, verdict in zip(to_judge, verdicts, strict=True):
        if verdict is not None and not arbiter.accepts(verdict):
            dropped.add(i)
            run.tally.generated += 1
            run.tally.rejected["arbiter"] += 1
            run.tally.rejected.update(f"arbiter:{code}" for code in verdict.flaws)
    return [draft for i, draft in enumerate(drafts) if i not in dropped]


async def _with_support_similarity(run: _Run, drafts: list[DraftItem]) -> list[DraftItem]:
    """Adds the cosine of "stem + key" with the cited chunks' stored embeddings, so an
    answer the source implies without naming it can still count as supported."""
    from dataclasses import replace

    chunk_ids = sorted({cid for d in drafts for cid in d.source_chunk_ids})
    stored = {cid: run.chunk_vectors[cid] for cid in chunk_ids if cid in run.chunk_vectors}
    if not stored:
        return drafts
    statements = await run.embedder.embed([f"{d.stem} {d.key}" for d in drafts])
    result = []
    for draft, statement in zip(drafts, statements, strict=True):
        scores = [
            float(np.frombuffer(stored[cid], dtype=np.float32) @ statement)
            for cid in draft.source_chunk_ids
            if cid in stored and len(stored[cid]) == statement.nbytes
        ]
        result.append(replace(draft, support_similarity=max(scores)) if scores else draft)
    return result
