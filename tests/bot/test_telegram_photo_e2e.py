"""A photo of a page sent in Telegram (as a photo, not a file) becomes one page of material:
the real PTB Application against the fake Bot API, real OCR and ingest. Material: a band of
a page of OpenStax Anatomy and Physiology 2e, chapter 19 (CC BY 4.0)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings
from tests.bot.telegram_harness import RunningBot, running_bot
from tests.derived_material import page_images, photo
from tests.materials_support import CHAPTER

ALICE = 1001
pytestmark = pytest.mark.telegram_runtimes


@pytest.fixture
async def tg(settings: Settings, embedder: Any) -> AsyncIterator[RunningBot]:
    async with running_bot(settings, embedder=embedder) as running:
        yield running


# OCR plus the real embedder: tens of seconds on a busy two-core machine.
@pytest.mark.slow
async def test_a_photo_of_a_page_becomes_a_one_page_material(
    tg: RunningBot, shared_data: Path
) -> None:
    fake = tg.fake
    alice = fake.user(ALICE, "Alice")
    band = page_images(shared_data / CHAPTER, [9], dpi=200, band=(0.06, 0.3))[0]
    fake.send_photo(alice, photo(band))
    ready = await fake.wait_for_message(ALICE, "is ready", within=120)
    assert "is ready: 1 page, " in ready.text
    assert "Reading the text in your picture (OCR, text recognition)…" in ready.history
    # Only the largest size of the photo was downloaded, never its thumbnail.
    downloads = [call.params.get("file_id") for call in fake.calls if call.method == "getFile"]
    assert downloads and not any(str(file_id).endswith("-thumb") for file_id in downloads)
