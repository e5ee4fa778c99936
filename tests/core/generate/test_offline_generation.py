"""The offline generator on the real PDFs: valid items, honest page citations, seeded."""

from __future__ import annotations

import re
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from sqlalchemy import select

from core.generate import NoMaterial, NothingOnTopic, generate
from core.generate.pipeline import flaw_context_of, source_of
from core.generate.schema import DraftItem
from core.generate.terms import looks_plural
from core.generate.text import normalise
from core.generate.validate import ValidationContext, failed_rules, review_texts_for
from storage.enums import ChunkKind, Platform, RunStatus
from storage.models import Chunk, GenerationRun, Material, Question
from storage.repos.chats import personal_scope
from storage.repos.users import get_or_create_user
from tests.core.generate.conftest import EXCERPT, Library

HEART = "ap2e_ch19_heart.pdf"
_TABLE_ROW = re.compile(
    r"Your material's table \([^)]*\) lists it with (?P<cells>.+?)\. The other"
)
_QUOTED = re.compile(r'says(?: \([^)]*\))?: "(?P<support>.+?)"\.?(?: The other options|$)')


def page_texts(pdf: Path) -> list[str]:
    """Each page's text straight from PDFium, normalised (independent of our ingest)."""
    document = pdfium.PdfDocument(str(pdf))
    try:
        return [normalise(page.get_textpage().get_text_bounded()) for page in document]
    finally:
        document.close()


async def generate_into(library: Library, n: int, **kwargs: object) -> GenerationRun:
    async with library.db.session() as session:
        return await generate(
            session,
            scope_id=library.scope.id,
            n=n,
            embedder=library.embedder,
            indexes=library.indexes,
            settings=library.settings,
            requested_by=library.user_id,
            **kwargs,  # type: ignore[arg-type]
        )


async def questions_of(library: Library, run_id: int) -> list[Question]:
    async with library.db.session() as session:
        rows = await session.scalars(
            select(Question).where(Question.run_id == run_id).order_by(Question.id)
        )
        return list(rows)


async def run_and_read(library: Library, n: int, *, seed: int) -> list[Question]:
    return await questions_of(library, (await generate_into(library, n, seed=seed)).id)


async def validation_context(library: Library) -> ValidationContext:
    async with library.db.session() as session:
        chunks = list(
            await session.scalars(
                select(Chunk).join(Material).where(Material.scope_id == library.scope.id)
            )
        )
    review = [c.text for c in chunks if c.kind is ChunkKind.REVIEW_QUESTIONS]
    sources = [source_of(c) for c in chunks if c.kind is not ChunkKind.REVIEW_QUESTIONS]
    return ValidationContext(
        min_options=4,
        chunk_texts={c.id: c.text for c in sources},
        review_texts=review_texts_for(review),
        # The flaw rules see the material as the run did (the kinds of its terms).
        flaws=flaw_context_of(sources, review),
    )


def as_draft(question: Question) -> DraftItem:
    return DraftItem(
        stem=question.stem,
        options=tuple(question.options),
        correct_index=question.correct_index,
        explanation=question.explanation,
        source_chunk_ids=tuple(question.source_chunk_ids),
        source_pages=tuple(question.source_pages),
    )


async def assert_stored_items_are_sound(
    library: Library, questions: list[Question], pdf: Path
) -> None:
    pages = page_texts(pdf)
    context = await validation_context(library)
    for question in questions:
        assert failed_rules(as_draft(question), context) == [], question.stem
        cited = " ".join(pages[p - 1] for p in question.source_pages)
        table_row = _TABLE_ROW.search(question.explanation)
        if table_row:
            # A table item quotes the row's cells; each is printed on the cited page.
            for cell in re.findall(r'"([^"]+)"', table_row.group("cells")):
                assert normalise(cell) in cited, (question.source_pages, cell)
        else:
            # The quoted support is printed on a cited page (or across the two cited pages).
            support = _QUOTED.search(question.explanation)
            assert support, question.explanation
            assert normalise(support.group("support")) in cited, (question.source_pages, support)
        key = question.options[question.correct_index]
        # The page prints "sinoatrial (SA) node"; the key may drop the abbreviation.
        assert normalise(key) in cited or normalise(re.sub(r"\s*\([A-Z]+\)", "", key)) in cited
        assert len(question.options) == 4 and question.prompt_version == "offline_v2"
        # A question with a lead-in, never a fill-in-the-blank line.
        assert "?" in question.stem and "___" not in question.stem
        assert question.model == "offline" and 1 <= question.difficulty <= 5


async def test_offline_items_pass_validation_and_cite_the_page_with_their_support(
    any_library: Library, shared_data: Path
) -> None:
    excerpt_library = any_library
    await excerpt_library.add(shared_data / EXCERPT)
    row = await generate_into(excerpt_library, 10, seed=3, difficulty=2)

    questions = await questions_of(excerpt_library, row.id)
    # Four pages, eleven key terms: it writes what it can ask cleanly, and says how many.
    assert row.generator == "offline" and 3 <= row.inserted < 10
    assert row.status is RunStatus.PARTIAL and "no more facts I could ask" in row.error
    assert row.api_calls == 0 and row.parse_failures == 0
    assert all(q.difficulty == 2 and q.source_chunk_ids for q in questions)
    await assert_stored_items_are_sound(excerpt_library, questions, shared_data / EXCERPT)
    # One key term per item within a run: no two items test the same thing.
    keys = [q.options[q.correct_index] for q in questions]
    assert len(set(keys)) == len(keys)


