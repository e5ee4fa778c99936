"""The LLM generator end to end: the real ChatOpenAI (via init_chat_model) against a fake
OpenAI-compatible server, through OPENAI_BASE_URL. What is stored, and what the run counts."""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from core.generate import GenerationError, ProviderUnavailable, generate
from core.generate.arbiter import ARBITER_PROMPT_VERSION
from core.generate.prompts import PROMPT_VERSION
from core.generate.text import word_list
from core.settings import Settings
from storage.enums import RunStatus
from storage.models import GenerationRun, Question
from tests.core.generate.conftest import Library
from tests.fakes.fake_openai import (
    Compose,
    FakeOpenAI,
    Hang,
    Reply,
    accept_all,
    batch,
    item,
    rate_limited,
    sources_of,
)

MODEL = "openai:fake-board-writer"


# Verbs a careful writer may blank: options of one kind (actions), none a term of the notes.
VERBS = word_list(
    """
    develops becomes forms divides fuses migrates receives carries produces connects
    supplies returns pumps prevents allows includes surrounds separates begins contains
    develop become form divide fuse migrate receive carry produce connect supply return
    pump prevent allow include surround separate begin contain causes leads results
    occurs reduces requires provides helps drains flows enters leaves cause lead result
    occur reduce require provide help drain flow enter leave
    """
)


def grounded_items(body: dict[str, Any], count: int, *, answer: str = "B") -> list[dict]:
    """Items a careful model could write from the request's own sources: a sentence of a
    source quoted with its verb blanked; the verb is the key, other verbs of the same form
    and length the distractors (every option an action, none a term of the notes)."""
    found: list[dict] = []
    for number, source in enumerate(sources_of(body), start=1):
        sentences = [s for s in re.split(r"(?<=\.)\s+", " ".join(source.split()))]
        for sentence in sentences:
            if len(found) >= count:
                return found
            words = re.findall(r"[a-z]+", sentence.lower())
            # A verb whose stem the sentence uses elsewhere ("increased") would cue the key.
            present = [
                v for v in VERBS if v in words and sum(w.startswith(v[:5]) for w in words) == 1
            ]
            if len(sentence.split()) < 10 or not present or "(" in sentence:
                continue
            key = present[0]
            form = key.endswith("s")
            others = [v for v in VERBS if v not in words and v.endswith("s") == form]
            others.sort(key=lambda v: (abs(len(v) - len(key)), v))
            options = others[:4]
            options.insert("ABCDE".index(answer), key)
            blanked = re.sub(rf"\b{key}\b", "________", sentence, count=1, flags=re.I)
            found.append(
                item(
                    f'Which word completes this statement from your notes: "{blanked}"?',
                    options,
                    answer,
                    explanation=f"The passage says: {sentence} The other words do not fit.",
                    source_id=f"S{number}",
                    support_quote=sentence,
                )
            )
    return found


def grounded(count: int, *, answer: str = "B", extra: list[dict] | None = None) -> Compose:
    def build(body: dict[str, Any]) -> str:
        return json.dumps(
            {"questions": grounded_items(body, count, answer=answer) + (extra or [])}
        )

    return Compose(build)


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI().running() as server:
        yield server


def llm_settings(
    library: Library,
    fake: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
    timeout: float = 20,
    *,
    arbiter: str | None = "off",
    **env: str,
) -> Settings:
    """Settings for a run against the fake. The writer's tests switch the arbiter off unless
    they ask for it (arbiter=None: the default, the writer's own model judges)."""
    # The environment names are the contract: the client finds the fake via OPENAI_BASE_URL.
    monkeypatch.setenv("ROUNDS_LLM_MODEL", MODEL)
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-secret")
    monkeypatch.setenv("ROUNDS_LLM_TIMEOUT_S", str(timeout))
    if arbiter is not None:
        monkeypatch.setenv("ROUNDS_ARBITER_MODEL", arbiter)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None, data_dir=library.settings.data_dir)  # type: ignore[call-arg]


async def run(library: Library, settings: Settings, n: int, **kwargs: Any) -> GenerationRun:
    async with library.db.session() as session:
        return await generate(
            session,
            scope_id=library.scope.id,
            n=n,
            embedder=library.embedder,
            indexes=library.indexes,
            settings=settings,
            requested_by=library.user_id,
            seed=kwargs.pop("seed", 1),
            **kwargs,
        )


async def stored(library: Library) -> list[Question]:
    async with library.db.session() as session:
        return list(await session.scalars(select(Question).order_by(Question.id)))


