"""Questions written in the background, as the chat sees it: one status message that shows
the place in line and the count so far, then the quiz (or round) starting by itself.

The run row holds everything a job needs to report (chat, status message, what to do next),
so a run picked up after a restart reports exactly like a fresh one.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from core.errors import RoundsError
from core.generation_jobs import Finished, GenerationJobs, Progress
from handlers.context import Services, Turn
from handlers.types import Reply, SentMessage, Tone
from storage.enums import RunStatus
from storage.models import Chat, GenerationRun
from storage.vector_index import on_transaction_end

log = logging.getLogger(__name__)

# A status message reports back as `gen:<run id>` (see ON_SENT).
TRACK_PREFIX = "gen:"
# Chat platforms rate-limit edits of one message; progress is decoration.
PROGRESS_MIN_INTERVAL_S = 1.5

# What a finished run leads to, by `follow_up` kind: builds the replies in a fresh session.
FollowUp = Callable[[Services, GenerationRun, RoundsError | None], Awaitable[list[Reply]]]


def waiting_phrase(ahead: int) -> str:
    if ahead <= 0:
        return ""
    return f" {ahead} ahead of you in the queue; I'll start as soon as a slot frees up."


def status_text(requested: int, ahead: int, *, what: str = "your quiz") -> str:
    noun = "question" if requested == 1 else "questions"
    return (
        f"Writing {requested} new {noun} from your material… {what} starts by itself when "
        f"they're ready.{waiting_phrase(ahead)}"
    )


async def start(
    turn: Turn,
    *,
    topic: str,
    n: int,
    difficulty: int,
    triggered_by: str,
    follow_up: dict[str, Any],
    what: str,
) -> Reply:
    """Adds a running run and queues its job once this event commits; returns the status
    message, which the job then edits."""
    jobs = turn.services.jobs
    assert jobs is not None
    row = await jobs.request(
        turn.session, scope_id=turn.scope.id, topic=topic, n=n, difficulty=difficulty,
        requested_by=turn.user.id, chat_id=turn.chat.id, triggered_by=triggered_by,
        follow_up=follow_up,
    )  # fmt: skip
    ahead = await jobs.would_wait()
    services, platform, run_id = turn.services, turn.incoming.platform, row.id
    address = turn.chat.external_id

    def submit() -> None:
        _submit(services, jobs, run_id=run_id, platform=platform, address=address)

    on_transaction_end(turn.session, committed=submit)
    return Reply(status_text(row.requested, ahead, what=what), track=f"{TRACK_PREFIX}{row.id}")


def _submit(
    services: Services,
    jobs: GenerationJobs,
    *,
    run_id: int,
    platform: Any,
    address: str,
    status_ref: str = "",
) -> _Reporter:
    if status_ref:
        jobs.status_refs.setdefault(run_id, status_ref)
    reporter = _Reporter(services, jobs, run_id=run_id, platform=platform, address=address)
    jobs.submit(
        run_id, progress=reporter.progress, finished=reporter.finished, moved=reporter.moved
    )
    return reporter


class _Reporter:
    """One run's voice in its chat: edits the status message, then posts the follow-up."""

    def __init__(
        self, services: Services, jobs: GenerationJobs, *, run_id: int, platform: Any,
        address: str,
    ) -> None:  # fmt: skip
        self.services = services
        self.jobs = jobs
        self.run_id = run_id
        self.platform = platform
        self.address = address
        self._last: datetime | None = None

    async def _post(self, replies: list[Reply]) -> None:
        outbox = self.services.outboxes.get(self.platform)
        if outbox is None:
            log.warning("no outbox for %s: run %s reports nothing", self.platform, self.run_id)
            return
        await outbox.post(self.address, replies)

    async def _edit_status(self, text: str, *, tone: Tone = Tone.NEUTRAL) -> bool:
        ref = self.jobs.status_refs.get(self.run_id, "")
        if not ref:
            return False
        await self._post([Reply(text, tone=tone, edit_of=ref)])
        return True

    async def progress(self, text: str) -> None:
        now = self.services.clock()
        if self._last is not None and (now - self._last).total_seconds() < PROGRESS_MIN_INTERVAL_S:
            return
        self._last = now
        try:
            await self._edit_status(text)
        except Exception:
            log.info("progress note for run %s skipped", self.run_id, exc_info=True)

    async def moved(self, ahead: int) -> None:
        await self._edit_status(f"Waiting to write your questions…{waiting_phrase(ahead)}")

    async def finished(self, row: GenerationRun, error: RoundsError | None) -> None:
        ref = self.jobs.status_refs.pop(self.run_id, "") or row.status_ref
        kind = next(iter(row.follow_up), "") if row.follow_up else ""
        follow_ups = _follow_ups()
        try:
            replies = (
                await follow_ups[kind](self.services, row, error) if kind in follow_ups else []
            )
        except RoundsError as failure:
            replies = [Reply(failure.user_message, tone=Tone.WARNING)]
        except Exception:
            log.exception("follow-up of run %s failed", self.run_id)
            replies = [Reply("Sorry, something went wrong on my side. Please try again.")]
        first = [Reply(done_text(row), edit_of=ref)] if ref else []
        await self._post([*first, *replies])