async def test_offline_generation_is_reproducible_for_a_seed(
    excerpt_library: Library, shared_data: Path
) -> None:
    async def twin(student: str) -> Library:
        # Another student's copy of the excerpt: nothing asked there yet.
        copy = Library(**{**excerpt_library.__dict__, "materials": {}})
        async with copy.db.session() as session:
            other = await get_or_create_user(session, Platform.CONSOLE, student, student)
            copy.scope, copy.user_id = await personal_scope(session, other), other.id
        await copy.add(shared_data / EXCERPT)
        return copy

    first = await run_and_read(excerpt_library, 8, seed=11)
    second = await run_and_read(await twin("student-2"), 8, seed=11)
    third = await run_and_read(await twin("student-3"), 8, seed=12)

    def shape(items: list[Question]) -> list[tuple[str, list[str], int]]:
        return [(q.stem, q.options, q.correct_index) for q in items]

    assert shape(first) == shape(second)
    assert shape(third) != shape(second)


async def test_a_second_run_prefers_facts_not_asked_yet(excerpt_library: Library) -> None:
    # The excerpt holds a handful of askable facts: two now, then one more.
    first = await run_and_read(excerpt_library, 2, seed=1)
    second = await run_and_read(excerpt_library, 1, seed=2)

    keys = {q.options[q.correct_index] for q in first}
    assert not keys & {q.options[q.correct_index] for q in second}


async def test_a_topic_run_asks_about_that_topic_and_files_it_under_it(
    excerpt_library: Library,
) -> None:
    row = await generate_into(excerpt_library, 3, topic="primitive heart tube regions", seed=4)

    questions = await questions_of(excerpt_library, row.id)
    assert row.topic == "primitive heart tube regions" and questions
    assert all(q.topic == "primitive heart tube regions" for q in questions)
    vocabulary = ("primitive", "truncus", "bulbus", "sinus", "ventricle", "atrium", "heart")
    for question in questions:
        text = f"{question.stem} {question.options[question.correct_index]}".lower()
        assert any(word in text for word in vocabulary), question.stem


async def test_nothing_to_ask_from_gives_friendly_messages(
    library: Library, excerpt_library: Library
) -> None:
    async with library.db.session() as session:
        user = await get_or_create_user(session, Platform.CONSOLE, "new-student", "Cy")
        empty_scope = await personal_scope(session, user)
    empty = Library(**{**library.__dict__, "scope": empty_scope, "user_id": user.id})
    with pytest.raises(NoMaterial) as no_material:
        await generate_into(empty, 5)
    assert "Send me a PDF" in no_material.value.user_message

    with pytest.raises(NothingOnTopic) as off_topic:
        await generate_into(excerpt_library, 5, topic="quantum chromodynamics of gluons")
    assert "/topics" in off_topic.value.user_message


@pytest.mark.slow
async def test_offline_items_on_a_whole_chapter_are_sound(
    library: Library, shared_data: Path
) -> None:
    await library.add(shared_data / HEART)

    # `/quiz 20` on a chapter: twenty new items (the chapter holds about 21 that pass every
    # rule; its other terms have too few siblings of their kind to make four options).
    row = await generate_into(library, 20, seed=5, difficulty=4)

    questions = await questions_of(library, row.id)
    assert row.inserted == 20 and row.status is RunStatus.COMPLETED
    await assert_stored_items_are_sound(library, questions, shared_data / HEART)
    kinds = {q.flags[0] for q in questions}
    assert {"term", "definition"} <= kinds and "cloze" not in kinds
    # Never a distractor that is the key in another form, nor one the stem already shows.
    for question in questions:
        key = normalise(question.options[question.correct_index])
        for option in question.options:
            if normalise(option) != key and question.flags[0] != "definition":
                assert normalise(option) not in normalise(question.stem), question.stem
                assert key not in normalise(option) and normalise(option) not in key
        if _TABLE_ROW.search(question.explanation):
            # A table's entries are siblings of mixed number; the key is never the only
            # singular or the only plural, and each wrong option's row is told.
            numbers = [looks_plural(option) for option in question.options]
            assert numbers.count(numbers[question.correct_index]) >= 2, question.options
            others = question.explanation.split("The other options are other rows")[1]
            for i, option in enumerate(question.options):
                assert i == question.correct_index or f"{option} (" in others, others
            continue
        if question.flags[0] != "definition":
            # "Which of the following are ..." must not leave the key alone in the plural,
            # and "coronary veins" never stands beside one of them ("great cardiac vein").
            numbers = {looks_plural(option) for option in question.options}
            assert len(numbers) == 1, question.options
        # The quoted support closes its sentence before the next one starts.
        assert not re.search(r'[^.?!]" The other options', question.explanation)
        # Each wrong option is explained with what it is and the page that says so.
        others = question.explanation.split("The other options are different things: ")[1]
        for i, option in enumerate(question.options):
            if i != question.correct_index and question.flags[0] != "definition":
                assert re.search(rf"{re.escape(option)} \(pp?\. \d+", others), others
        # "a large, thin-walled vein ..." offers veins, never a vessel named an artery.
        asked = re.search(
            r"Which (?:term is defined as \"|of the following (?:is|are) )(?:the |a |an )?"
            r"(?:[\w-]+,? ){0,3}?(?P<vessel>veins?|arter(?:y|ies)|arterial)\b",
            question.stem,
        )
        if asked:
            named_otherwise = "arter" if asked["vessel"].startswith("vein") else "vein"
            last_words = [
                option.split()[-1]
                for i, option in enumerate(question.options)
                if i != question.correct_index
            ]
            assert not any(w.startswith(named_otherwise) for w in last_words), question.options
