"""Several pictures sent together in Telegram (an album: one message per picture, sharing a
media_group_id) become one material, a page per picture in the order sent, with one status
message; one bad picture refuses the album and keeps none of it. The real Telegram
libraries against the fake Bot API, real OCR and ingest. Material: bands of pages of OpenStax
Anatomy and Physiology 2e, chapter 19 (CC BY 4.0)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from core.settings import Settings
from storage.enums import Platform
from storage.models import Chunk
from tests.bot.telegram_harness import RunningBot, running_bot
from tests.derived_material import page_images, photo, text_in_band
from tests.materials_support import CHAPTER, leftovers, student_scope

ALICE = 1001
STUDY_GROUP = -500
pytestmark = pytest.mark.telegram_runtimes
# Short bands of three pages: three pictures that OCR reads in seconds each.
PAGES, BAND = (9, 11, 12), (0.06, 0.2)


@pytest.fixture
async def tg(settings: Settings, embedder: Any) -> AsyncIterator[RunningBot]:
    # A burst of 2 events: an album of 3 must still count once, or pictures would be lost.
    overrides = {"album_quiet_s": 0.5, "rate_user_burst": 2}
    async with running_bot(settings, overrides, embedder=embedder) as running:
        yield running


def _words(text: str) -> set[str]:
    return {word.lower() for word in re.findall(r"[A-Za-z]{6,}", text)}


@pytest.mark.slow
async def test_an_album_of_photos_becomes_one_material_in_order(
    tg: RunningBot, shared_data: Path
) -> None:
    fake = tg.fake
    alice = fake.user(ALICE, "Alice")
    bands = page_images(shared_data / CHAPTER, list(PAGES), dpi=200, band=BAND)
    for position, band in enumerate(bands):
        caption = "Heart, pp. 9, 11, 12" if position == 0 else ""
        fake.send_photo(alice, photo(band), caption=caption, media_group_id="album-1")
    ready = await fake.wait_for_message(ALICE, "is ready", within=180)
    assert "is ready: 3 pages, " in ready.text
    assert "3 scanned pages read with OCR." in ready.text
    # One status message told the whole story, and one material came of it.
    assert ready.history[0] == "Got your 3 pictures, reading them…"
    assert "Reading scanned pages with OCR (text recognition): 3/3 done…" in ready.history
    assert [m for m in fake.bot_messages(ALICE) if "is ready" in m.text] == [ready]
    assert not [m for m in fake.bot_messages(ALICE) if "Slow down" in m.text]
    scope = await student_scope(tg.app.services.db, str(ALICE), Platform.TELEGRAM)
    async with tg.app.services.db.session() as session:
        rows = await session.execute(
            select(Chunk.page_start, Chunk.page_end, Chunk.text).order_by(Chunk.ordinal)
        )
        chunks = rows.all()
    shown = [_words(text_in_band(shared_data / CHAPTER, page, BAND)) for page in PAGES]
    # Page n holds what picture n shows ...
    for number, words in enumerate(shown, start=1):
        read = _words(" ".join(text for first, last, text in chunks if first <= number <= last))
        assert len(words & read) >= 0.6 * len(words), (number, sorted(words - read))
    # ... and the material reads the pictures in the order they were sent.
    material = " ".join(text for _, _, text in chunks).lower()
    firsts = [
        min(material.find(word) for word in words - set().union(*others) if word in material)
        for words, others in ((w, [o for o in shown if o is not w]) for w in shown)
    ]
    assert firsts == sorted(firsts), firsts
    left = await leftovers(tg.app.services.db, tg.app.settings, scope.id)
    assert (left.materials, left.stored_files) == (1, 1)


async def test_one_bad_picture_in_an_album_keeps_none_of_it(
    tg: RunningBot, shared_data: Path
) -> None:
    fake = tg.fake
    alice = fake.user(ALICE, "Alice")
    band = page_images(shared_data / CHAPTER, [9], dpi=200, band=BAND)[0]
    huge = photo(Image.new("1", (9_000, 9_000), 1), fmt="PNG")
    for name, data, mime in (
        ("p1.jpg", photo(band), "image/jpeg"),
        ("p2.png", huge, "image/png"),
        ("p3.jpg", photo(band.rotate(180)), "image/jpeg"),
    ):
        fake.send_document(alice, name, data, mime_type=mime, media_group_id="album-2")
    refused = await fake.wait_for_message(ALICE, "added none of them", within=60)
    assert refused.text.startswith(
        "⚠️ I couldn't use picture 2 of the 3 you sent together, so I added none of them. "
        "That picture is 81 megapixels, and I read pictures of up to 60 megapixels."
    ), refused.text
    assert len(fake.bot_messages(ALICE)) == 1  # the status message became the refusal
    scope = await student_scope(tg.app.services.db, str(ALICE), Platform.TELEGRAM)
    assert (await leftovers(tg.app.services.db, tg.app.settings, scope.id)).nothing


async def test_a_group_album_is_read_only_when_sent_with_upload(
    tg: RunningBot, shared_data: Path
) -> None:
    fake = tg.fake
    alice = fake.user(ALICE, "Alice")
    fake.group(STUDY_GROUP, "Cardio study group")
    band = page_images(shared_data / CHAPTER, [9], dpi=200, band=BAND)[0]
    huge = photo(Image.new("1", (9_000, 9_000), 1), fmt="PNG")
    # Holiday pictures shared in the group are none of Rounds' business ...
    for data in (photo(band), photo(band)):
        fake.send_photo(alice, data, chat_id=STUDY_GROUP, media_group_id="holiday")
    # ... an album sent with /upload is (its caption sits on its first picture only).
    fake.send_photo(alice, photo(band), caption="/upload", chat_id=STUDY_GROUP,
                    media_group_id="notes")  # fmt: skip
    fake.send_document(alice, "p2.png", huge, mime_type="image/png", chat_id=STUDY_GROUP,
                       media_group_id="notes")  # fmt: skip
    refused = await fake.wait_for_message(STUDY_GROUP, "added none of them", within=60)
    assert "picture 2 of the 2 you sent together" in refused.text
    assert len(fake.bot_messages(STUDY_GROUP)) == 1
