"""The LLM generator: a LangChain chat model (ROUNDS_LLM_MODEL) with structured output.

The model is built with LangChain's own factory (`init_chat_model`), so any provider it
knows works, and any OpenAI-compatible server (Ollama, vLLM, llama.cpp) through
OPENAI_BASE_URL. The JSON schema of `GeneratedBatch` is sent as the structured-output
format; each returned item is then validated on its own, so one bad item never costs the
batch. Bad JSON is repaired locally once (fences, trailing commas), then by one repair
request; everything is bounded, counted, and never raises to the caller: a provider
failure ends the run's LLM calls and is reported in `LLMStats.error`. The prompt version
is ROUNDS_PROMPT_VERSION; v2 also tells the model the sources' subtopics, their sections'
learning objectives (the teaching points) and the student's level, and each item comes
back labelled recall or application (stored in its flags).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.utils.function_calling import convert_to_openai_function
from pydantic import BaseModel, ValidationError

from core.adaptive import StudentLevel
from core.chunking import HEADING_SEPARATOR
from core.generate.facts import SourceChunk, locate
from core.generate.prompts import PromptTemplate
from core.generate.schema import LETTERS, DraftItem, GeneratedBatch, GeneratedItem
from core.readers.formats import cited_pages
from core.settings import Settings

log = logging.getLogger(__name__)

# Retries inside the OpenAI client (429 with Retry-After, 5xx, timeouts), with its backoff.
CLIENT_MAX_RETRIES = 2
# Questions asked for per call: enough to amortise a call, few enough to stay focused.
ITEMS_PER_CALL = 5
SOURCES_PER_CALL = 3
# A source passage is cut to this many characters in the prompt.
MAX_SOURCE_CHARS = 1800
DIFFICULTY_LABELS = {
    1: "recall of a single stated fact",
    2: "recall with close distractors",
    3: "understanding: apply one fact to a short case",
    4: "application: two-step reasoning from the sources",
    5: "hard: integrate several facts from the sources",
}
# A section's learning objectives (OpenStax and most textbooks): the teaching points the book
# itself sets, as bullets after this phrase.
_OBJECTIVES = re.compile(r"you (?:will|should) be able to:?[ \t]*\n", re.IGNORECASE)
_BULLET = ("•", "●", "▪", "-", "–", "*")
MAX_TEACHING_POINTS = 6
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.MULTILINE)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")


class ProviderError(Exception):
    """The model could not be reached or refused (timeout, rate limit, server error)."""


@dataclass
class LLMStats:
    api_calls: int = 0
    parse_failures: int = 0
    # Why the calls stopped early, in words a student can read; "" when they did not.
    error: str = ""
    problems: list[str] = field(default_factory=list)


def provider_of(model: str) -> str:
    """The provider part of "provider:model"; model names alone are inferred like LangChain."""
    if ":" in model:
        return model.split(":", 1)[0].strip().lower()
    lowered = model.lower()
    if lowered.startswith(("gpt-", "o1", "o3", "o4", "chatgpt", "text-")):
        return "openai"
    return ""


def build_chat_model(
    settings: Settings,
    *,
    model_name: str | None = None,
    timeout_s: float | None = None,
    max_retries: int = CLIENT_MAX_RETRIES,
) -> Any:
    """The chat model ROUNDS_LLM_MODEL (or `model_name`) names, with bounded timeouts and
    retries; an OpenAI-compatible server is reached through OPENAI_BASE_URL."""
    from langchain.chat_models import init_chat_model

    name = (model_name if model_name is not None else settings.llm_model).strip()
    kwargs: dict[str, Any] = {
        "timeout": timeout_s if timeout_s is not None else settings.llm_timeout_s,
        "max_retries": max_retries,
    }
    if provider_of(name) == "openai":
        if settings.openai_base_url:
            kwargs["base_url"] = settings.openai_base_url
        if settings.openai_api_key is not None:
            kwargs["api_key"] = settings.openai_api_key.get_secret_value()
        elif settings.openai_base_url:
            # Local OpenAI-compatible servers ignore the key, but the client insists on one.
            kwargs["api_key"] = "not-needed"
    return init_chat_model(name, **kwargs)


def response_format(
    schema: type[BaseModel] = GeneratedBatch, name: str = "mcq_batch"
) -> dict[str, Any]:
    """The structured-output format: the strict JSON schema of `schema` (the writer's
    `GeneratedBatch` unless another caller, such as the arbiter, names its own)."""
    function = convert_to_openai_function(schema, strict=True)
    return {
        "name": name,
        "description": function.get("description", ""),
        "schema": function["parameters"],
        "strict": True,
    }


def render_sources(chunks: Sequence[SourceChunk]) -> str:
    blocks = []
    for i, chunk in enumerate(chunks, start=1):
        pages = cited_pages(range(chunk.page_start, chunk.page_end + 1), chunk.unit)
        heading = f" — {chunk.heading}" if chunk.heading else ""
        blocks.append(f"[S{i}] ({pages}{heading})\n{chunk.text[:MAX_SOURCE_CHARS]}")
    return "\n\n".join(blocks)


def subtopics_of(chunks: Sequence[SourceChunk]) -> str:
    """The sources' own section names (the deepest heading of each), for the prompt."""
    names = [c.heading.split(HEADING_SEPARATOR)[-1].strip() for c in chunks if c.heading]
    return "; ".join(dict.fromkeys(n for n in names if n)) or "(none named)"


