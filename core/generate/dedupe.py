"""Duplicate questions: exact (normalised-stem hash), then semantic (stem embeddings).

Semantic comparison is against the questions of this run and those stored questions of the
scope that could repeat a candidate: ones citing one of its chunks or having the same
answer. Stems about other chunks with other answers are different questions, and leaving
them out keeps a run from embedding the scope's whole question bank every time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from core.generate.text import normalise

# Cosine of two stems (all-MiniLM-L6-v2) above which they ask the same thing. Distinct
# MedQA items score well below it; reworded copies of one item score above it.
SEMANTIC_DUPLICATE = 0.9


@dataclass
class DuplicateGuard:
    """Remembers stems (hashes and vectors) seen so far in one run."""

    hashes: set[str] = field(default_factory=set)
    vectors: list[NDArray[np.float32]] = field(default_factory=list)

    def is_exact(self, stem_hash: str) -> bool:
        return stem_hash in self.hashes

    def is_semantic(self, vector: NDArray[np.float32], others: NDArray[np.float32]) -> bool:
        """Whether `vector` is too close to a kept stem or to any row of `others`."""
        pool = [others] if len(others) else []
        if self.vectors:
            pool.append(np.vstack(self.vectors))
        return any(float(np.max(block @ vector)) >= SEMANTIC_DUPLICATE for block in pool)

    def keep(self, stem_hash: str, vector: NDArray[np.float32] | None) -> None:
        self.hashes.add(stem_hash)
        if vector is not None:
            self.vectors.append(vector)


def answer_key(option: str) -> str:
    """How two answers are compared when looking for repeat questions."""
    return normalise(option)
