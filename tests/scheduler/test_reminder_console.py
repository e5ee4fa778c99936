"""The console hears the reminder too: printed as a panel whose numbered button starts the
review, pushed by the real scheduler tick on an injected clock."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from rich.console import Console

from bot.app import build_app
from bot.console import ConsoleChat, ConsolePush
from core.settings import Settings
from scheduler.service import PushScheduler
from storage.enums import Platform
from storage.models import Card
from tests.study_seed import Clock, seed_student

EVENING = datetime(2026, 11, 24, 19, 30, tzinfo=UTC)


async def test_console_reminder_button_starts_the_review(settings: Settings) -> None:
    app = await build_app(settings)
    try:
        clock = Clock(EVENING)
        app.services.clock = clock
        out = io.StringIO()
        chat = ConsoleChat(app, Console(file=out, width=100), user_id="ada")
        seeded = await seed_student(app.services.db, external_id="ada", count=2)
        async with app.services.db.session() as session:
            session.add_all(
                Card(user_id=seeded.user_id, question_id=question_id, due_at=EVENING)
                for question_id in seeded.question_ids
            )
        app.notifiers[Platform.CONSOLE] = ConsolePush(chat)
        pushes = PushScheduler(app.services.db, app.notifiers, clock=clock)
        await pushes.tick()
        await pushes.tick()
        printed = out.getvalue()
        assert printed.count("2 cards due — about 1 minute") == 1
        assert "1) Start review" in printed
        await chat.handle_line("1")
        assert "Review 1 of 2" in out.getvalue()
    finally:
        await app.close()