def done_text(row: GenerationRun) -> str:
    noun = "question" if row.inserted == 1 else "questions"
    return f"Wrote {row.inserted} new {noun}." if row.inserted else "No new questions."


def _follow_ups() -> dict[str, FollowUp]:
    from handlers import quiz, rounds

    return {"quiz": quiz.after_generation, "round": rounds.after_generation}


# --- runs a stopped process left behind ------------------------------------------------


async def resume(services: Services, row: GenerationRun) -> None:
    """A dead process's run, claimed by this one: queued again and reported as usual."""
    jobs = services.jobs
    if jobs is None or row.chat_id is None:
        return
    chat = await _chat(services, row.chat_id)
    if chat is None:
        return
    reporter = _submit(services, jobs, run_id=row.id, platform=chat.platform,
                       address=chat.external_id, status_ref=row.status_ref)  # fmt: skip
    await reporter.progress("I restarted while writing your questions; picking up again…")


async def reports_for(services: Services, row: GenerationRun) -> tuple[Progress, Finished] | None:
    """How a run deferred by another process (or before a restart) reports: to its chat."""
    jobs = services.jobs
    if jobs is None or row.chat_id is None:
        return None
    chat = await _chat(services, row.chat_id)
    if chat is None:
        return None
    if row.status_ref:
        jobs.status_refs.setdefault(row.id, row.status_ref)
    reporter = _Reporter(
        services, jobs, run_id=row.id, platform=chat.platform, address=chat.external_id
    )
    return reporter.progress, reporter.finished


async def abandoned(services: Services, row: GenerationRun) -> None:
    """A dead process's run that cannot be picked up: closed, and the student is told."""
    if row.chat_id is None:
        return
    chat = await _chat(services, row.chat_id)
    if chat is None:
        return
    outbox = services.outboxes.get(chat.platform)
    if outbox is None:
        return
    again = "/round" if "round" in row.follow_up else "/quiz"
    text = (
        "I was restarted while writing your questions, so that attempt stopped and nothing "
        f"was saved from it. Send {again} to try again."
    )
    edit = [Reply("Stopped: the bot restarted.", edit_of=row.status_ref)] if row.status_ref else []
    await outbox.post(chat.external_id, [*edit, Reply(text, tone=Tone.WARNING)])


async def _chat(services: Services, chat_id: int) -> Chat | None:
    async with services.db.session() as session:
        return await session.get(Chat, chat_id)


async def on_sent(services: Services, sent: SentMessage) -> None:
    """The status message reached the chat: the job edits it from now on (a job that already
    finished gets its closing line drawn over it now)."""
    if not sent.track.startswith(TRACK_PREFIX) or services.jobs is None:
        return
    run_id = int(sent.track.removeprefix(TRACK_PREFIX))
    await services.jobs.note_status(run_id, sent.message_ref)
    async with services.db.session() as session:
        row = await session.get(GenerationRun, run_id)
        chat = await session.get(Chat, row.chat_id) if row and row.chat_id else None
    if row is None or chat is None or row.status is RunStatus.RUNNING:
        return
    services.jobs.status_refs.pop(run_id, None)
    outbox = services.outboxes.get(chat.platform)
    if outbox is not None:
        await outbox.post(chat.external_id, [Reply(done_text(row), edit_of=sent.message_ref)])


ON_SENT = on_sent
