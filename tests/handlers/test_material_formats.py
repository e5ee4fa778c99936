"""A student sends lecture slides, Word notes, scanned handouts and photos: each becomes
material cited by its own pages (or slides), and each kind of bad file gets one clear
message and leaves nothing behind."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pptx
import pytest
from PIL import Image
from sqlalchemy import select

from core.embed import Embedder
from core.settings import Settings
from handlers.types import Tone
from storage.db import Database
from storage.models import Question
from tests.derived_material import (
    SLIDE_MEANING_WORDS,
    combined_pdf,
    deck_from,
    deck_of,
    glossary_deck_from,
    key_terms_of,
    page_images,
    photo,
    picture_without_text,
    scanned_pdf,
    word_from,
)
from tests.handlers.test_materials import Rig, make_rig
from tests.materials_support import CHAPTER, EXCERPT, HashingEmbedder, leftovers, slice_pdf

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1016)


@pytest.fixture
def quick_rig(settings: Settings, db: Database) -> Rig:
    return make_rig(settings, db, HashingEmbedder())


@pytest.fixture
def rig(settings: Settings, db: Database, embedder: Embedder) -> Rig:
    """With the real embedder: distractors are chosen by meaning."""
    return make_rig(settings, db, embedder)


async def test_a_deck_becomes_slides_with_titled_topics(quick_rig: Rig, shared_data: Path) -> None:
    ada = quick_rig.person()
    (reply,) = await ada.send("Lecture 5", deck_from(shared_data / EXCERPT))
    assert reply.tone is Tone.GOOD
    assert reply.text.startswith("Development of the Heart is ready: 6 slides, ")
    assert "Reading slide 1/6…" in ada.notes
    (listing,) = await ada.say("/materials")
    assert "· 6 slides, " in listing.text
    (topics,) = await ada.say("/topics 1")
    assert "• Where each topic starts (slide 6)" in topics.text
    left = await leftovers(quick_rig.db, quick_rig.settings, await quick_rig.scope_id())
    assert (left.materials, left.stored_files) == (1, 1)


async def test_word_notes_become_material_with_pages(quick_rig: Rig, shared_data: Path) -> None:
    ada = quick_rig.person()
    (reply,) = await ada.send("notes.docx", word_from(shared_data / EXCERPT))
    assert reply.text.startswith("Development of the Heart: notes is ready: 5 pages, ")


async def test_a_scanned_handout_is_read_with_ocr_and_says_what_it_skipped(
    quick_rig: Rig, shared_data: Path
) -> None:
    band = page_images(shared_data / CHAPTER, [9], dpi=200, band=(0.06, 0.22))[0]
    handout = combined_pdf(
        (slice_pdf(shared_data / EXCERPT, [1]), [1]),
        (scanned_pdf([band, picture_without_text()], dpi=200), [1, 2]),
    )
    ada = quick_rig.person()
    (reply,) = await ada.send("handout.pdf", handout)
    assert reply.tone is Tone.GOOD
    assert "is ready: 3 pages, " in reply.text
    assert "1 scanned page read with OCR. 1 page I couldn't read was skipped (p. 3)." in reply.text
    # One status message follows the OCR page by page.
    assert "Reading scanned pages with OCR (text recognition): 0/2 done…" in ada.notes
    assert ada.notes.index("Reading page 1/3…") < ada.notes.index(
        "Reading scanned pages with OCR (text recognition): 0/2 done…"
    )


def empty_deck() -> bytes:
    out = io.BytesIO()
    pptx.Presentation().save(out)
    return out.getvalue()


def cut_short(data: bytes) -> bytes:
    return data[: len(data) // 2]


BAD_FILES = [
    ("notes.txt", lambda _: b"My notes on the heart.\n", "I can't read that kind of file"),
    ("lecture.ppt", lambda _: OLE2 + "PowerPoint Document".encode("utf-16-le"),
     "That is an old-style PowerPoint file (.ppt or .doc from before 2007)"),
    ("notes.doc", lambda _: OLE2 + "WordDocument".encode("utf-16-le"),
     "That is an old-style Word file"),
    ("locked.pptx", lambda _: OLE2 + "EncryptedPackage".encode("utf-16-le"),
     "That PowerPoint file is password protected, so I can't read it."),
    ("lecture.pptx", lambda data: cut_short(deck_from(data / EXCERPT)),
     "I couldn't open that PowerPoint file: it looks damaged or incomplete"),
    ("notes.docx", lambda data: cut_short(word_from(data / EXCERPT)),
     "I couldn't open that Word file: it looks damaged or incomplete"),
    ("empty.pptx", lambda _: empty_deck(), "That PowerPoint file has no slides."),
    ("one.pptx", lambda _: deck_of([("Hello", ["a point", "another"], "")]),
     "That PowerPoint file has only 4 words of text, too little to make questions from."),
    ("huge.png", lambda _: photo(Image.new("1", (9_000, 9_000), 1), fmt="PNG"),
     "That picture is 81 megapixels, and I read pictures of up to 60 megapixels."),
    ("drawing.jpg", lambda _: photo(picture_without_text()),
     "I couldn't find any text in that photo, not even with OCR (text recognition)"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "make", "message"), BAD_FILES)
async def test_each_kind_of_bad_file_gets_one_clear_message_and_leaves_nothing(
    quick_rig: Rig, shared_data: Path, name: str, make: object, message: str
) -> None:
    ada = quick_rig.person()
    (reply,) = await ada.send(name, make(shared_data))  # type: ignore[operator]
    assert reply.text.startswith(message), reply.text
    assert reply.tone is Tone.WARNING
    assert (await leftovers(quick_rig.db, quick_rig.settings, await quick_rig.scope_id())).nothing


async def test_term_meaning_bullets_become_definition_questions_citing_slides(
    rig: Rig, shared_data: Path
) -> None:
    chapter = shared_data / CHAPTER
    bullets = {
        term: meaning
        for term, meaning in key_terms_of(chapter)
        if len(meaning.split()) <= SLIDE_MEANING_WORDS
    }
    ada = rig.person()
    (reply,) = await ada.send("revision.pptx", glossary_deck_from(chapter))
    assert reply.tone is Tone.GOOD, reply.text
    await ada.say("/quiz 10")
    async with rig.db.session() as session:
        questions = list(await session.scalars(select(Question)))
    assert len(questions) == 10
    # "Which term is defined as ...?" offers bullet terms; "Which best defines ...?" offers
    # the meanings of other bullets.
    naming = [q for q in questions if set(q.options) <= set(bullets)]
    defining = [
        q
        for q in questions
        if "best defines" in q.stem
        and all(any(option in meaning for meaning in bullets.values()) for option in q.options)
    ]
    assert len(naming) + len(defining) == 10, [q.stem for q in questions]
    assert naming and defining
    for question in questions:
        assert re.search(r"\(slides? \d+", question.explanation), question.explanation
        assert "p. " not in question.explanation, question.explanation