def section_of(heading: str) -> str:
    """The top-level section a chunk's heading path belongs to ("24.3 Bacterial ...")."""
    return heading.split(HEADING_SEPARATOR)[0].strip()


def learning_objectives(chunks: Sequence[SourceChunk]) -> dict[str, tuple[str, ...]]:
    """Each section's stated learning objectives, by its top-level heading; a bullet that
    wraps onto a next line starting in lower case is joined back together."""
    found: dict[str, tuple[str, ...]] = {}
    for chunk in chunks:
        match = _OBJECTIVES.search(chunk.text)
        if match is None or not chunk.heading:
            continue
        points: list[str] = []
        for line in chunk.text[match.end() :].splitlines():
            line = line.strip()
            if line.startswith(_BULLET):
                points.append(line.lstrip("".join(_BULLET)).strip())
            elif points and line[:1].islower():
                points[-1] = f"{points[-1]} {line}"
            else:
                break
        if points:
            found.setdefault(section_of(chunk.heading), tuple(p for p in points if p))
    return found


def teaching_points_of(
    chunks: Sequence[SourceChunk], objectives: dict[str, tuple[str, ...]]
) -> str:
    """The learning objectives of the sections these sources come from, for the prompt."""
    sections = dict.fromkeys(section_of(c.heading) for c in chunks if c.heading)
    points = [p for section in sections for p in objectives.get(section, ())]
    if not points:
        return "(none stated: choose the central facts of the sources)"
    return "; ".join(list(dict.fromkeys(points))[:MAX_TEACHING_POINTS])


def describe_level(level: StudentLevel | None) -> str:
    """The student's level in words the writer can act on."""
    if level is None or level.band == "new":
        return "no recent answers in this topic yet; pitch the questions at the difficulty below."
    right = round((level.accuracy or 0.0) * level.answered)
    seen = f"{right} of their last {level.answered} answers in this topic were right"
    if level.band == "struggling":
        return (
            f"struggling ({seen}). Test the central teaching points with one reasoning step; "
            "make the distractors the confusions a student at this stage makes."
        )
    if level.band == "strong":
        return (
            f"strong ({seen}). Prefer application items that need two steps (recognise the "
            "case, then choose the cause, mechanism, test or treatment), with close distractors."
        )
    return f"progressing ({seen}). Mix key facts with application to short cases."


def friendly_error(error: Exception) -> str:
    """What went wrong with a model call, in words a student can read."""
    name = type(error).__name__
    status = getattr(error, "status_code", None)
    if "Timeout" in name:
        return "the model did not answer in time"
    if status == 429 or "RateLimit" in name:
        return "the model's provider is rate-limiting requests"
    if "Connection" in name:
        return "the model's server could not be reached"
    if "Authentication" in name or status == 401:
        return "the model's provider refused the API key"
    if status is not None:
        return f"the model's server answered with an error ({status})"
    return "the model failed to answer"


def loads_leniently(text: str) -> Any:
    """JSON from a model reply: code fences, prose around it and trailing commas removed."""
    body = _FENCE.sub("", text.strip())
    start, end = body.find("{"), body.rfind("}")
    if start >= 0 and end > start:
        body = body[start : end + 1]
    return json.loads(_TRAILING_COMMA.sub(r"\1", body))


def _items_of(payload: Any) -> list[Any] | None:
    if isinstance(payload, dict):
        items = payload.get("questions")
        if isinstance(items, list):
            return items
        if "stem" in payload:
            return [payload]
    if isinstance(payload, list):
        return payload
    return None