async def test_valid_items_are_stored_with_their_source_and_the_run_counts_them(
    excerpt_library: Library, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.play(grounded(5))
    fake.judge(accept_all())
    # The default configuration: prompt v2, the writer's own model as the arbiter.
    settings = llm_settings(excerpt_library, fake, monkeypatch, arbiter=None)

    row = await run(excerpt_library, settings, 5, difficulty=4)

    questions = await stored(excerpt_library)
    assert (row.status, row.requested, row.generated, row.inserted) == (
        RunStatus.COMPLETED, 5, 5, 5,
    )  # fmt: skip
    # One call wrote the batch, one judged it.
    assert (row.api_calls, row.parse_failures, row.rejected_by_rule) == (2, 0, {})
    assert (row.generator, row.provider, row.model) == ("llm", "openai", MODEL)
    assert row.prompt_version == PROMPT_VERSION == "mcq_v2"
    assert (row.arbiter_model, row.arbiter_prompt_version, row.arbiter_threshold) == (
        MODEL, ARBITER_PROMPT_VERSION, 4.0,
    )  # fmt: skip
    assert (row.arbiter_judged, row.arbiter_error) == (5, "")
    for question in questions:
        assert question.run_id == row.id and question.model == MODEL
        assert question.prompt_version == "mcq_v2" and question.difficulty == 4
        assert question.flags == ["llm", "recall"]
        assert len(question.options) == 5 and question.source_chunk_ids
        assert question.source_pages and all(1 <= p <= 4 for p in question.source_pages)
    # The real client sent our pydantic schema as the structured-output format.
    request = fake.requests[0]
    assert request["model"] == "fake-board-writer"
    assert request["response_format"]["type"] == "json_schema"
    schema = request["response_format"]["json_schema"]
    assert schema["name"] == "mcq_batch" and schema["strict"] is True
    assert "options" in schema["schema"]["properties"]["questions"]["items"]["properties"]


async def test_keys_are_shuffled_by_our_code_not_left_where_the_model_put_them(
    excerpt_library: Library, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every item the model writes has its key at "B", as real models too often do.
    fake.play(*(grounded(5, answer="B") for _ in range(4)))
    settings = llm_settings(excerpt_library, fake, monkeypatch)

    await run(excerpt_library, settings, 20)

    positions = [q.correct_index for q in await stored(excerpt_library)]
    assert len(positions) >= 10
    assert positions.count(1) / len(positions) < 0.5
    assert len(set(positions)) >= 4


async def test_malformed_json_is_repaired_by_one_more_call(
    excerpt_library: Library, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.play(Reply('{"questions": [{"stem": "Which of'), grounded(3))
    settings = llm_settings(excerpt_library, fake, monkeypatch)

    row = await run(excerpt_library, settings, 3)

    assert (row.status, row.inserted, row.parse_failures, row.api_calls) == (
        RunStatus.COMPLETED, 3, 1, 2,
    )  # fmt: skip
    repair = fake.requests[1]["messages"]
    assert repair[-2]["role"] == "assistant" and repair[-2]["content"].startswith('{"questions"')
    assert "could not be used" in repair[-1]["content"]


async def test_broken_items_are_counted_never_stored_and_good_ones_in_the_batch_survive(
    excerpt_library: Library, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    five = ["alpha option", "beta option", "gamma option", "delta option", "epsilon option"]
    broken = [
        item("Which has three options?", five[:3]),
        item("Which has two keys?", five, answer="B, D"),
        item("Which key is out of range?", five, answer="F"),
        item("Which has no explanation?", five, explanation="  "),
    ]
    # The repair call returns the same broken items again: they stay failures. The run then
    # asks for more and finds the server failing (the script is over): a partial result.
    fake.play(grounded(2, extra=broken), batch(*broken))
    settings = llm_settings(excerpt_library, fake, monkeypatch)

    row = await run(excerpt_library, settings, 5)

    questions = await stored(excerpt_library)
    assert row.status is RunStatus.PARTIAL and row.error
    assert (row.inserted, row.parse_failures, row.api_calls) == (2, 8, 3)
    assert all(len(q.options) == 5 and q.explanation.strip() for q in questions)
    assert not any(q.stem.startswith("Which has") for q in questions)


async def test_duplicates_are_caught_exactly_and_by_meaning(
    excerpt_library: Library, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    remembered: list[dict] = []

    def twice_and_reworded(body: dict[str, Any]) -> str:
        # Always the same question (from the first request's sources), twice and reworded.
        remembered[:] = remembered or grounded_items(body, 1)
        first = remembered[0]
        stem = first["stem"].replace("Which word completes", "What word best completes")
        return json.dumps({"questions": [first, dict(first), dict(first, stem=stem)]})

    fake.play(Compose(twice_and_reworded))
    settings = llm_settings(excerpt_library, fake, monkeypatch)
    row = await run(excerpt_library, settings, 3)
    assert (row.inserted, row.exact_duplicates, row.semantic_duplicates) == (1, 1, 1)

    # The same question again in a later run (every call of it) duplicates the stored one.
    fake.play(*[Compose(twice_and_reworded)] * 3)
    with pytest.raises(GenerationError) as raised:
        await run(excerpt_library, settings, 1)
    assert "could not write any new question" in raised.value.user_message
    assert len(await stored(excerpt_library)) == 1


async def test_a_429_is_retried_by_the_client_and_then_succeeds(
    excerpt_library: Library, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.play(rate_limited(retry_after_ms=20), grounded(2))
    settings = llm_settings(excerpt_library, fake, monkeypatch)

    row = await run(excerpt_library, settings, 2)

    assert (row.status, row.inserted, row.api_calls) == (RunStatus.COMPLETED, 2, 1)
    assert len(fake.requests) == 2  # the client's own retry after Retry-After


async def test_a_timeout_gives_a_clear_message_and_stores_nothing(
    excerpt_library: Library, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.play(Hang(5), Hang(5), Hang(5))
    settings = llm_settings(excerpt_library, fake, monkeypatch, timeout=0.3)
    started = time.monotonic()

    with pytest.raises(ProviderUnavailable) as raised:
        await run(excerpt_library, settings, 5)

    assert time.monotonic() - started < 8
    assert "not answering" in raised.value.user_message
    assert "did not answer in time" in raised.value.reason
    assert await stored(excerpt_library) == []


async def test_provider_failure_after_some_items_returns_a_partial_run(
    excerpt_library: Library, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.play(grounded(5), Hang(5), Hang(5), Hang(5))
    settings = llm_settings(excerpt_library, fake, monkeypatch, timeout=0.3)

    row = await run(excerpt_library, settings, 10)

    assert (row.status, row.inserted, row.api_calls) == (RunStatus.PARTIAL, 5, 2)
    assert "did not answer in time" in row.error
    async with excerpt_library.db.session() as session:
        count = await session.scalar(select(func.count(Question.id)))
    assert count == 5
