"""Simulated students on the fake Telegram server: each starts quizzes and answers with a
confidence at human-like random intervals (one seeded RNG each) until the run's deadline,
and some upload a PDF. What the bench sees is logged: every click's latency (from posting
the update to the fake receiving the bot's answerCallbackQuery, which the bot sends last,
after its edits and new messages), every confidence click sent (each must become exactly one
attempt row), and every error.

The ingress: with polling the fake holds updates for getUpdates; in webhook mode the bench
is the public URL and posts each update to a worker (`Ingress`), by chat or round-robin.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from core.ratelimit import SLOW_DOWN_TEXT
from tests.fakes.telegram_server import ApiCall, FakeTelegram, Message

FIRST_USER_ID = 5_000_000
QUIZ = "/quiz 5"
REPLY_TIMEOUT_S = 30.0
READY_MARK = "is ready:"
SORRY_MARK = "something went wrong"
# Think times (seconds, log-normal around these medians): reading a question and picking an
# option takes a while, saying how sure one was is quick, and a new quiz starts after a pause.
CONFIDENCE_SHARE = 0.25
SPREAD = 0.6
GAPS_TOLERATED = 3
RAMP_S = 5.0
UPLOAD_GRACE_S = 300.0


@dataclass
class Log:
    """What the students saw; the report and the attempt count are made from this."""

    latencies_ms: dict[str, list[float]] = field(
        default_factory=lambda: {"answer": [], "confidence": []}
    )
    # Clicks a student made while their own upload was being read: one chat's updates are
    # handled in order, so these wait for it by design and are reported apart.
    behind_upload_ms: list[float] = field(default_factory=list)
    confidences_sent: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    uploads_sent: int = 0
    upload_seconds: list[float] = field(default_factory=list)
    answers_at: list[float] = field(default_factory=list)
    # Messages sent or edited by the bot: the outbound traffic its rate limiter paces.
    messages_at: list[float] = field(default_factory=list)
    started: float = 0.0
    steady_from: float = 0.0
    deadline: float = 0.0

    def per_second(self, times: list[float]) -> float:
        """Events per second between the end of the ramp and the deadline."""
        window = self.deadline - self.steady_from
        return sum(1 for t in times if self.steady_from <= t <= self.deadline) / window


class Watch:
    """Follows the bot through the fake's observer hook: wakes the student whose chat got a
    message, resolves each callback query's answer, notes errors and finished uploads."""

    def __init__(self, fake: FakeTelegram, log: Log) -> None:
        self.fake = fake
        self.log = log
        self.chat_changed: dict[int, asyncio.Event] = {}
        self.answers: dict[str, asyncio.Future[ApiCall]] = {}
        self.uploads: dict[int, float] = {}  # chat id -> when its upload was sent
        self.all_read = asyncio.Event()  # no upload is being read
        fake.observers.append(self.saw)

    def saw(self, call: ApiCall) -> None:
        if call.status >= 400 and call.method != "getUpdates":
            self.log.errors[f"{call.method} {call.status}"] += 1
        if call.method == "answerCallbackQuery":
            waiting = self.answers.pop(str(call.params.get("callback_query_id")), None)
            if waiting is not None and not waiting.done():
                waiting.set_result(call)
            return
        chat_id = call.params.get("chat_id")
        if chat_id is None:
            return
        chat_id = int(chat_id)
        if call.method.startswith(("send", "edit")) and call.status == 200:
            self.log.messages_at.append(call.at)
        if READY_MARK in str(call.params.get("text", "")) and chat_id in self.uploads:
            self.log.upload_seconds.append(call.at - self.uploads.pop(chat_id))
            if not self.uploads:
                self.all_read.set()
        if (event := self.chat_changed.get(chat_id)) is not None:
            event.set()

    def expect_answer(self, query_id: str) -> asyncio.Future[ApiCall]:
        future: asyncio.Future[ApiCall] = asyncio.get_running_loop().create_future()
        self.answers[query_id] = future
        return future


