"""Word notes read with their headings as sections, pages counted at page breaks, bullet
points kept as points and tables as text."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import upload_errors as errors
from core.chunking import chunk_document
from core.readers.word import read_word
from storage.enums import ChunkKind
from tests.derived_material import sections_of, word_from
from tests.materials_support import EXCERPT


def test_word_notes_keep_headings_pages_points_and_tables(shared_data: Path) -> None:
    sections = sections_of(shared_data / EXCERPT)
    text = read_word(word_from(shared_data / EXCERPT))
    assert text.title == "Development of the Heart: notes"
    # One page per section (a page break follows each), then the table's page.
    assert text.page_count == len(sections) + 1
    headings = [(entry.level, entry.title, entry.page) for entry in text.outline]
    assert headings[:3] == [
        (0, "Development of the Heart: notes", 1),
        (1, "19.5 Development of the Heart", 1),
        (1, "Key Terms", 2),
    ]
    key_term_lines = text.pages[1].split("\n")
    # List Bullet paragraphs are points; plain paragraphs stay plain.
    assert (
        "• bulbus cordis portion of the primitive heart tube that will eventually develop into "
        "the right ventricle"
    ) in key_term_lines
    assert (
        "mesoderm one of the three primary germ layers that differentiate early in embryonic "
        "development"
    ) in key_term_lines
    assert "Topic: Key Terms; Page: 3" in text.pages[-1].split("\n")
    drafts = chunk_document(text)
    key_terms = [draft for draft in drafts if draft.kind is ChunkKind.KEY_TERMS]
    assert key_terms
    assert {(draft.heading, draft.page_start) for draft in key_terms} == {("Key Terms", 2)}


def test_a_damaged_word_file_is_refused_as_damaged(shared_data: Path) -> None:
    whole = word_from(shared_data / EXCERPT)
    with pytest.raises(errors.CorruptFile) as refused:
        read_word(whole[:-200])
    assert refused.value.user_message.startswith("I couldn't open that Word file")
