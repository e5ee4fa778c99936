"""Page text from real PDFs: the right words on the right page, without the page furniture."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import upload_errors as errors
from core.pdf_text import TextLine, clean_lines, extract
from tests.materials_support import EXCERPT, text_pdf

FURNITURE = ("OpenStax A&P 2e", "CC BY", "Creative Commons", "Source:", "not endorsed")


def test_excerpt_pages_keep_their_sentences_and_lose_headers_footers_attribution(
    shared_data: Path,
) -> None:
    text = extract((shared_data / EXCERPT).read_bytes())
    assert text.page_count == 4
    # Sentences as printed on the pages whose footers say 1 and 2.
    assert "The human heart is the first functional organ to develop." in text.pages[0]
    assert "The bulbus cordis develops into the right ventricle." in text.pages[1]
    assert "The bulbus cordis develops" not in text.pages[0] + text.pages[2]
    for page in text.pages:
        for furniture in FURNITURE:
            assert furniture not in page
    assert text.pages[0].startswith("19.5 Development of the Heart")
    assert text.title == "Anatomy and Physiology 2e — Section 19.5: Development of the Heart"


def test_multi_chapter_running_headers_go_but_repeated_headings_stay(shared_data: Path) -> None:
    text = extract((shared_data / "ap2e_selected_chapters_benchmark.pdf").read_bytes())
    assert text.page_count == 279
    lines = [line for page in text.pages for line in page.split("\n")]
    assert not [line for line in lines if "OpenStax A&P 2e" in line]
    assert not [line for line in lines if line.startswith("Chapter 17 | ")]
    # "Key Terms" opens a page in several chapters; it is a heading, not a running header.
    assert lines.count("Key Terms") == 5
    assert lines.count("Learning Objectives") >= 30


def test_wrapped_lines_join_and_glossary_entries_stay_apart(shared_data: Path) -> None:
    text = extract((shared_data / EXCERPT).read_bytes())
    page3 = [line for line in text.lines if line.page == 3]
    starts = {line.text.split(" ")[0]: line.new_paragraph for line in page3}
    # Each glossary entry starts a paragraph; the wrapped tail of an entry does not.
    assert starts["mesoderm"] is True
    assert starts["cardiogenic"] is True
    assert starts["fertilization"] is False


def test_outline_comes_with_pages(shared_data: Path) -> None:
    text = extract((shared_data / "ap2e_ch19_heart.pdf").read_bytes())
    titles = {entry.title: entry.page for entry in text.outline}
    assert titles["19.1 Heart Anatomy"] == 2
    assert titles["Review Questions"] == 55


def test_bare_page_numbers_and_repeated_footers_are_dropped() -> None:
    bodies = ["Mitochondria make ATP.", "Ribosomes make protein.", "Lysosomes digest waste.",
              "The nucleus holds DNA."]  # fmt: skip
    pages = [
        [TextLine("Cell Biology Notes", n), TextLine(body, n), TextLine(str(n), n)]
        for n, body in enumerate(bodies, start=1)
    ]
    cleaned = clean_lines(pages)
    assert [[line.text for line in page] for page in cleaned] == [[body] for body in bodies]


def test_a_line_repeated_mid_page_is_content() -> None:
    def page(n: int) -> list[TextLine]:
        texts = [f"Top {n}", "a", "b", "c", "Remember this fact.", "d", "e", f"Tail {n}"]
        return [TextLine(f"{text} {n}" if len(text) == 1 else text, n) for text in texts]

    cleaned = clean_lines([page(n) for n in range(1, 5)])
    assert all("Remember this fact." in [line.text for line in kept] for kept in cleaned)


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("empty_zero_bytes.pdf", errors.EmptyFile),
        ("png_renamed.pdf", errors.UnsupportedFormat),
        ("encrypted_password_secret.pdf", errors.PasswordProtected),
        ("truncated_half.pdf", errors.CorruptFile),
        ("zero_pages.pdf", errors.NoPages),
    ],
)
def test_bad_files_are_refused_with_their_reason(
    shared_data: Path, name: str, error: type[errors.UploadRejected]
) -> None:
    with pytest.raises(error) as refused:
        extract((shared_data / "bad" / name).read_bytes())
    assert refused.value.reason == error.reason_code.value
    assert isinstance(refused.value, errors.UploadRejected)


def test_owner_password_only_pdf_opens(shared_data: Path) -> None:
    text = extract((shared_data / "bad" / "encrypted_owner_only_opens_without_password.pdf")
                   .read_bytes())  # fmt: skip
    assert text.page_count == 4
    assert "The bulbus cordis develops into the right ventricle." in text.pages[1]


def test_a_few_words_are_too_little() -> None:
    with pytest.raises(errors.TooLittleText) as refused:
        extract(text_pdf([["Hello there, just a title page."]]))
    assert "only 6 words" in refused.value.user_message


def test_reading_reports_every_page(shared_data: Path) -> None:
    seen: list[tuple[int, int]] = []
    extract((shared_data / EXCERPT).read_bytes(), on_page=lambda d, t: seen.append((d, t)))
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
