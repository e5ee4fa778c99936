"""/stats through each runtime (PTB, aiogram) and the fake Bot API: the dashboard arrives as a
photo with the two-line summary as its caption."""

from __future__ import annotations

import pytest

from core.charts import charts_dir
from core.settings import Settings
from storage.enums import Platform
from tests.bot.telegram_harness import running_bot
from tests.progress_seed import NOW, seed_history

pytestmark = pytest.mark.telegram_runtimes

ADA = 2001


async def test_stats_arrives_as_a_photo_with_the_summary_as_caption(settings: Settings) -> None:
    async with running_bot(settings, clock=lambda: NOW) as tg:
        seeded = await seed_history(
            tg.app.services.db, external_id=str(ADA), platform=Platform.TELEGRAM
        )
        tg.fake.send_text(tg.fake.user(ADA, "Ada"), "/stats")
        photo = await tg.fake.wait_for_message(ADA, "Last 7 days")
        assert photo.kind == "photo"
        assert photo.text.splitlines()[-4:] == [
            "Last 7 days: 13 answered, 23% right (the 7 before: 8 answered, 75% right).",
            "Streak 2 days (best 6) · level 5, 1,240 XP (260 to go) · due today 4, tomorrow 3.",
            "Cards: 10 in play, 0 mastered (next review 21+ days away).",
            "Retention (SM-2): shows up once you review cards a second time.",
        ]
        (upload,) = tg.fake.calls_of("sendPhoto")
        filename, size = upload.files["photo"]
        (chart,) = charts_dir(settings.data_dir, seeded.user_id).iterdir()
        assert filename == chart.name and size == chart.stat().st_size
        assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
