"""Webhook mode with two workers behind one ingress, on PostgreSQL: two real bot Applications
(each its own engine and webhook server) receive the Updates through a round-robin proxy, one
of them again through each worker. Each update is answered once, and each chat's answers come
in the order its messages were sent, whichever worker got which POST."""

from __future__ import annotations

import asyncio
import itertools
import socket
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import aiohttp
import pytest
from aiohttp import web

from bot.app import build_app
from bot.telegram_events import webhook_secret
from bot.telegram_webhook import SECRET_HEADER
from core.settings import Settings
from tests.bot.telegram_harness import serve_for, services_for, telegram_settings
from tests.fakes.telegram_server import FakeTelegram

pytestmark = [pytest.mark.postgres, pytest.mark.telegram_runtimes]

ALICE, BOB = 2001, 2002
PROBES = 5  # unknown commands per student: each reply names its command


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def round_robin(ports: list[int]) -> AsyncIterator[str]:
    """The reverse proxy: each POST goes to the next worker in turn, body and headers as
    they came."""
    turn = itertools.cycle(ports)
    client = aiohttp.ClientSession()

    async def forward(request: web.Request) -> web.Response:
        target = f"http://127.0.0.1:{next(turn)}{request.path}"
        async with client.post(
            target, data=await request.read(), headers={
                "Content-Type": "application/json",
                SECRET_HEADER: request.headers.get(SECRET_HEADER, ""),
            },
        ) as answer:  # fmt: skip
            return web.Response(status=answer.status)

    proxy = web.Application()
    proxy.router.add_post("/{path:.*}", forward)
    runner = web.AppRunner(proxy, handle_signals=False)
    await runner.setup()
    port = _free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
        await client.close()


async def test_two_webhook_workers_answer_each_update_once_in_chat_order(
    settings: Settings, postgres_db_url: str
) -> None:
    fake = await FakeTelegram().start()
    worker_ports = [_free_port(), _free_port()]
    async with AsyncExitStack() as stack:
        stack.push_async_callback(fake.stop)
        ingress = await stack.enter_async_context(round_robin(worker_ports))
        url = f"{ingress}/telegram/hook"
        apps = []
        for port in worker_ports:
            worker = telegram_settings(
                settings, fake, database_url_override=postgres_db_url,
                telegram_webhook_url=url, telegram_webhook_listen=f"127.0.0.1:{port}",
            )  # fmt: skip
            app = await build_app(worker, services_for(worker))
            stack.push_async_callback(app.close)
            stop, started = asyncio.Event(), asyncio.Event()
            task = asyncio.create_task(serve_for(worker)(app, stop, started=started))

            async def halt(stop: asyncio.Event = stop, task: asyncio.Task = task) -> None:
                stop.set()
                await asyncio.wait_for(task, 15)

            stack.push_async_callback(halt)
            await asyncio.wait_for(started.wait(), 15)
            apps.append(app)
        assert fake.webhook["url"] == url

        alice, bob = fake.user(ALICE, "Alice"), fake.user(BOB, "Bob")
        for i in range(PROBES):
            fake.send_text(alice, f"/a{i}")
            fake.send_text(bob, f"/b{i}")
        updates = fake.take_updates()
        headers = {SECRET_HEADER: webhook_secret(apps[0])}
        async with aiohttp.ClientSession() as telegram:

            async def deliver(update: dict) -> int:
                async with telegram.post(url, json=update, headers=headers) as answer:
                    return answer.status

            async def deliver_chat(chat: int) -> list[int]:
                # Telegram sends a bot's updates in update_id order: a chat's next one once
                # the last was accepted. The chats go in parallel, through both workers.
                return [await deliver(u) for u in updates if u["message"]["chat"]["id"] == chat]

            statuses = await asyncio.gather(deliver_chat(ALICE), deliver_chat(BOB))
            # A redelivery (Telegram missed the 200), arriving through the other worker.
            statuses.append([await deliver(updates[2]), await deliver(updates[2])])
            assert {status for chat in statuses for status in chat} == {200}
            forged = await telegram.post(url, json=updates[0], headers={SECRET_HEADER: "x"})
            assert forged.status == 403

        def replies(chat: int) -> list[str]:
            return [m.text for m in fake.bot_messages(chat)]

        await fake.wait_until(
            lambda: len(replies(ALICE)) >= PROBES and len(replies(BOB)) >= PROBES
        )
        await asyncio.sleep(0.3)  # a duplicate answered late would show up now
        for chat, letter in ((ALICE, "a"), (BOB, "b")):
            assert [text.split(".")[0] for text in replies(chat)] == [
                f"I don't know /{letter}{i}" for i in range(PROBES)
            ]
