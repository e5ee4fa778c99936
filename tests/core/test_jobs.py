"""The in-process job queue: a fixed number of slots, first come first served, and every
waiting job told its place as the line moves."""

from __future__ import annotations

import asyncio

import pytest

from core.jobs import JobQueue


async def test_jobs_beyond_the_slots_wait_in_order_and_hear_their_place() -> None:
    queue = JobQueue(slots=1)
    gates = {name: asyncio.Event() for name in "abc"}
    started: list[str] = []
    b_started = asyncio.Event()
    places: dict[str, list[int]] = {"b": [], "c": []}

    def job(name: str):  # type: ignore[no-untyped-def]
        async def work() -> None:
            started.append(name)
            if name == "b":
                b_started.set()
            await gates[name].wait()

        return work

    async def heard(name: str, ahead: int) -> None:
        places[name].append(ahead)

    assert queue.submit("a", job("a")) == 0
    assert queue.would_wait() == 1
    assert queue.submit("b", job("b"), moved=lambda n: heard("b", n)) == 1
    assert queue.submit("c", job("c"), moved=lambda n: heard("c", n)) == 2
    await asyncio.sleep(0)
    assert started == ["a"] and queue.ahead_of("c") == 2
    gates["a"].set()
    await b_started.wait()
    assert queue.ahead_of("b") == 0 and queue.ahead_of("c") == 1
    gates["b"].set()
    gates["c"].set()
    await queue.idle()
    assert started == ["a", "b", "c"]
    assert places == {"b": [], "c": [1]}
    assert not queue.busy


async def test_a_failing_job_frees_its_slot_and_the_same_key_cannot_queue_twice() -> None:
    queue = JobQueue(slots=1)

    async def broken() -> None:
        raise RuntimeError("boom")

    ran: list[str] = []

    async def fine() -> None:
        ran.append("fine")

    queue.submit("x", broken)
    with pytest.raises(ValueError):
        queue.submit("x", fine)
    queue.submit("y", fine)
    await queue.idle()
    assert ran == ["fine"]
