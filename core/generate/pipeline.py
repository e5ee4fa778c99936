"""The generation pipeline (work in progress: the interface in __init__ is final)."""

from __future__ import annotations

from typing import Any

from core.generate.errors import GenerationError


async def run_generation(session: Any, **kwargs: Any) -> Any:
    raise GenerationError("Question generation is not ready yet.", reason="not_implemented")
