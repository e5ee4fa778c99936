"""Scanned pages and photos of pages are read with OCR; pages with a text layer keep it, and
a page OCR cannot read is left out and counted. Accuracy and speed are measured in
bench/bench_ocr.py; here the reading only has to be close to the printed text."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from rapidfuzz import fuzz

from core import upload_errors as errors
from core.pdf_text import PdfText, extract
from core.readers.formats import Format
from core.readers.photo import read_photo
from tests.derived_material import (
    combined_pdf,
    page_images,
    photo,
    picture_without_text,
    scanned_pdf,
    text_in_band,
)
from tests.materials_support import CHAPTER, EXCERPT, slice_pdf

# A band of a text page of the chapter (a heading and two paragraphs, below the running
# header): quick to recognise.
SCANNED_PAGE, BAND = 9, (0.06, 0.22)
CLOSE_ENOUGH = 90


def same_text(a: str, b: str) -> float:
    return fuzz.ratio(" ".join(a.split()), " ".join(b.split()))


@pytest.fixture(scope="module")
def scan_crop() -> Image.Image:
    from tests.conftest import SHARED_DATA

    if not (SHARED_DATA / CHAPTER).is_file():
        pytest.skip("test corpus not found")
    return page_images(SHARED_DATA / CHAPTER, [SCANNED_PAGE], dpi=200, band=BAND)[0]


@pytest.fixture(scope="module")
def mixed(scan_crop: Image.Image) -> tuple[PdfText, list[tuple[int, int, bool]]]:
    """Page 1 with a text layer, page 2 scanned, page 3 a drawing with no writing."""
    from tests.conftest import SHARED_DATA

    data = combined_pdf(
        (slice_pdf(SHARED_DATA / EXCERPT, [1]), [1]),
        (scanned_pdf([scan_crop, picture_without_text()], dpi=200), [1, 2]),
    )
    seen: list[tuple[int, int, bool]] = []
    text = extract(data, on_page=lambda done, total, ocr=False: seen.append((done, total, ocr)))
    return text, seen


def test_only_the_pages_without_a_text_layer_are_read_by_ocr(
    mixed: tuple[PdfText, list[tuple[int, int, bool]]], shared_data: Path
) -> None:
    text, seen = mixed
    assert text.page_count == 3
    assert text.ocr_pages == (2,)
    assert "The human heart is the first functional organ to develop." in text.pages[0]
    printed = text_in_band(shared_data / CHAPTER, SCANNED_PAGE, BAND)
    assert same_text(text.pages[1], printed) >= CLOSE_ENOUGH
    assert "Internal Structure of the Heart" in text.pages[1]
    # Text pages first, then the scanned pages: before the first, and after each.
    assert seen == [
        (1, 3, False), (2, 3, False), (3, 3, False), (0, 2, True), (1, 2, True), (2, 2, True)
    ]  # fmt: skip


def test_a_page_ocr_cannot_read_is_skipped_and_counted(
    mixed: tuple[PdfText, list[tuple[int, int, bool]]],
) -> None:
    text, _ = mixed
    assert text.unreadable_pages == (3,)
    assert text.pages[2] == ""


def test_too_many_scanned_pages_are_refused_before_any_is_read(scan_crop: Image.Image) -> None:
    with pytest.raises(errors.TooManyPages) as refused:
        extract(scanned_pdf([scan_crop] * 3), max_ocr_pages=2)
    assert refused.value.user_message.startswith(
        "That PDF has 3 scanned pages, and I read up to 2 scanned pages at a time."
    )


def test_a_scan_with_no_writing_at_all_is_refused() -> None:
    with pytest.raises(errors.ScannedNoText) as refused:
        extract(scanned_pdf([picture_without_text()]))
    assert refused.value.user_message.startswith(
        "I couldn't find any text in that PDF, not even with OCR"
    )


def test_a_photo_of_a_page_becomes_one_page_of_text(
    scan_crop: Image.Image, shared_data: Path
) -> None:
    text = read_photo(photo(scan_crop), Format.JPEG, max_megapixels=60)
    assert (text.page_count, text.ocr_pages) == (1, (1,))
    printed = text_in_band(shared_data / CHAPTER, SCANNED_PAGE, BAND)
    assert same_text(text.pages[0], printed) >= CLOSE_ENOUGH


def test_a_huge_picture_is_refused_before_it_is_decoded() -> None:
    bomb = photo(Image.new("1", (9_000, 9_000), 1), fmt="PNG")
    assert len(bomb) < 1024 * 1024
    with pytest.raises(errors.TooManyPixels) as refused:
        read_photo(bomb, Format.PNG, max_megapixels=60)
    assert refused.value.user_message.startswith(
        "That picture is 81 megapixels, and I read pictures of up to 60 megapixels."
    )


def test_a_cut_short_or_blank_photo_gets_a_clear_message(scan_crop: Image.Image) -> None:
    whole = photo(scan_crop)
    with pytest.raises(errors.CorruptFile) as cut:
        read_photo(whole[: len(whole) // 3], Format.JPEG, max_megapixels=60)
    assert cut.value.user_message.startswith("I couldn't open that photo")
    with pytest.raises(errors.ScannedNoText) as blank:
        read_photo(photo(picture_without_text()), Format.JPEG, max_megapixels=60)
    assert blank.value.user_message.startswith("I couldn't find any text in that photo")
