"""The arbiter: a second, cheap model call that scores drafted LLM items against the
item-writing rubric (F1-F9 of data/quality/README.md) before they are stored.

One call judges one generator batch. Each verdict has a reason, flaw codes and a score
from 1 to 5; an item scoring under ROUNDS_ARBITER_THRESHOLD is rejected (any flaw caps the
score at FLAWED_SCORE_CAP). The arbiter is an extra check, never a gate on availability:
a reply that cannot be read leaves that batch to the rule validators alone, and a
time-out or provider error (bounded by ROUNDS_ARBITER_TIMEOUT_S, no client retries) stops
the arbiter for the rest of the run. Both are reported in `ArbiterStats.error`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.generate.facts import SourceChunk
from core.generate.llm import (
    build_chat_model,
    friendly_error,
    loads_leniently,
    render_sources,
    response_format,
)
from core.generate.prompts import PromptTemplate, load_prompt
from core.generate.schema import LETTERS, DraftItem
from core.settings import Settings

log = logging.getLogger(__name__)

ARBITER_PROMPT_VERSION = "arbiter_v1"
FORMAT_NAME = "mcq_verdicts"
FLAW_CODES = tuple(f"F{i}" for i in range(1, 10))
MIN_SCORE, MAX_SCORE = 1, 5
# The human rubric calls an item valid exactly when it has no flaw, so a verdict that lists
# a flaw never scores above "one flaw a student would notice", whatever number it gives.
FLAWED_SCORE_CAP = 3
_CODE = re.compile(r"\bF([1-9])\b", re.IGNORECASE)
_ID = re.compile(r"(\d+)")


# Docstrings and descriptions below are sent to the model as the schema's descriptions.
class ItemVerdict(BaseModel):
    """The verdict on one question."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(description="The question's id as given, e.g. 'Q1'.")
    reason: str = Field(description="One or two sentences: what is wrong, or 'no flaw'.")
    flaws: list[str] = Field(description="Every rubric code that applies, e.g. ['F3', 'F4'].")
    score: int = Field(description="1 (unusable) to 5 (ready); any flaw means 3 or less.")


class VerdictBatch(BaseModel):
    """One verdict per question judged."""

    model_config = ConfigDict(extra="ignore")

    verdicts: list[ItemVerdict] = Field(description="The verdicts, one per question id.")


@dataclass(frozen=True)
class Verdict:
    score: float
    flaws: tuple[str, ...]
    reason: str = ""


@dataclass
class ArbiterStats:
    calls: int = 0
    judged: int = 0
    rules_only: int = 0
    # Why some items were judged by the rules alone, in words a student can read; "" if none.
    problems: list[str] = field(default_factory=list)

    @property
    def error(self) -> str:
        if not self.problems:
            return ""
        reasons = "; ".join(dict.fromkeys(self.problems))
        plural = "s" if self.rules_only != 1 else ""
        return f"{reasons}: {self.rules_only} item{plural} judged by the rules alone"


def render_items(drafts: Sequence[DraftItem], chunks: Sequence[SourceChunk]) -> str:
    """The items as the judge reads them: id, cited source, stem, lettered options, key."""
    label = {chunk.id: f"S{i}" for i, chunk in enumerate(chunks, start=1)}
    blocks = []
    for number, draft in enumerate(drafts, start=1):
        cited = ", ".join(label[c] for c in draft.source_chunk_ids if c in label) or "none"
        options = "\n".join(f"{LETTERS[i]}. {o}" for i, o in enumerate(draft.options))
        blocks.append(
            f"[Q{number}] (cites {cited})\n{draft.stem}\n{options}\n"
            f"Key: {LETTERS[draft.correct_index]}\nExplanation: {draft.explanation}"
            + (f"\nSupporting sentence: {draft.support}" if draft.support else "")
        )
    return "\n\n".join(blocks)


def verdict_of(raw: Any) -> Verdict | None:
    """A usable verdict from one reply entry, or None (no score in range)."""
    try:
        parsed = ItemVerdict.model_validate(raw)
    except ValidationError:
        return None
    if not MIN_SCORE <= parsed.score <= MAX_SCORE:
        return None
    codes = sorted({f"F{m}" for f in parsed.flaws for m in _CODE.findall(f)}, key=FLAW_CODES.index)
    score = min(parsed.score, FLAWED_SCORE_CAP) if codes else parsed.score
    return Verdict(float(score), tuple(codes), parsed.reason.strip())


