"""A student's /quiz reaches the LLM writer with their level: the router, the study loop and
the generator together, against the fake OpenAI-compatible server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.core.generate.conftest import Library
from tests.core.generate.test_llm_generation import grounded, llm_settings
from tests.fakes.fake_openai import FakeOpenAI
from tests.study_seed import Clock, Student, router_for


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI().running() as server:
        yield server


def student_prompt(body: dict) -> str:
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    return next(line for line in user.splitlines() if line.startswith("Student: "))


async def test_the_writer_is_told_how_the_student_has_been_doing(
    excerpt_library: Library, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = llm_settings(excerpt_library, fake, monkeypatch)
    clock = Clock()
    router = router_for(
        settings, excerpt_library.db, clock,
        embedder=excerpt_library.embedder, indexes=excerpt_library.indexes,
    )  # fmt: skip
    # The library's owner: the same console user, so the same scope and material.
    student = Student(router, clock, external_id="student-1")
    fake.play(grounded(4), grounded(4), grounded(4))

    replies = await student.say("/quiz 4")
    right = 0
    for _ in range(4):
        question = next(r for r in reversed(replies) if r.track and r.flat_buttons)
        clock.tick(5)
        (confidence,) = await student.click(question.flat_buttons[0].payload)
        reveal, *replies = await student.click(confidence.flat_buttons[2].payload)
        right += reveal.title.startswith("Correct")
    await student.say("/quiz 2")  # nothing unseen is left: new questions are written

    assert len(fake.requests) >= 2
    assert student_prompt(fake.requests[0]).startswith("Student: no recent answers")
    # The last call is the one /quiz 2 made, after the four answers.
    assert f"{right} of their last 4 answers" in student_prompt(fake.requests[-1])
