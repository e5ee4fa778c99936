"""Any upload Rounds takes -> its text: picks the reader for the file's real format."""

from __future__ import annotations

from collections.abc import Callable

from core.pdf_text import MIN_WORDS, PdfText, extract
from core.readers.formats import Format, ReadLimits
from core.readers.photo import read_photo
from core.readers.slides import read_slides
from core.readers.word import read_word
from core.upload_errors import TooLittleText


def read_upload(
    data: bytes,
    fmt: Format,
    *,
    limits: ReadLimits,
    on_page: Callable[..., None] | None = None,
) -> PdfText:
    """The text of a file whose format `detect` found; blocking (run it in a thread).

    `on_page(done, total, ocr=...)` follows the reading (it may raise to stop it). Raises an
    UploadRejected, worded for the format, for a file that cannot be used.
    """
    if fmt is Format.PDF:
        text = extract(
            data, on_page=on_page, max_pages=limits.max_pages, max_ocr_pages=limits.max_ocr_pages
        )
    elif fmt is Format.PPTX:
        text = read_slides(data, max_slides=limits.max_pages, on_page=on_page)
    elif fmt is Format.DOCX:
        text = read_word(data, max_pages=limits.max_pages, on_page=on_page)
    else:
        text = read_photo(data, fmt, max_megapixels=limits.max_megapixels, on_page=on_page)
    if text.word_count < MIN_WORDS:
        raise TooLittleText(words=text.word_count, what=fmt.what)
    return text
