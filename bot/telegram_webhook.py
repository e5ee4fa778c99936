"""Telegram webhook mode for several workers behind one public URL, on either runtime.

Each worker listens on ROUNDS_TELEGRAM_WEBHOOK_LISTEN (aiohttp) for `POST <path of
ROUNDS_TELEGRAM_WEBHOOK_URL>`, checks the X-Telegram-Bot-Api-Secret-Token header, stores
the Update in the inbox (storage/repos/telegram_inbox.py) and answers 200 only then: an
update Telegram was told about is in the database, whichever worker the proxy chose. The
worker then drains that chat: it claims the chat's oldest unprocessed update, feeds it to
its runtime (PTB Application or aiogram Dispatcher), marks it processed, and repeats. A
redelivered update is stored once; a chat's updates run one at a time in update_id order
even when its POSTs land on different workers. (The order is that of the updates stored:
Telegram sends them in update_id order, but two of one chat racing on two of its connections
within milliseconds can be stored the wrong way round, and are then run in the order stored.)
A sweep picks up what a crashed worker held once its lease runs out (such an update may run
a second time: at least once, in order).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from bot.app import App
from storage.db import Database
from storage.repos import telegram_inbox as inbox

log = logging.getLogger(__name__)

Feed = Callable[[dict[str, Any]], Awaitable[None]]

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# A worker holds an update this long per claim and renews it while the handler runs, so a
# crashed worker's update is taken over after at most a lease.
LEASE = timedelta(seconds=60)
RENEW_EVERY_S = 20.0
SWEEP_EVERY_S = 15.0
# Processed update ids are remembered this long to refuse Telegram's redeliveries.
KEEP_PROCESSED = timedelta(days=1)


def chat_of(update: dict[str, Any]) -> int:
    """The chat an Update JSON belongs to (its sender's id when it has no chat; 0 if
    neither): the unit whose order is kept."""
    for key, body in update.items():
        if key == "update_id" or not isinstance(body, dict):
            continue
        for holder in (body, body.get("message")):
            if isinstance(holder, dict) and isinstance(holder.get("chat"), dict):
                return int(holder["chat"].get("id", 0))
        sender = body.get("from") or body.get("user")
        if isinstance(sender, dict):
            return int(sender.get("id", 0))
    return 0


def worker_name() -> str:
    """Unique per process and start: the holder written on a claim."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class WebhookInbox:
    """Receives POSTs into the inbox and drains chats through `feed`."""

    def __init__(
        self, *, db: Database, feed: Feed, secret: str, clock: Callable[[], datetime]
    ) -> None:
        self.db = db
        self.feed = feed
        self.secret = secret.encode()
        self.clock = clock
        self.worker = worker_name()
        self.closing = False
        self._drains: set[asyncio.Task[None]] = set()

    async def receive(self, request: web.Request) -> web.Response:
        """POST handler: 403 without the secret, 400 for a body that is no Update, 200 once
        the update is stored (a repeat of a stored one too: Telegram must stop resending)."""
        offered = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(offered, self.secret):
            return web.Response(status=403)
        try:
            update = await request.json()
        except ValueError:
            return web.Response(status=400)
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            return web.Response(status=400)
        chat_id = chat_of(update)
        async with self.db.session() as session:
            fresh = await inbox.store(
                session, update_id=update["update_id"], chat_id=chat_id, payload=update,
                now=self.clock(),
            )  # fmt: skip
        if fresh:
            self.kick(chat_id)
        return web.Response()

    def kick(self, chat_id: int) -> None:
        """Drains the chat in the background (after the POST has been answered)."""
        if self.closing:
            return
        task = asyncio.create_task(self.drain(chat_id))
        self._drains.add(task)
        task.add_done_callback(self._drains.discard)

    async def drain(self, chat_id: int) -> int:
        """Processes the chat's updates in order while this worker can claim them; returns
        how many it processed."""
        done = 0
        now = self.clock()
        async with self.db.session() as session:
            claimed = await inbox.claim_next(
                session, chat_id=chat_id, worker=self.worker, now=now, until=now + LEASE
            )
        while claimed is not None:
            update_id, update = claimed
            renewing = asyncio.create_task(self._renew(update_id))
            try:
                await self.feed(update)
            except Exception:  # the runtime's own error handler missed it: never block a chat
                log.exception("update %s in chat %s failed", update_id, chat_id)
            finally:
                renewing.cancel()
            done += 1
            now = self.clock()
            # Done with this one and the claim of the next in one transaction.
            async with self.db.session() as session:
                await inbox.mark_processed(
                    session, update_id=update_id, worker=self.worker, now=now
                )
                claimed = None
                if not self.closing:
                    claimed = await inbox.claim_next(
                        session, chat_id=chat_id, worker=self.worker, now=now, until=now + LEASE
                    )
        return done

    async def _renew(self, update_id: int) -> None:
        while True:
            await asyncio.sleep(RENEW_EVERY_S)
            async with self.db.session() as session:
                if not await inbox.extend_claim(
                    session, update_id=update_id, worker=self.worker, until=self.clock() + LEASE
                ):
                    return

    async def sweep(self) -> None:
        """Drains every chat with an update nobody holds; forgets old processed ids."""
        now = self.clock()
        async with self.db.session() as session:
            chats = await inbox.chats_waiting(session, now=now)
            await inbox.forget_processed(session, before=now - KEEP_PROCESSED)
        for chat_id in chats:
            self.kick(chat_id)

    async def sweep_forever(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("webhook inbox sweep failed")
            await asyncio.sleep(SWEEP_EVERY_S)

    async def finish(self) -> None:
        """Takes no new update; the ones in progress finish."""
        self.closing = True
        await asyncio.gather(*self._drains, return_exceptions=True)


@contextlib.asynccontextmanager
async def serving(app: App, feed: Feed, secret: str) -> AsyncIterator[WebhookInbox]:
    """Listens for webhook POSTs until the block exits, then lets updates in flight finish.
    The caller has told Telegram the URL (setWebhook) with the same secret."""
    settings = app.settings
    receiver = WebhookInbox(db=app.services.db, feed=feed, secret=secret, clock=app.services.clock)
    server = web.Application()
    server.router.add_post(urlsplit(settings.telegram_webhook_url).path or "/", receiver.receive)
    runner = web.AppRunner(server, handle_signals=False, access_log=None)
    await runner.setup()
    host, port = settings.telegram_webhook_address
    await web.TCPSite(runner, host, port).start()
    sweeping = asyncio.create_task(receiver.sweep_forever())
    try:
        yield receiver
    finally:
        sweeping.cancel()
        await runner.cleanup()
        await receiver.finish()