class Ingress:
    """The bench as the webhook's public URL: posts each update to one worker's listener,
    the worker chosen by chat (one chat always to one worker) or round-robin."""

    def __init__(self, ports: list[int], path: str, secret: str, route: str) -> None:
        self.urls = [f"http://127.0.0.1:{port}{path}" for port in ports]
        self.secret = secret
        self.route = route
        self._turn = itertools.count()
        self._http: aiohttp.ClientSession | None = None
        self._posts: set[asyncio.Task[None]] = set()
        self.failures: Counter[str] = Counter()

    async def open(self) -> None:
        self._http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=256),
            headers={"X-Telegram-Bot-Api-Secret-Token": self.secret},
        )

    async def close(self) -> None:
        if self._posts:
            await asyncio.gather(*self._posts, return_exceptions=True)
        if self._http is not None:
            await self._http.close()

    def deliver(self, update: dict) -> None:
        """The fake's webhook hook: called where the fake would queue the update."""
        chat = _chat_of(update)
        index = chat % len(self.urls) if self.route == "chat" else next(self._turn)
        url = self.urls[index % len(self.urls)]
        task = asyncio.get_running_loop().create_task(self._post(url, update))
        self._posts.add(task)
        task.add_done_callback(self._posts.discard)

    async def _post(self, url: str, update: dict) -> None:
        assert self._http is not None
        try:
            async with self._http.post(url, json=update) as response:
                if response.status != 200:
                    self.failures[f"ingress post {response.status}"] += 1
        except aiohttp.ClientError as error:
            self.failures[f"ingress post {type(error).__name__}"] += 1


def _chat_of(update: dict) -> int:
    if "callback_query" in update:
        return int(update["callback_query"]["message"]["chat"]["id"])
    return int(update["message"]["chat"]["id"])


@dataclass
class Plan:
    students: int
    duration_s: float
    upload_share: float
    think_s: float
    upload_pdf: Path
    seed: int = 20

    @property
    def ramp_s(self) -> float:
        """Everyone has opened a quiz by then; figures are taken from then to the deadline."""
        return min(RAMP_S, self.duration_s / 4)

    def user_ids(self) -> list[int]:
        return [FIRST_USER_ID + i for i in range(self.students)]


