"""A photo or picture of a page (JPEG, PNG) -> a one-page text read by OCR."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from core.pdf_text import MIN_PAGE_CHARS, PdfText, mark_paragraphs, ocr_text_lines
from core.readers.formats import Format
from core.readers.ocr import PageRecogniser
from core.upload_errors import CorruptFile, ScannedNoText, TooManyPixels

# A phone photo is 12-50 megapixels; OCR needs no more than this many pixels on the longest
# side (the detector itself works at 2000).
MAX_SIDE_PX = 2400


def read_photo(
    data: bytes,
    fmt: Format,
    *,
    max_megapixels: float,
    on_page: Callable[..., None] | None = None,
) -> PdfText:
    """The text OCR reads in the picture, as page 1; blocking (run it in a thread)."""
    if on_page is not None:
        on_page(0, 1, ocr=True)
    image = np.asarray(upright_grey(data, fmt, max_megapixels=max_megapixels))
    lines = ocr_text_lines(PageRecogniser().read(image), 1)
    if on_page is not None:
        on_page(1, 1, ocr=True)
    if sum(len(line.text) for line in lines) < MIN_PAGE_CHARS:
        raise ScannedNoText(what=fmt.what)
    return PdfText(
        pages=("\n".join(line.text for line in lines),),
        lines=mark_paragraphs([lines]),
        ocr_pages=(1,),
    )


def upright_grey(data: bytes, fmt: Format, *, max_megapixels: float) -> Image.Image:
    """The picture upright, grey and at most MAX_SIDE_PX; its size is checked first (the
    header says it) so a decompression bomb is refused before it is decoded."""
    try:
        with Image.open(io.BytesIO(data)) as opened:
            width, height = opened.size
            megapixels = width * height / 1e6
            if megapixels > max_megapixels:
                raise TooManyPixels(megapixels=megapixels, max_megapixels=max_megapixels)
            # JPEG can decode straight to a smaller size, far faster than decoding it whole.
            opened.draft("L", (MAX_SIDE_PX, MAX_SIDE_PX))
            # Phones store the camera's orientation in EXIF instead of turning the pixels.
            upright = ImageOps.exif_transpose(opened).convert("L")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as error:
        raise CorruptFile(what=fmt.what) from error
    upright.thumbnail((MAX_SIDE_PX, MAX_SIDE_PX))
    return upright
