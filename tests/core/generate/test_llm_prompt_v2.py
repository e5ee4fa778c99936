"""Prompt v2 as the model receives it (through the real client and the fake server): the
sources' subtopics, the student's level, the item-writing rules and two worked examples;
v1 stays selectable; each item's recall/application label is kept on the question."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import ValidationError

from core.adaptive import StudentLevel
from core.generate.facts import SourceChunk
from core.generate.llm import learning_objectives, teaching_points_of
from core.settings import Settings
from storage.enums import ChunkKind
from tests.core.generate.conftest import Library
from tests.core.generate.test_llm_generation import grounded_items, llm_settings, run, stored
from tests.fakes.fake_openai import Compose, FakeOpenAI


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI().running() as server:
        yield server


def labelled(count: int) -> Compose:
    """Grounded items, every other one labelled application by the model."""

    def build(body: dict[str, Any]) -> str:
        items = grounded_items(body, count)
        for i, one in enumerate(items):
            one["level"] = "Application" if i % 2 else "recall"
        return json.dumps({"questions": items})

    return Compose(build)


def messages_of(body: dict[str, Any]) -> tuple[str, str]:
    system, user = (m["content"] for m in body["messages"])
    return system, user


async def test_v2_tells_the_writer_the_subtopics_the_students_level_and_the_rules(
    excerpt_library: Library, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.play(labelled(4))
    settings = llm_settings(excerpt_library, fake, monkeypatch)

    row = await run(excerpt_library, settings, 4, level=StudentLevel(answered=8, accuracy=0.375))

    system, user = messages_of(fake.requests[0])
    assert "struggling (3 of their last 8 answers in this topic were right)" in user
    subtopics = next(line for line in user.splitlines() if line.startswith("Subtopics in"))
    assert subtopics != "Subtopics in these sources: (none named)"
    # The section's own learning objectives are its teaching points.
    points = next(line for line in user.splitlines() if line.startswith("Teaching points"))
    assert "Describe the embryological development of heart structures" in points
    assert "Relate fetal heart structures to adult counterparts" in points
    for rule in (
        "of the key's own kind",
        "fill-in-the-blank",
        "reappears only in the key",
        "review, fill-in-the-blank, multiple-choice",
        "write application items",
        "Example 1 (application)",
        "Example 2 (application)",
    ):
        assert rule in system
    schema = fake.requests[0]["response_format"]["json_schema"]["schema"]
    fields = schema["properties"]["questions"]["items"]["properties"]
    assert fields["level"]["enum"] == ["recall", "application"] and "teaching_point" in fields
    # The model's labels are kept on the questions, as the offline generator's will be.
    questions = await stored(excerpt_library)
    assert row.prompt_version == "mcq_v2" and {q.prompt_version for q in questions} == {"mcq_v2"}
    assert sorted(q.flags[-1] for q in questions) == ["application"] * 2 + ["recall"] * 2


async def test_a_student_with_no_answers_yet_is_described_as_new(
    excerpt_library: Library, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.play(labelled(1), labelled(1))
    settings = llm_settings(excerpt_library, fake, monkeypatch)

    await run(excerpt_library, settings, 1)
    # Another seed: other passages, so the second question is not a repeat of the first.
    await run(excerpt_library, settings, 1, seed=7, level=StudentLevel(answered=8, accuracy=0.875))

    assert "Student: no recent answers in this topic yet" in messages_of(fake.requests[0])[1]
    assert "Student: strong (7 of their last 8" in messages_of(fake.requests[1])[1]


async def test_v1_stays_selectable_and_is_recorded(
    excerpt_library: Library, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.play(labelled(2))
    settings = llm_settings(excerpt_library, fake, monkeypatch, ROUNDS_PROMPT_VERSION="mcq_v1")

    row = await run(excerpt_library, settings, 2)

    system, _ = messages_of(fake.requests[0])
    assert "Example 1" not in system and "Follow NBME item-writing rules" in system
    questions = await stored(excerpt_library)
    assert row.prompt_version == "mcq_v1" and {q.prompt_version for q in questions} == {"mcq_v1"}


def test_an_unknown_prompt_version_is_refused_at_start_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ROUNDS_PROMPT_VERSION", "mcq_v9")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)  # type: ignore[call-arg]


def chunk(text: str, heading: str, chunk_id: int = 1) -> SourceChunk:
    return SourceChunk(
        id=chunk_id, material_id=1, ordinal=chunk_id, kind=ChunkKind.BODY, text=text,
        page_start=1, page_end=1, heading=heading,
    )  # fmt: skip


def test_teaching_points_are_the_sections_objectives_with_wrapped_bullets_rejoined() -> None:
    opening = chunk(
        "Learning Objectives\nBy the end of this section, you will be able to:\n"
        "• Identify the most common bacteria that can cause infections of the GI\n"
        "tract\n• Compare the major characteristics of specific bacterial diseases\n"
        "A wide range of gastrointestinal diseases are caused by bacterial contamination.",
        "24.3 Bacterial Infections",
    )
    later = chunk("Cholera is spread by water.", "24.3 Bacterial Infections › Cholera", 2)
    elsewhere = chunk("Rotavirus infects children.", "24.4 Viral Infections › Rotavirus", 3)

    objectives = learning_objectives([opening, later, elsewhere])

    assert objectives == {
        "24.3 Bacterial Infections": (
            "Identify the most common bacteria that can cause infections of the GI tract",
            "Compare the major characteristics of specific bacterial diseases",
        )
    }
    assert teaching_points_of([later], objectives).startswith("Identify the most common")
    assert teaching_points_of([elsewhere], objectives).startswith("(none stated")
