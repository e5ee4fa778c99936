"""A lecture deck reads as one page per slide: titles are headings, bullets stay points,
speaker notes and tables are text, and a terse slide is one passage under its title."""

from __future__ import annotations

import io
from pathlib import Path

import pptx
import pytest

from core import upload_errors as errors
from core.chunking import chunk_document
from core.readers.slides import read_slides
from storage.enums import ChunkKind
from tests.derived_material import deck_from, deck_of, sections_of
from tests.materials_support import EXCERPT

TERSE = [
    ("Heart tube regions", ["Truncus arteriosus", "Bulbus cordis", "Primitive ventricle"],
     "From head to tail the primitive heart tube has five regions."),
    ("Fetal shunts", ["Foramen ovale: between the atria", "Ductus arteriosus: aorta to trunk"],
     ""),
    ("Timeline", ["Day 18-19: cardiogenic area forms", "Day 21-22: the heart starts beating",
                  "Day 23-28: the tube folds into an S shape"], "Ask about week five."),
]  # fmt: skip


def test_a_deck_from_a_chapter_reads_as_titled_slides_with_notes_and_a_table(
    shared_data: Path,
) -> None:
    sections = sections_of(shared_data / EXCERPT)
    text = read_slides(deck_from(shared_data / EXCERPT))
    assert text.page_count == len(sections) + 2  # a title slide and a closing table slide
    assert text.title == "Development of the Heart"
    titles = [(entry.title, entry.page) for entry in text.outline]
    assert titles[1] == ("19.5 Development of the Heart", 2)
    assert ("Key Terms", 3) in titles
    key_terms = text.pages[2].split("\n")
    assert key_terms[0] == "Key Terms"
    mesoderm = (
        "• mesoderm one of the three primary germ layers that differentiate early in "
        "embryonic development"
    )
    assert mesoderm in key_terms
    # The body slide's long paragraphs went to its speaker notes, and are read from there.
    assert "The human heart is the first functional organ to develop." in text.pages[1]
    assert "Topic: Key Terms; Page: 3" in text.pages[-1].split("\n")


def test_each_terse_slide_is_one_passage_with_its_title_and_slide_number() -> None:
    drafts = chunk_document(read_slides(deck_of(TERSE)))
    assert [(d.heading, d.page_start, d.page_end) for d in drafts] == [
        ("Heart tube regions", 1, 1),
        ("Fetal shunts", 2, 2),
        ("Timeline", 3, 3),
    ]
    assert drafts[0].text.split("\n") == [
        "• Truncus arteriosus",
        "• Bulbus cordis",
        "• Primitive ventricle",
        "From head to tail the primitive heart tube has five regions.",
    ]
    assert all(draft.kind is ChunkKind.BODY for draft in drafts)


def test_a_deck_without_slides_and_one_with_too_many_are_refused() -> None:
    out = io.BytesIO()
    pptx.Presentation().save(out)
    with pytest.raises(errors.NoPages) as empty:
        read_slides(out.getvalue())
    assert empty.value.user_message == (
        "That PowerPoint file has no slides. Please check it and send the right file."
    )
    with pytest.raises(errors.TooManyPages) as long:
        read_slides(deck_of(TERSE), max_slides=2)
    assert long.value.user_message.startswith(
        "That PowerPoint file has 3 slides, and I read up to 2 slides at a time."
    )


def test_a_damaged_deck_is_refused_as_damaged() -> None:
    whole = deck_of(TERSE)
    with pytest.raises(errors.CorruptFile) as refused:
        read_slides(whole[: len(whole) // 2])
    assert refused.value.user_message.startswith("I couldn't open that PowerPoint file")
