"""Keeping a worker process's resident memory near what it really holds (glibc's malloc).

Encoding a batch allocates and frees tensors of tens of MB. glibc serves a freed block of
that size again from the heap instead of returning it (its mmap threshold grows with each
one freed), so the process keeps its peak for good; fixing the threshold sends such blocks
back to the system on free. What a long job left freed on the heap is returned at its end.
Elsewhere than glibc (musl, macOS) both are no-ops.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
from typing import Any

log = logging.getLogger(__name__)

# mallopt's parameter number for the mmap threshold (<malloc.h>), and the value set: blocks
# from 64 KiB up get their own mapping (glibc's own default before it starts to grow).
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 64 * 1024


def _libc() -> Any:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


def map_large_blocks() -> bool:
    """Large allocations get their own mappings from now on, given back when freed."""
    libc = _libc()
    if libc is None:
        return False
    return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))


def give_back_freed_memory() -> bool:
    """Collects garbage and returns the heap's free pages to the system."""
    gc.collect()
    libc = _libc()
    if libc is None:
        return False
    return bool(libc.malloc_trim(0))