class LLMGenerator:
    """Writes DraftItems from source chunks; counts calls and failures in `stats`."""

    def __init__(
        self,
        settings: Settings,
        prompt: PromptTemplate,
        *,
        siblings: dict[int, list[SourceChunk]] | None = None,
        model: Any = None,
        level: StudentLevel | None = None,
        objectives: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.settings = settings
        self.prompt = prompt
        self.level = level
        self._objectives = objectives or {}
        self.stats = LLMStats()
        self._siblings = siblings or {}
        self._model = model
        self._runnable: Any = None

    @property
    def failed(self) -> bool:
        return bool(self.stats.error)

    def _structured(self) -> Any:
        if self._runnable is None:
            model = self._model if self._model is not None else build_chat_model(self.settings)
            self._runnable = model.with_structured_output(
                response_format(), method="json_schema", include_raw=True
            )
        return self._runnable

    async def _call(self, messages: list[BaseMessage]) -> dict[str, Any]:
        self.stats.api_calls += 1
        try:
            result: dict[str, Any] = await self._structured().ainvoke(messages)
        except Exception as error:  # any provider failure ends the LLM part of this run
            log.warning("LLM call failed: %s", type(error).__name__)
            raise ProviderError(friendly_error(error)) from error
        return result

    async def write(
        self, chunks: Sequence[SourceChunk], *, count: int, difficulty: int, topic: str
    ) -> list[DraftItem]:
        """Up to `count` items from these chunks: one call, plus one repair call if needed."""
        if self.failed:
            return []
        user = self.prompt.user.format(
            difficulty=difficulty,
            difficulty_label=DIFFICULTY_LABELS.get(difficulty, DIFFICULTY_LABELS[3]),
            topic_line=f"Topic: {topic}\n" if topic else "",
            topic=topic or "(none given: the sources below)",
            subtopics=subtopics_of(chunks),
            teaching_points=teaching_points_of(chunks, self._objectives),
            student=describe_level(self.level),
            count=count,
            sources=render_sources(chunks),
        )
        messages: list[BaseMessage] = [SystemMessage(self.prompt.system), HumanMessage(user)]
        try:
            result = await self._call(messages)
            drafts, problems, raw = self._parse(result, chunks, difficulty, topic)
            if problems and len(drafts) < count:
                # One repair round: show the model its own reply and what was wrong.
                repair = self.prompt.repair.format(problems="; ".join(problems[:6]))
                retry = [*messages, AIMessage(raw or "(no content)"), HumanMessage(repair)]
                fixed, more, _ = self._parse(await self._call(retry), chunks, difficulty, topic)
                drafts.extend(fixed)
                problems = more
            self.stats.problems.extend(problems)
        except ProviderError as error:
            self.stats.error = str(error)
            return []
        return drafts[:count]

    def _parse(
        self, result: dict[str, Any], chunks: Sequence[SourceChunk], difficulty: int, topic: str
    ) -> tuple[list[DraftItem], list[str], str]:
        """(valid drafts, problems, raw text); every unusable item counts one parse failure."""
        raw_message = result.get("raw")
        raw = raw_message.content if isinstance(raw_message, AIMessage) else ""
        raw = raw if isinstance(raw, str) else json.dumps(raw)
        payload = result.get("parsed")
        items = _items_of(payload) if result.get("parsing_error") is None else None
        if items is None:
            try:
                items = _items_of(loads_leniently(raw))
            except (json.JSONDecodeError, ValueError):
                items = None
        if items is None:
            self.stats.parse_failures += 1
            return [], ["the reply was not valid JSON in the required shape"], raw
        drafts: list[DraftItem] = []
        problems: list[str] = []
        for n, item in enumerate(items, start=1):
            try:
                parsed = GeneratedItem.model_validate(item)
            except ValidationError as error:
                self.stats.parse_failures += 1
                first = error.errors()[0]
                problems.append(f"question {n}: {first.get('msg', 'invalid')}")
                continue
            drafts.append(self._draft(parsed, chunks, difficulty, topic))
        return drafts, problems, raw

    def _draft(
        self, item: GeneratedItem, chunks: Sequence[SourceChunk], difficulty: int, topic: str
    ) -> DraftItem:
        label = item.source_id.strip().upper().lstrip("[").rstrip("]")
        index = int(label[1:]) - 1 if label[:1] == "S" and label[1:].isdigit() else -1
        cited = [chunks[index]] if 0 <= index < len(chunks) else list(chunks)
        siblings = self._siblings.get(cited[0].id, []) if cited else []
        where = locate(item.support_quote, cited, siblings) if item.support_quote else None
        if where is None:
            # The quote is not verbatim in the cited source: cite its pages; the validator
            # decides whether the quote is close enough to count.
            where = (
                tuple(c.id for c in cited),
                tuple(range(cited[0].page_start, cited[-1].page_end + 1)),
            )
        return DraftItem(
            stem=item.stem.strip(),
            options=tuple(item.options),
            correct_index=LETTERS.index(item.answer),
            explanation=item.explanation.strip(),
            source_chunk_ids=where[0],
            source_pages=where[1],
            support=item.support_quote.strip(),
            topic=topic or (cited[0].heading if cited else ""),
            difficulty=difficulty,
            kind="llm",
            flags=(item.level,),
        )
