"""Question generation: retrieve -> prompt -> generator (LLM or offline) -> validate ->
dedupe -> shuffle -> store, counted in one generation_runs row.

`generate(...)` is the only entry point other rooms need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.generate.errors import GenerationError, NoMaterial, NothingOnTopic, ProviderUnavailable

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from core.adaptive import StudentLevel
    from core.settings import Settings
    from storage.models import GenerationRun

__all__ = [
    "GenerationError",
    "NoMaterial",
    "NothingOnTopic",
    "ProviderUnavailable",
    "generate",
]


async def generate(
    session: AsyncSession,
    *,
    scope_id: int,
    topic: str | None = None,
    material_id: int | None = None,
    n: int = 10,
    difficulty: int = 3,
    embedder: Any,
    indexes: Any,
    settings: Settings,
    requested_by: int | None = None,
    seed: int | None = None,
    level: StudentLevel | None = None,
) -> GenerationRun:
    """Generates up to `n` validated, de-duplicated questions into the scope.

    Stores each question (source_chunk_ids, source_pages, topic, difficulty, prompt_version,
    model, run_id) and returns the flushed generation_runs row with every stage count.
    Partial success returns the run with status PARTIAL and `error` set. Raises a
    `GenerationError` (a RoundsError) only when nothing at all could be produced.
    The offline generator is used when `settings.llm_model` is empty. `level` (the
    student's recent accuracy in the topic; None = unknown) tunes the LLM prompt.
    """
    from core.generate.pipeline import run_generation

    return await run_generation(
        session,
        scope_id=scope_id,
        topic=topic,
        material_id=material_id,
        n=n,
        difficulty=difficulty,
        embedder=embedder,
        indexes=indexes,
        settings=settings,
        requested_by=requested_by,
        seed=seed,
        level=level,
    )
