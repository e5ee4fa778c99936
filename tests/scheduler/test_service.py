"""The APScheduler wiring: the tick runs on its own, stops gracefully, prints on the console."""

from __future__ import annotations

import asyncio
import io
from types import SimpleNamespace

import sqlalchemy as sa

from scheduler.notifier import Button, ConsoleNotifier, Notifier
from scheduler.service import start_scheduler
from storage.enums import DeliveryState, Platform
from storage.models import Delivery
from tests.scheduler.conftest import RecordingNotifier, add_user, utc


class SignallingNotifier(RecordingNotifier):
    """Lets the test wait for a send, and optionally holds each send until released."""

    def __init__(self, *, hold: bool = False) -> None:
        super().__init__()
        self.arrived = asyncio.Event()
        self.release = asyncio.Event()
        if not hold:
            self.release.set()

    async def send(self, address, text, buttons=()):  # type: ignore[no-untyped-def]
        self.arrived.set()
        await self.release.wait()
        return await super().send(address, text, buttons)


async def test_started_scheduler_pushes_without_being_called(db, pacer) -> None:
    await add_user(db, "asha", tz="Asia/Kolkata", due_cards=2)
    phone = SignallingNotifier()
    services = SimpleNamespace(db=db, clock=lambda: utc(2026, 6, 10, 14, 0))
    handle = await start_scheduler(services, {Platform.TELEGRAM: phone}, pacer=pacer)
    try:
        await asyncio.wait_for(phone.arrived.wait(), timeout=10)
    finally:
        await handle.stop()  # waits for the running tick to finish
    assert handle.last_report is not None
    assert [m.address for m in phone.sent] == ["asha"]
    assert not handle.scheduler.running


async def test_stop_lets_in_flight_sends_finish_and_starts_no_new_ones(db, pacer) -> None:
    for index in range(40):
        await add_user(db, f"u{index}", due_cards=1)
    phone = SignallingNotifier(hold=True)
    services = SimpleNamespace(db=db, clock=lambda: utc(2026, 6, 10, 19, 30))
    handle = await start_scheduler(services, {Platform.TELEGRAM: phone}, pacer=pacer)
    await asyncio.wait_for(phone.arrived.wait(), timeout=10)
    stopping = asyncio.create_task(handle.stop())
    await asyncio.sleep(0)
    phone.release.set()
    await asyncio.wait_for(stopping, timeout=10)
    async with db.session() as session:
        states = list(await session.scalars(sa.select(Delivery.state)))
    assert 0 < len(phone.sent) < 40
    assert states == [DeliveryState.SENT] * len(phone.sent), "no claim is left dangling"


async def test_console_notifier_prints_the_reminder_and_its_button() -> None:
    out = io.StringIO()
    console = ConsoleNotifier(out)
    assert isinstance(console, Notifier)
    await console.send("me", "3 cards due — about 2 minutes", [[Button("Start review", "rv")]])
    assert "3 cards due — about 2 minutes" in out.getvalue()
    assert "[Start review]" in out.getvalue()
