"""Chunks: sized for the embedding model, cited to the right pages, labelled by what they are."""

from __future__ import annotations

import itertools
from functools import cache
from pathlib import Path

from core.chunking import CHUNK_SIZE, ChunkDraft, chunk_document, chunk_lines, find_headings
from core.embed import MiniLMEmbedder
from core.pdf_text import PdfText, TextLine, extract
from storage.enums import ChunkKind
from tests.conftest import SHARED_DATA
from tests.materials_support import EXCERPT, HEART


@cache
def chunks_of(name: str) -> list[ChunkDraft]:
    return chunk_document(extract((SHARED_DATA / name).read_bytes()))


def containing(chunks: list[ChunkDraft], sentence: str) -> list[ChunkDraft]:
    return [chunk for chunk in chunks if sentence in chunk.text]


def test_excerpt_chunks_cite_the_pages_their_sentences_are_printed_on(shared_data: Path) -> None:
    chunks = chunks_of(EXCERPT)
    for sentence, page in [
        ("The human heart is the first functional organ to develop.", 1),
        ("The bulbus cordis develops into the right ventricle.", 2),
        ("This process occurs between days 23 and 28.", 2),
        ("The semilunar valves form between weeks five and nine.", 3),
    ]:
        found = containing(chunks, sentence)
        assert found, sentence
        assert all(chunk.page_start <= page <= chunk.page_end for chunk in found)
        assert found[0].page_start == page


def test_a_paragraph_broken_across_pages_is_one_text_with_a_page_range(shared_data: Path) -> None:
    chunks = chunks_of(HEART)
    # Pages 2 -> 3 of the heart chapter break inside this paragraph.
    spanning = [chunk for chunk in chunks if chunk.page_start < chunk.page_end]
    assert spanning
    assert all(chunk.page_end == chunk.page_start + 1 for chunk in spanning)


def test_end_of_chapter_parts_get_their_kind(shared_data: Path) -> None:
    chunks = chunks_of(EXCERPT)
    kinds = {chunk.kind for chunk in chunks}
    assert kinds == set(ChunkKind)
    (question,) = containing(chunks, "The earliest organ to form and begin function")
    assert question.kind is ChunkKind.REVIEW_QUESTIONS
    (critical,) = containing(chunks, "Why is it so important for the human heart to develop early")
    assert critical.kind is ChunkKind.REVIEW_QUESTIONS
    glossary = containing(chunks, "bulbus cordis portion of the primitive heart tube")
    assert [chunk.kind for chunk in glossary] == [ChunkKind.KEY_TERMS]
    summary = containing(chunks, "The heart is the first organ to form and become functional")
    assert [chunk.kind for chunk in summary] == [ChunkKind.SUMMARY]
    assert summary[0].heading == "Chapter Review › 19.5 Development of the Heart"
    for chunk in chunks:
        if chunk.kind is ChunkKind.BODY:
            assert chunk.heading == "19.5 Development of the Heart"
            assert "a. brain" not in chunk.text
            assert "Review Questions" not in chunk.text


def test_glossary_entries_are_one_per_line(shared_data: Path) -> None:
    glossary = "\n".join(c.text for c in chunks_of(EXCERPT) if c.kind is ChunkKind.KEY_TERMS)
    lines = glossary.split("\n")
    assert (
        "cardiogenic area area near the head of the embryo where the heart begins to develop "
        "18–19 days after fertilization"
    ) in lines
    assert (
        "mesoderm one of the three primary germ layers that differentiate early in "
        "embryonic development"
    ) in lines


def test_running_headers_footers_and_attribution_never_reach_a_chunk(shared_data: Path) -> None:
    for name in (EXCERPT, HEART):
        for chunk in chunks_of(name):
            for furniture in ("OpenStax", "CC BY", "Creative Commons", "Chapter 19 |"):
                assert furniture not in chunk.text, (name, chunk.ordinal)


def test_chunks_fit_the_embedding_window(shared_data: Path, embedder: MiniLMEmbedder) -> None:
    chunks = chunks_of(HEART)
    lengths = embedder.word_pieces([chunk.embed_text for chunk in chunks])
    # MiniLM ignores everything past 256 word pieces; nearly every chunk must fit whole.
    assert sum(n <= 256 for n in lengths) >= 0.97 * len(lengths)
    assert max(len(chunk.text) for chunk in chunks) <= CHUNK_SIZE + 250
    assert sorted(chunk.ordinal for chunk in chunks) == list(range(len(chunks)))


def test_chapter_end_matter_is_labelled_and_references_are_left_out(shared_data: Path) -> None:
    chunks = chunks_of(HEART)
    by_heading = {chunk.heading: chunk.kind for chunk in chunks}
    assert by_heading["Chapter Review › 19.1 Heart Anatomy"] is ChunkKind.SUMMARY
    assert by_heading["Interactive Link Questions"] is ChunkKind.REVIEW_QUESTIONS
    assert by_heading["Critical Thinking Questions"] is ChunkKind.REVIEW_QUESTIONS
    assert by_heading["Key Terms"] is ChunkKind.KEY_TERMS
    assert by_heading["19.1 Heart Anatomy › Location of the Heart"] is ChunkKind.BODY
    assert not containing(chunks, "Investigating the Broken-Heart Effect")  # References