class Arbiter:
    """Scores drafts with a model call per batch; counts calls and failures in `stats`."""

    def __init__(self, settings: Settings, *, model: Any = None) -> None:
        self.settings = settings
        self.model_name = settings.arbiter_model_name
        self.threshold = settings.arbiter_threshold
        self.prompt: PromptTemplate = load_prompt(ARBITER_PROMPT_VERSION)
        self.stats = ArbiterStats()
        self._model = model
        self._runnable: Any = None
        self._stopped = False

    def accepts(self, verdict: Verdict | None) -> bool:
        """An item without a verdict is left to the rules; one with a verdict needs the score."""
        return verdict is None or verdict.score >= self.threshold

    def _structured(self) -> Any:
        if self._runnable is None:
            model = self._model
            if model is None:
                model = build_chat_model(
                    self.settings,
                    model_name=self.model_name,
                    timeout_s=self.settings.arbiter_timeout_s,
                    max_retries=0,  # a retry would double the wait for an optional check
                )
            self._runnable = model.with_structured_output(
                response_format(VerdictBatch, FORMAT_NAME), method="json_schema", include_raw=True
            )
        return self._runnable

    async def judge(
        self, drafts: Sequence[DraftItem], chunks: Sequence[SourceChunk]
    ) -> list[Verdict | None]:
        """One verdict per draft, in order; None where the arbiter could not judge it."""
        if not drafts:
            return []
        if self._stopped:
            return self._rules_only(len(drafts))
        user = self.prompt.user.format(
            sources=render_sources(chunks),
            count=len(drafts),
            items=render_items(drafts, chunks),
        )
        messages = [SystemMessage(self.prompt.system), HumanMessage(user)]
        self.stats.calls += 1
        try:
            result: dict[str, Any] = await asyncio.wait_for(
                self._structured().ainvoke(messages), timeout=self.settings.arbiter_timeout_s
            )
        except Exception as error:  # any failure leaves the items to the rules
            log.warning("arbiter call failed: %s", type(error).__name__)
            self._stopped = True
            reason = friendly_error(error)
            if isinstance(error, TimeoutError):
                reason = "the model did not answer in time"
            return self._rules_only(len(drafts), f"the arbiter failed ({reason})")
        verdicts = self._parse(result, len(drafts))
        for draft, verdict in zip(drafts, verdicts, strict=True):
            if verdict is not None and not self.accepts(verdict):
                log.info(
                    "arbiter rejects (%.0f, %s): %s | %s",
                    verdict.score, ",".join(verdict.flaws), draft.stem[:80], verdict.reason,
                )  # fmt: skip
        unjudged = sum(v is None for v in verdicts)
        self.stats.judged += len(drafts) - unjudged
        if unjudged:
            self._rules_only(unjudged, "the arbiter's reply could not be read")
        return verdicts

    def _rules_only(self, count: int, problem: str = "") -> list[Verdict | None]:
        self.stats.rules_only += count
        if problem:
            self.stats.problems.append(problem)
        return [None] * count

    def _parse(self, result: dict[str, Any], count: int) -> list[Verdict | None]:
        entries: Any = None
        parsed = result.get("parsed")
        if result.get("parsing_error") is None and isinstance(parsed, dict):
            entries = parsed.get("verdicts")
        if not isinstance(entries, list):
            raw_message = result.get("raw")
            raw = raw_message.content if isinstance(raw_message, AIMessage) else ""
            try:
                payload = loads_leniently(raw if isinstance(raw, str) else json.dumps(raw))
            except (json.JSONDecodeError, ValueError):
                payload = None
            entries = payload.get("verdicts") if isinstance(payload, dict) else None
        verdicts: list[Verdict | None] = [None] * count
        for entry in entries if isinstance(entries, list) else []:
            number = _ID.search(str(entry.get("id", ""))) if isinstance(entry, dict) else None
            position = int(number.group(1)) - 1 if number else -1
            if 0 <= position < count and verdicts[position] is None:
                verdicts[position] = verdict_of(entry)
        return verdicts
