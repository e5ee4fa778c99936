"""Several pictures of pages sent together -> one PDF of one page per picture, in order.

The PDF is what is stored and read: its pages have no text layer, so the scanned-PDF path
reads each by OCR, with its progress, page limits and count of pages it could not read.
Every picture is checked (its kind, its pixels) before any is packed.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image

from core.pdf_text import OCR_DPI
from core.readers.formats import detect
from core.readers.photo import upright_grey
from core.upload_errors import PictureInAlbumRejected, UnsupportedFormat, UploadRejected

# JPEG quality of the packed pages: text stays crisp for OCR at a third of the size of PNG.
PAGE_QUALITY = 90


def pack_pictures(pictures: Sequence[bytes], *, max_megapixels: float) -> bytes:
    """One PDF page per picture (JPEG or PNG), upright and grey; blocking (run it in a
    thread). The same pictures always give the same bytes, so a resend is recognised.

    Raises PictureInAlbumRejected, naming the picture, when any one cannot be used.
    """
    pages: list[Image.Image] = []
    for position, data in enumerate(pictures, start=1):
        try:
            fmt = detect(data)
            if not fmt.is_image:
                raise UnsupportedFormat()
            pages.append(upright_grey(data, fmt, max_megapixels=max_megapixels))
        except UploadRejected as reason:
            raise PictureInAlbumRejected(
                position=position, count=len(pictures), reason=reason
            ) from reason
    out = io.BytesIO()
    first, *rest = pages
    # At OCR_DPI the PDF reader renders each page back at the picture's own size. No dates
    # in the file: they would make every resend new bytes.
    first.save(
        out, "PDF", save_all=True, append_images=rest, resolution=OCR_DPI,
        quality=PAGE_QUALITY, creationDate=None, modDate=None,
    )  # fmt: skip
    return out.getvalue()