def test_inline_question_boxes_are_questions_and_the_body_after_them_is_not(
    shared_data: Path,
) -> None:
    chunks = chunks_of("micro_ch14_antimicrobial_drugs.pdf")
    (box,) = containing(chunks, "Explain the difference between synergistic and antagonistic")
    assert box.kind is ChunkKind.REVIEW_QUESTIONS
    after = containing(chunks, "most antimicrobial drugs are self-administered by patients")
    assert after and all(chunk.kind is ChunkKind.BODY for chunk in after)
    assert not containing(chunks, "Clinical Orthopaedics and Related Research")  # Footnotes
    assert containing(chunks, "Narrow-spectrum antimicrobials are commonly used")[0].kind is (
        ChunkKind.REVIEW_QUESTIONS
    )


def test_a_new_chapter_after_review_questions_is_body_again(shared_data: Path) -> None:
    chunks = chunks_of("ap2e_selected_chapters_benchmark.pdf")
    (opening,) = [c for c in chunks if c.heading.startswith("18.1 An Overview of Blood")][:1]
    assert opening.kind is ChunkKind.BODY
    kinds_in_order = [chunk.kind for chunk in chunks]
    # Five chapters: body, then end matter, five times over.
    switches = sum(
        1
        for before, after in itertools.pairwise(kinds_in_order)
        if before is ChunkKind.REVIEW_QUESTIONS and after is ChunkKind.BODY
    )
    assert switches == 4
    assert not containing(chunks, ". . . . .")  # the table of contents is not study text


def _line(text: str, page: int, *, size: float = 10, new: bool = True) -> TextLine:
    return TextLine(text, page, size, 0.0, new)


def test_without_an_outline_numbered_and_large_lines_are_headings() -> None:
    body = "Osmosis moves water across a membrane toward the side with more solute. " * 6
    lines = [
        _line("3.2 Membrane Transport", 1, size=14),
        _line(body, 1),
        _line("Active Transport", 2, size=12),
        _line("Pumps such as the sodium-potassium ATPase spend ATP to move ions. " * 6, 2),
    ]
    chunks = chunk_lines(lines)
    assert [chunk.heading for chunk in chunks] == [
        "3.2 Membrane Transport",
        "3.2 Membrane Transport › Active Transport",
    ]
    assert [(chunk.page_start, chunk.page_end) for chunk in chunks] == [(1, 1), (2, 2)]
    headings = find_headings(PdfText(pages=("", ""), lines=tuple(lines)))
    assert [(h.text, h.level) for h in headings] == [
        ("3.2 Membrane Transport", 1),
        ("Active Transport", 2),
    ]


def test_a_short_section_joins_the_next_instead_of_becoming_a_stub() -> None:
    lines = [
        _line("1.1 Cells", 1),
        _line("Cells are small.", 1),
        _line("1.2 Tissues", 1),
        _line("Tissues are groups of similar cells working together. " * 8, 1),
    ]
    chunks = chunk_lines(lines)
    assert chunks[0].text.startswith("Cells are small.\n1.2 Tissues\nTissues are groups")
    assert all(len(chunk.text) >= 200 for chunk in chunks)


def test_topics_are_the_sections_or_else_key_phrases(shared_data: Path) -> None:
    from core.topics import topics_from_chunks
    from storage.models import Chunk

    def rows(drafts: list[ChunkDraft]) -> list[Chunk]:
        return [
            Chunk(text=d.text, heading=d.heading, page_start=d.page_start, kind=d.kind)
            for d in drafts
            if d.kind is ChunkKind.BODY
        ]

    topics = topics_from_chunks(rows(chunks_of(HEART)))
    sections = [(t.title, t.page) for t in topics if t.level == 1]
    assert sections[:3] == [
        ("19.1 Heart Anatomy", 2),
        ("19.2 Cardiac Muscle and Electrical Activity", 20),
        ("19.3 Cardiac Cycle", 32),
    ]
    assert ("Location of the Heart", 2) in [(t.title, t.page) for t in topics if t.level == 2]
    assert not [t for t in topics if t.title.startswith("Chapter 19")]
    assert topics[0].query == "Heart Anatomy"

    notes = [
        _line("Insulin lowers blood glucose; glucagon raises blood glucose. " * 3, 1),
        _line("The pancreas releases insulin after meals and glucagon when fasting. " * 3, 2),
    ]
    phrases = topics_from_chunks(rows(chunk_lines(notes)))
    assert phrases and all(topic.level == 1 for topic in phrases)
    assert any("glucose" in topic.title.lower() for topic in phrases)
