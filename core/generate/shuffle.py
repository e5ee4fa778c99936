"""Option order: decided by our code after validation, so the key's position is uniform.

Models put the key at "B" far too often; a seeded permutation per item removes any such
bias and keeps runs reproducible for a given seed.
"""

from __future__ import annotations

import random

from core.generate.schema import DraftItem


def shuffle_options(item: DraftItem, rng: random.Random) -> DraftItem:
    """The item with its options in a uniformly random order, the key index following."""
    order = list(range(len(item.options)))
    rng.shuffle(order)
    options = tuple(item.options[i] for i in order)
    return item.with_options(options, order.index(item.correct_index))