class Student:
    def __init__(self, number: int, plan: Plan, fake: FakeTelegram, watch: Watch) -> None:
        self.id = FIRST_USER_ID + number
        self.plan = plan
        self.fake = fake
        self.watch = watch
        self.rng = random.Random(plan.seed * 1_000_003 + number)
        self.user = fake.user(self.id, f"Student{number}")
        self.changed = watch.chat_changed.setdefault(self.id, asyncio.Event())
        self.seen = 0  # highest message id looked at in this chat
        self.uploads = self.rng.random() < plan.upload_share

    def think(self, median_s: float) -> float:
        return self.rng.lognormvariate(math.log(median_s), SPREAD)

    async def run(self, deadline: float, pdf: bytes) -> None:
        await asyncio.sleep(self.rng.uniform(0, self.plan.ramp_s))
        if self.uploads:
            later = self.rng.uniform(0, self.plan.duration_s / 2)
            asyncio.get_running_loop().call_later(later, self._upload, pdf)
        question: Message | None = None
        # Met in the middle of a question: with think times of a minute, a run of one would
        # otherwise have everyone answer at once after a long quiet start.
        first = self.rng.uniform(0, self.plan.think_s * (1 + CONFIDENCE_SHARE))
        while time.monotonic() < deadline:
            if question is None:
                self.fake.send_text(self.user, QUIZ)
                question = await self._next_question()
                if question is None:
                    continue
            await asyncio.sleep(first if first else self.think(self.plan.think_s))
            first = 0.0
            if time.monotonic() >= deadline:
                break
            option = self.rng.choice([d for d in question.callback_data if d.startswith("ans:")])
            if not await self._click("answer", question, option):
                question = None
                continue
            sure = [d for d in question.callback_data if d.startswith("conf:")]
            if not sure:
                self.watch.log.errors["no confidence buttons"] += 1
                question = None
                continue
            await asyncio.sleep(self.think(self.plan.think_s * CONFIDENCE_SHARE))
            # Sent is sent: once posted the answer must be recorded, deadline or not.
            self.watch.log.confidences_sent[self.id] += 1
            if not await self._click("confidence", question, self.rng.choice(sure)):
                question = None
                continue
            self.watch.log.answers_at.append(time.monotonic())
            question = self._find_question()  # None when the quiz ended: a new one then

    def _upload(self, pdf: bytes) -> None:
        self.watch.uploads[self.id] = time.monotonic()
        self.watch.all_read.clear()
        self.watch.log.uploads_sent += 1
        self.fake.send_document(self.user, self.plan.upload_pdf.name, pdf)

    async def _click(self, kind: str, message: Message, data: str) -> bool:
        posted = time.monotonic()
        query_id = f"cq-{self.id}-{posted}"
        answered = self.watch.expect_answer(query_id)
        behind_upload = self.id in self.watch.uploads
        self._press(message, data, query_id)
        try:
            call = await asyncio.wait_for(answered, REPLY_TIMEOUT_S)
        except TimeoutError:
            self.watch.answers.pop(query_id, None)
            where = " behind own upload" if behind_upload else ""
            self.watch.log.errors[f"{kind} click{where} unanswered"] += 1
            return False
        latency_ms = (call.at - posted) * 1000
        if behind_upload:
            self.watch.log.behind_upload_ms.append(latency_ms)
        else:
            self.watch.log.latencies_ms[kind].append(latency_ms)
        text = str(call.params.get("text") or "")
        if call.status >= 400 or SORRY_MARK in text.lower() or text == SLOW_DOWN_TEXT[:200]:
            self.watch.log.errors[f"{kind} click refused"] += 1
            return False
        return True

    def _press(self, message: Message, data: str, query_id: str) -> None:
        self.fake.press(self.user, message, data, query_id=query_id)

    def _find_question(self) -> Message | None:
        """The newest bot message not looked at yet that asks a question (ans: buttons).
        Message ids count up per chat; a deleted status message leaves a gap."""
        found, probe, gaps = None, self.seen + 1, 0
        while gaps < GAPS_TOLERATED:
            message = self.fake.messages.get((self.id, probe))
            if message is None:
                gaps += 1
            else:
                gaps, self.seen = 0, probe
                if message.from_bot and any(d.startswith("ans:") for d in message.callback_data):
                    found = message
            probe += 1
        return found

    async def _next_question(self) -> Message | None:
        limit = time.monotonic() + REPLY_TIMEOUT_S
        while True:
            self.changed.clear()
            if (question := self._find_question()) is not None:
                return question
            now = time.monotonic()
            if now >= limit:
                self.watch.log.errors["quiz not started"] += 1
                return None
            try:
                await asyncio.wait_for(self.changed.wait(), limit - now)
            except TimeoutError:
                continue


async def simulate(plan: Plan, fake: FakeTelegram, watch: Watch) -> float:
    """Runs every student until the deadline and their last click is answered; returns the
    seconds the run took (beyond the deadline only for clicks in flight)."""
    pdf = plan.upload_pdf.read_bytes()
    students = [Student(i, plan, fake, watch) for i in range(plan.students)]
    log = watch.log
    log.started = time.monotonic()
    log.steady_from = log.started + plan.ramp_s
    log.deadline = log.started + plan.duration_s
    await asyncio.gather(*(student.run(log.deadline, pdf) for student in students))
    # Uploads still being read are waited for (within reason), so the workers stop cleanly
    # and the report says how long the last one took.
    if watch.uploads:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(watch.all_read.wait(), UPLOAD_GRACE_S)
    return time.monotonic() - log.started
