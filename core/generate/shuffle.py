"""Option order: decided by our code after validation, so the key's position is uniform.

Models put the key at "B" far too often; a seeded permutation per item removes any such
bias and keeps runs reproducible for a given seed. Positions are dealt from a shuffled bag
holding each position twice, so every stretch of a quiz uses each letter equally often (a
20-item quiz of 4 options has five keys at each letter) while no single key can be
foretold from the ones before it.
"""

from __future__ import annotations

import random

from core.generate.schema import DraftItem

# How often each position sits in the bag: more copies, less predictable, less even.
BAG_COPIES = 2


class KeyPositions:
    """Deals the key's position for each item of one run."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._bags: dict[int, list[int]] = {}

    def next(self, option_count: int) -> int:
        bag = self._bags.setdefault(option_count, [])
        if not bag:
            bag.extend(list(range(option_count)) * BAG_COPIES)
            self._rng.shuffle(bag)
        return bag.pop()


def shuffle_options(item: DraftItem, rng: random.Random, key_at: int | None = None) -> DraftItem:
    """The item with its options in a random order, the key at `key_at` when given (else
    wherever the permutation puts it), the key index following."""
    order = list(range(len(item.options)))
    rng.shuffle(order)
    if key_at is not None:
        here = order.index(item.correct_index)
        order[here], order[key_at] = order[key_at], order[here]
    options = tuple(item.options[i] for i in order)
    return item.with_options(options, order.index(item.correct_index))
