"""A local OpenAI-compatible server (aiohttp) that plays back scripted chat completions.

The real `ChatOpenAI` client talks to it through OPENAI_BASE_URL. Each POST to
/v1/chat/completions takes the next step of the script: a reply whose message content is
given verbatim (valid JSON, broken JSON, anything), an HTTP error (e.g. 429 with
Retry-After), or a hang longer than the client's timeout. Every request body is recorded.
Requests of the arbiter (structured-output format "mcq_verdicts") play a script of their
own (`judge`), so a test can say what the writer and the judge answer independently.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass(frozen=True)
class Reply:
    """A 200 chat.completion whose assistant message content is `content`."""

    content: str


@dataclass(frozen=True)
class Status:
    """An HTTP error answer, e.g. 429 with a Retry-After header."""

    code: int
    message: str = "error"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Hang:
    """No answer for `seconds` (longer than the client's timeout), then a 500."""

    seconds: float


@dataclass(frozen=True)
class Compose:
    """A reply whose content is computed from the request body (e.g. from its sources)."""

    build: Callable[[dict[str, Any]], str]


Step = Reply | Status | Hang | Compose


def item(
    stem: str,
    options: Sequence[str],
    answer: str = "B",
    *,
    explanation: str = "Because the source says so; the other options are not what it says.",
    source_id: str = "S1",
    support_quote: str = "",
    teaching_point: str = "What the source sentence states.",
    level: str = "recall",
) -> dict[str, Any]:
    """One question as a model would write it (the schema's field names)."""
    return {
        "stem": stem,
        "options": list(options),
        "answer": answer,
        "explanation": explanation,
        "source_id": source_id,
        "support_quote": support_quote,
        "teaching_point": teaching_point,
        "level": level,
    }


def batch(*items: dict[str, Any]) -> Reply:
    return Reply(json.dumps({"questions": list(items)}))


def sources_of(body: dict[str, Any]) -> list[str]:
    """The source passages of a generation request, in order ([S1], [S2], ...)."""
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    blocks = re.split(r"^\[S\d+\] \([^)]*\)\n", user, flags=re.MULTILINE)[1:]
    return [block.strip() for block in blocks]


JUDGE_FORMAT = "mcq_verdicts"
_JUDGED = re.compile(r"^\[(Q\d+)\] \([^)]*\)\n(.*?)(?=^\[Q\d+\] |\Z)", re.MULTILINE | re.DOTALL)


def judged_items(body: dict[str, Any]) -> dict[str, str]:
    """The questions an arbiter request asks about: id ("Q1") -> its text as sent."""
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    return {qid: text.strip() for qid, text in _JUDGED.findall(user)}


def verdicts(judge: Callable[[str], tuple[int, list[str]]]) -> Compose:
    """A judge's reply: `judge(question text) -> (score, flaw codes)` for every question."""

    def build(body: dict[str, Any]) -> str:
        found = []
        for qid, text in judged_items(body).items():
            score, flaws = judge(text)
            reason = "no flaw" if not flaws else f"flawed: {', '.join(flaws)}"
            found.append({"id": qid, "reason": reason, "flaws": flaws, "score": score})
        return json.dumps({"verdicts": found})

    return Compose(build)


def accept_all(score: int = 5) -> Compose:
    return verdicts(lambda _text: (score, []))


def rate_limited(retry_after_ms: int = 10) -> Status:
    return Status(
        429,
        "Rate limit reached",
        {"retry-after-ms": str(retry_after_ms), "retry-after": "0"},
    )


class FakeOpenAI:
    """Plays `script` to the writer and `judge_script` to the arbiter, each in order;
    `requests` and `judge_requests` hold every JSON body received."""

    def __init__(self) -> None:
        self.script: list[Step] = []
        self.requests: list[dict[str, Any]] = []
        self.base_url = ""
        self.request_times: list[float] = []
        self.judge_script: list[Step] = []
        self.judge_requests: list[dict[str, Any]] = []

    def play(self, *steps: Step) -> None:
        self.script.extend(steps)

    def judge(self, *steps: Step) -> None:
        self.judge_script.extend(steps)

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        format_name = (body.get("response_format") or {}).get("json_schema", {}).get("name")
        if format_name == JUDGE_FORMAT:
            self.judge_requests.append(body)
            script = self.judge_script
        else:
            self.requests.append(body)
            self.request_times.append(time.monotonic())
            script = self.script
        if not script:
            return _error(500, "the fake's script is exhausted")
        step = script.pop(0)
        if isinstance(step, Hang):
            await asyncio.sleep(step.seconds)
            return _error(500, "hung")
        if isinstance(step, Status):
            return _error(step.code, step.message, step.headers)
        content = step.build(body) if isinstance(step, Compose) else step.content
        return web.json_response(_completion(body, content))

    @asynccontextmanager
    async def running(self) -> AsyncIterator[FakeOpenAI]:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        runner = web.AppRunner(app, shutdown_timeout=0.1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}/v1"
        try:
            yield self
        finally:
            await runner.cleanup()


def _error(code: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    payload = {"error": {"message": message, "type": "fake_error", "code": code}}
    return web.json_response(payload, status=code, headers=headers or {})


def _completion(body: dict[str, Any], content: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-fake-{int(time.time() * 1000)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 100, "completion_tokens": 100, "total_tokens": 200},
    }
