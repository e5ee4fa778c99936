"""Group-round timers: one APScheduler date job per open round walks it through its steps.

countdown -> post question 1 -> at closes_at close it (edit: key, votes, fastest) -> reveal
pause -> post question 2 -> ... -> final leaderboard. Every tick reads the round's rows,
performs what is due (core.round_service), commits, and only then talks to the chat through
the platform's Notifier (group chat external id as the address), so a click racing a post
or a close always meets committed state. It then books its next wake-up for the next step.

Nothing lives only in memory: on start-up `resume_open_rounds` books a tick for every round
a restart left open (a step overdue by more than core.rounds.STALE_AFTER ends the round with
the standings so far instead), and a periodic sweep books one for any open round without a
job (a round started in another worker, or a wake-up lost to a crash), so no round stays
open forever. Time comes from an injected clock; tests drive the jobs by hand.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from core import round_service
from core.round_service import Outgoing
from core.rounds import STALE_AFTER
from scheduler.notifier import Notifier, RecipientUnreachable
from storage.db import Database
from storage.enums import Platform
from storage.models import Chat, GroupRound
from storage.repos import rounds as repo

log = logging.getLogger(__name__)

JOB_PREFIX = "round:"
SWEEP_JOB_ID = "rounds:sweep"
SWEEP_SECONDS = 10
# With no notifier registered yet for the round's platform (adapter still starting), try
# again this much later rather than run a round nobody can see.
NOTIFIER_RETRY = timedelta(seconds=2)
# A tick performs at most this many steps (close + finish, or a backlog after a restart).
MAX_STEPS_PER_TICK = 8


def job_id(round_id: int) -> str:
    return f"{JOB_PREFIX}{round_id}"


class RoundTimers:
    """Books and runs the round ticks on an APScheduler 3 scheduler (its own by default).

    Not elected like the push tick: a tick locks its round's row (PostgreSQL) and acts only
    on what is still due, so two processes ticking one round cannot post anything twice.
    """

    def __init__(
        self,
        *,
        db: Database,
        notifiers: Mapping[Platform, Any],
        clock: Callable[[], datetime],
        scheduler: Any = None,
    ) -> None:
        self.db = db
        self.scheduler = scheduler if scheduler is not None else AsyncIOScheduler(timezone=UTC)
        # The App's live dict: adapters register their notifier in it as they come up.
        self.notifiers = notifiers
        self.clock = clock

    async def start(self) -> None:
        """Starts the scheduler (on the running loop), the sweep, and resumes open rounds."""
        if not self.scheduler.running:
            self.scheduler.start()
        self.install()
        await self.resume_open_rounds()

    def stop(self) -> None:
        """Drops the booked ticks; the rounds' rows let the next start resume them."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    # --- booking ----------------------------------------------------------------------------

    def wake(self, round_id: int, at: datetime) -> None:
        """Books (or moves) the round's single pending tick to `at`."""
        self.scheduler.add_job(
            self.tick,
            trigger=DateTrigger(run_date=at),
            args=[round_id],
            id=job_id(round_id),
            name=f"round {round_id} tick",
            replace_existing=True,
            # A late tick still runs: the round's state, not the timer, decides what to do.
            misfire_grace_time=None,
            coalesce=True,
        )

    def install(self) -> None:
        """Adds the periodic sweep (call once, with the scheduler that will run it)."""
        self.scheduler.add_job(
            self.sweep,
            trigger="interval",
            seconds=SWEEP_SECONDS,
            id=SWEEP_JOB_ID,
            name="group round sweep",
            replace_existing=True,
            coalesce=True,
            max_instances=1,
        )

    async def resume_open_rounds(self) -> int:
        """Books a tick for every open round (start-up). Returns how many there were."""
        now = self.clock()
        booked = 0
        async with self.db.session() as session:
            for group_round in await repo.open_rounds(session):
                step = await round_service.due_step(session, group_round)
                if step is not None:
                    self.wake(group_round.id, max(step.at, now))
                    booked += 1
        if booked:
            log.info("resuming %d open group round(s)", booked)
        return booked

    async def sweep(self) -> None:
        """Books a tick for any open round that has none (started elsewhere, or lost)."""
        now = self.clock()
        async with self.db.session() as session:
            for group_round in await repo.open_rounds(session):
                if self.scheduler.get_job(job_id(group_round.id)) is not None:
                    continue
                step = await round_service.due_step(session, group_round)
                if step is not None:
                    self.wake(group_round.id, max(step.at, now))

    # --- running ----------------------------------------------------------------------------

    async def tick(self, round_id: int) -> None:
        """Performs every step of the round that is due now, then books the next wake-up."""
        for _ in range(MAX_STEPS_PER_TICK):
            now = self.clock()
            async with self.db.session() as session:
                group_round = await repo.get_round(session, round_id, for_update=True)
                if group_round is None:
                    return
                step = await round_service.due_step(session, group_round)
                if step is None:
                    return
                if step.at > now:
                    self.wake(round_id, step.at)
                    return
                chat = await session.get(Chat, group_round.chat_id)
                if chat is None:
                    return
                platform, address = chat.platform, chat.external_id
                notifier = self.notifiers.get(platform)
                if notifier is None and now - step.at <= STALE_AFTER:
                    log.info("round %s waits for a %s notifier", round_id, platform)
                    self.wake(round_id, now + NOTIFIER_RETRY)
                    return
                outgoing = await round_service.perform(session, group_round, step, now=now)
            if notifier is not None and not await self._deliver(
                notifier, address, round_id, outgoing
            ):
                return
        # A backlog longer than one tick (unusual): carry on at once in a fresh tick.
        self.wake(round_id, self.clock())

    async def _deliver(
        self, notifier: Notifier, address: str, round_id: int, outgoing: list[Outgoing]
    ) -> bool:
        """Sends one step's messages in order; False if the chat is gone (round stopped)."""
        for message in outgoing:
            buttons = message.buttons
            try:
                if message.is_edit and message.edit_ref:
                    await notifier.edit(address, message.edit_ref, message.text, buttons)
                    continue
                ref = await notifier.send(address, message.text, buttons)
            except RecipientUnreachable:
                log.warning("round %s: its chat is unreachable; stopping the round", round_id)
                await self._stop_silently(round_id)
                return False
            except Exception:
                # A lost message is not worth stalling the round for; the next step goes on.
                log.exception("round %s: could not deliver a message", round_id)
                continue
            if message.item_id is not None:
                async with self.db.session() as session:
                    await round_service.set_message_ref(session, message.item_id, ref)
        return True

    async def _stop_silently(self, round_id: int) -> None:
        async with self.db.session() as session:
            group_round = await session.get(GroupRound, round_id)
            if group_round is not None:
                await round_service.stop(
                    session, group_round, now=self.clock(), reason="the chat is unreachable"
                )
