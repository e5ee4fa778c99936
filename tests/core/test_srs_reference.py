"""core/srs.py against the `supermemo2` package: the published SM-2, replayed on 2,000
random grade sequences, must give the same ease factor, interval and repetitions after
every grade."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import supermemo2

from core.srs import new_card, review

SEQUENCES = 2_000
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_core_srs_follows_the_published_sm2_on_random_grade_sequences() -> None:
    rng = random.Random(18)
    differing: list[tuple[list[int], int]] = []
    for _ in range(SEQUENCES):
        grades = [rng.randint(0, 5) for _ in range(rng.randint(1, 14))]
        ours = new_card(START)
        easiness, interval, repetitions = 2.5, 0, 0
        now = START
        for step, grade in enumerate(grades):
            ours, _ = review(ours, grade, now=now)
            reference = supermemo2.review(grade, easiness, interval, repetitions, now)
            easiness = reference["easiness"]
            interval = reference["interval"]
            repetitions = reference["repetitions"]
            if (ours.ease_factor, ours.interval_days, ours.repetitions) != (
                easiness,
                interval,
                repetitions,
            ):
                differing.append((grades, step))
                break
            now += timedelta(days=interval)
    assert differing == [], f"{len(differing)} sequences drift, first {differing[:1]}"


def test_a_fractional_interval_rounds_up_as_published() -> None:
    # Two perfect answers raise EF to 2.7; then 6 x 2.7 = 16.2 days: the published rule
    # waits 17, rounding to nearest said 16.
    card = new_card(START)
    for grade in (5, 5):
        card, _ = review(card, grade, now=START)
    card, _ = review(card, 3, now=START)
    assert card.interval_days == 17
    reference = supermemo2.review(3, 2.7, 6, 2, START)
    assert reference["interval"] == 17
