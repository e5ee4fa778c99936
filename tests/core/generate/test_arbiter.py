"""The arbiter end to end: the writer and the judge are both the real ChatOpenAI client
against the fake OpenAI-compatible server. What a judge's verdict does to what is stored,
and what the run records when the judge rejects, talks nonsense, or does not answer."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from core.generate import GenerationError
from core.generate.arbiter import ARBITER_PROMPT_VERSION
from storage.enums import RunStatus
from tests.core.generate.conftest import Library
from tests.core.generate.test_llm_generation import (
    MODEL,
    grounded,
    grounded_items,
    llm_settings,
    run,
    stored,
)
from tests.fakes.fake_openai import (
    Compose,
    FakeOpenAI,
    Hang,
    Reply,
    accept_all,
    item,
    verdicts,
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI().running() as server:
        yield server


def first_line(question_text: str) -> str:
    return question_text.splitlines()[0]


async def test_a_judge_that_rejects_keeps_items_out_and_the_run_counts_why(
    excerpt_library: Library, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In order: fine, two flaws with a low score, a flaw with a high score (a flaw caps
    # the score at 3, under the default threshold 4), fine, fine; then everything fine.
    decisions: Iterator[tuple[int, list[str]]] = iter(
        [(5, []), (2, ["F3", "F4"]), (5, ["F1"]), (4, []), (5, [])]
    )
    rejected: list[str] = []

    def judge(text: str) -> tuple[int, list[str]]:
        score, flaws = next(decisions, (5, []))
        if flaws:
            rejected.append(first_line(text))
        return score, flaws

    fake.play(grounded(5), grounded(5))
    fake.judge(verdicts(judge), verdicts(judge))
    settings = llm_settings(excerpt_library, fake, monkeypatch, arbiter=None)

    row = await run(excerpt_library, settings, 5)

    stems = [q.stem for q in await stored(excerpt_library)]
    assert len(rejected) == 2 and not set(rejected) & set(stems)
    # The two rejected places were filled from the writer's next batch.
    assert (row.status, row.inserted, row.generated) == (RunStatus.COMPLETED, 5, 7)
    assert row.rejected_by_rule == {
        "arbiter": 2, "arbiter:F1": 1, "arbiter:F3": 1, "arbiter:F4": 1,
    }  # fmt: skip
    assert (row.arbiter_judged, row.arbiter_error, row.api_calls) == (7, "", 4)
    assert (row.arbiter_model, row.arbiter_prompt_version, row.arbiter_threshold) == (
        MODEL, ARBITER_PROMPT_VERSION, 4.0,
    )  # fmt: skip
    # The judge saw the rubric, the sources and each item with its key, as structured output.
    request = fake.judge_requests[0]
    assert request["model"] == "fake-board-writer"
    assert request["response_format"]["json_schema"]["name"] == "mcq_verdicts"
    system, user = (m["content"] for m in request["messages"])
    assert all(f"F{i}:" in system for i in range(1, 10))
    assert "[S1]" in user and "[Q5]" in user and "Key: B" in user
    assert "Supporting sentence: " in user


async def test_the_judges_model_and_threshold_are_settings(
    excerpt_library: Library, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.play(grounded(3))
    fake.judge(accept_all(score=3))  # "one flaw a student would notice", but none listed
    settings = llm_settings(
        excerpt_library,
        fake,
        monkeypatch,
        arbiter="openai:fake-cheap-judge",
        ROUNDS_ARBITER_THRESHOLD="3",
    )

    row = await run(excerpt_library, settings, 3)

    assert (row.inserted, row.rejected_by_rule) == (3, {})
    assert (row.arbiter_model, row.arbiter_threshold) == ("openai:fake-cheap-judge", 3.0)
    assert [r["model"] for r in fake.judge_requests] == ["fake-cheap-judge"]
    assert [r["model"] for r in fake.requests] == ["fake-board-writer"]


async def test_the_same_verdicts_under_the_default_threshold_reject(
    excerpt_library: Library, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.play(grounded(3))
    fake.judge(accept_all(score=3))
    settings = llm_settings(excerpt_library, fake, monkeypatch, arbiter=None)

    with pytest.raises(GenerationError) as raised:
        await run(excerpt_library, settings, 3)

    failed = raised.value.run
    assert (failed.inserted, failed.rejected_by_rule) == (0, {"arbiter": 3})
    assert await stored(excerpt_library) == []


def with_a_rule_breaker(count: int) -> Compose:
    """A batch whose first item the rule validators reject ("None of the above")."""
    breaker = item(
        "Which of the following is described in the passage as the heart's pacemaker?",
        ["Left atrium", "Right ventricle", "Aortic valve", "Pulmonary trunk", "None of the above"],
        "E",
    )
    return Compose(lambda body: json.dumps({"questions": [breaker, *grounded_items(body, count)]}))


async def test_a_judge_that_returns_garbage_leaves_the_items_to_the_rules(
    excerpt_library: Library, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.play(with_a_rule_breaker(4), grounded(1))
    fake.judge(Reply("These all look fine to me!"), Reply('{"verdicts": [{"id": "Q1", "sc'))
    settings = llm_settings(excerpt_library, fake, monkeypatch, arbiter=None)

    row = await run(excerpt_library, settings, 5)

    questions = await stored(excerpt_library)
    # The student still gets the questions; the rules still rejected the rule-breaker.
    assert (row.status, row.inserted, len(questions)) == (RunStatus.COMPLETED, 5, 5)
    assert not any("pacemaker" in q.stem for q in questions)
    assert row.rejected_by_rule and not any(k.startswith("arbiter") for k in row.rejected_by_rule)
    assert row.arbiter_judged == 0
    assert row.arbiter_error == (
        "the arbiter's reply could not be read: 5 items judged by the rules alone"
    )
    # What the rules reject is not sent to the judge; a bad reply does not stop the judge.
    assert len(fake.judge_requests) == 2
    assert "pacemaker" not in fake.judge_requests[0]["messages"][-1]["content"]


async def test_a_judge_that_times_out_is_bounded_and_the_student_still_gets_questions(
    excerpt_library: Library, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.play(grounded(5), grounded(5))
    fake.judge(Hang(30), Hang(30))
    settings = llm_settings(
        excerpt_library, fake, monkeypatch, arbiter=None, ROUNDS_ARBITER_TIMEOUT_S="0.4"
    )
    started = time.monotonic()

    row = await run(excerpt_library, settings, 7)

    assert time.monotonic() - started < 10  # a judge left waiting would take 30 s
    assert (row.status, row.inserted, len(await stored(excerpt_library))) == (
        RunStatus.COMPLETED, 7, 7,
    )  # fmt: skip
    # One try, no client retries, and no second call after the time-out.
    assert len(fake.judge_requests) == 1
    assert row.arbiter_error == (
        "the arbiter failed (the model did not answer in time): 7 items judged by the rules alone"
    )
    assert (row.arbiter_judged, row.api_calls) == (0, 3)


async def test_an_arbiter_switched_off_is_not_called_and_not_recorded(
    excerpt_library: Library, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.play(grounded(2))
    settings = llm_settings(excerpt_library, fake, monkeypatch, arbiter="off")

    row = await run(excerpt_library, settings, 2)

    assert (row.inserted, row.api_calls, fake.judge_requests) == (2, 1, [])
    assert (row.arbiter_model, row.arbiter_prompt_version, row.arbiter_threshold) == ("", "", None)


@pytest.mark.slow
async def test_a_strict_judge_costs_calls_not_questions(
    library: Library, shared_data: Path, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    await library.add(shared_data / "ap2e_ch19_heart.pdf")  # enough passages for 4 calls
    # The first three batches are all rejected (more calls than a run without a judge may
    # make: one for the 5 asked, two spare); the fourth is accepted.
    fake.play(*(grounded(5) for _ in range(4)))
    fake.judge(*(verdicts(lambda _text: (2, ["F3"])) for _ in range(3)), accept_all())
    settings = llm_settings(library, fake, monkeypatch, arbiter=None)

    row = await run(library, settings, 5)

    assert (row.status, row.inserted, len(fake.requests)) == (RunStatus.COMPLETED, 5, 4)
    # Every item of the three rejected batches is counted, each under its flaw code.
    rejected = row.rejected_by_rule
    assert set(rejected) == {"arbiter", "arbiter:F3"}
    assert rejected["arbiter"] == rejected["arbiter:F3"] >= 3
