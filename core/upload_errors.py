"""Why an upload was refused: one typed family, one friendly message per reason.

`what` names the kind of file in the message ("PDF", "PowerPoint file", "photo"), so one
reason reads right for every format Rounds takes.
"""

from __future__ import annotations

from enum import StrEnum

from core.errors import RoundsError


class RejectReason(StrEnum):
    TOO_LARGE = "too_large"
    UNSUPPORTED_FORMAT = "unsupported_format"
    LEGACY_OFFICE = "legacy_office"
    EMPTY = "empty"
    ENCRYPTED = "encrypted"
    CORRUPT = "corrupt"
    NO_PAGES = "no_pages"
    SCANNED_NO_TEXT = "scanned_no_text"
    TOO_LITTLE_TEXT = "too_little_text"
    TOO_MANY_PAGES = "too_many_pages"
    TOO_SLOW_TO_READ = "too_slow_to_read"
    TOO_MANY_PIXELS = "too_many_pixels"


class UploadRejected(RoundsError):
    """A file Rounds cannot use; nothing of it is kept. `reason` is a RejectReason value."""

    reason_code: RejectReason = RejectReason.CORRUPT

    def __init__(self, user_message: str | None = None) -> None:
        super().__init__(user_message, reason=self.reason_code.value)


class TooLarge(UploadRejected):
    reason_code = RejectReason.TOO_LARGE

    def __init__(self, *, size_bytes: int, max_bytes: int) -> None:
        self.size_bytes = size_bytes
        self.max_bytes = max_bytes
        super().__init__(
            f"That file is {_mb(size_bytes)}, and I can take files up to {_mb(max_bytes)}. "
            "Please split it (one chapter per file works well) and send the parts."
        )


class TooLargeUnpacked(UploadRejected):
    """A .pptx/.docx is a zip; one that unpacks to far more than its size is a zip bomb."""

    reason_code = RejectReason.TOO_LARGE

    def __init__(self, *, unpacked_bytes: int, max_bytes: int, what: str) -> None:
        super().__init__(
            f"That {what} unpacks to {_mb(unpacked_bytes)}, and I read files that unpack to "
            f"at most {_mb(max_bytes)}. Please send a smaller part, or save it as a PDF."
        )


class UnsupportedFormat(UploadRejected):
    reason_code = RejectReason.UNSUPPORTED_FORMAT
    user_message = (
        "I can't read that kind of file (whatever its name says). I read PDFs, PowerPoint "
        "(.pptx) and Word (.docx) files, and photos of pages (JPEG or PNG). Please save or "
        "export it as one of those and send it again."
    )


class LegacyOffice(UploadRejected):
    """A .ppt or .doc: the binary Office formats that python-pptx and python-docx cannot read."""

    reason_code = RejectReason.LEGACY_OFFICE

    def __init__(self, *, what: str = "Office") -> None:
        super().__init__(
            f"That is an old-style {what} file (.ppt or .doc from before 2007), which I can't "
            "read. Please open it and use Save As to save it as .pptx or .docx (or as a PDF), "
            "then send that."
        )


class EmptyFile(UploadRejected):
    reason_code = RejectReason.EMPTY
    user_message = "That file is empty (0 bytes). Please check it and send it again."


class PasswordProtected(UploadRejected):
    # Choice: no /password command. A password typed into a chat stays in its history, so
    # we ask for an unlocked copy instead.
    reason_code = RejectReason.ENCRYPTED

    def __init__(self, *, what: str = "PDF") -> None:
        super().__init__(
            f"That {what} is password protected, so I can't read it. Please remove the "
            "password (open it and save or export it as a new file without one) and send it "
            "again."
        )


class CorruptFile(UploadRejected):
    reason_code = RejectReason.CORRUPT

    def __init__(self, *, what: str = "PDF") -> None:
        super().__init__(
            f"I couldn't open that {what}: it looks damaged or incomplete (perhaps the "
            "download was cut short). Please send it again or re-export it."
        )


class NoPages(UploadRejected):
    reason_code = RejectReason.NO_PAGES

    def __init__(self, *, what: str = "PDF", unit: str = "page") -> None:
        super().__init__(f"That {what} has no {unit}s. Please check it and send the right file.")


class ScannedNoText(UploadRejected):
    """Not one page gave any text, not even to OCR (text recognition)."""

    reason_code = RejectReason.SCANNED_NO_TEXT

    def __init__(self, *, what: str = "PDF") -> None:
        super().__init__(
            f"I couldn't find any text in that {what}, not even with OCR (text recognition): "
            "it may be blank, a picture without writing, or too blurred to read. For a photo, "
            "take it straight on in good light; otherwise please send a file with "
            "selectable text."
        )


class TooLittleText(UploadRejected):
    reason_code = RejectReason.TOO_LITTLE_TEXT

    def __init__(self, *, words: int, what: str = "PDF") -> None:
        self.words = words
        super().__init__(
            f"That {what} has only {words} word{'s' if words != 1 else ''} of text, too little to "
            "make questions from. Please send your notes or a chapter with more text."
        )


class TooManyPages(UploadRejected):
    reason_code = RejectReason.TOO_MANY_PAGES

    def __init__(
        self, *, pages: int, max_pages: int, what: str = "PDF", unit: str = "page"
    ) -> None:
        self.pages = pages
        self.max_pages = max_pages
        super().__init__(
            f"That {what} has {pages:,} {unit}s, and I read up to {max_pages:,} {unit}s at a "
            "time. Please send the chapters you are studying as separate files."
        )


class TooSlowToRead(UploadRejected):
    reason_code = RejectReason.TOO_SLOW_TO_READ

    def __init__(self, *, pages_read: int, pages: int, seconds: float, what: str = "PDF") -> None:
        self.pages_read = pages_read
        super().__init__(
            f"Reading that {what} took longer than {seconds:.0f} s (I got through {pages_read} of "
            f"{pages} pages), so I stopped: it may be built in an unusual way. Please re-export "
            "or print it to a new PDF, or send a smaller part."
        )


class TooManyPixels(UploadRejected):
    """An image (or a page to recognise) too large to decode safely: a decompression bomb."""

    reason_code = RejectReason.TOO_MANY_PIXELS

    def __init__(self, *, megapixels: float, max_megapixels: float) -> None:
        super().__init__(
            f"That picture is {megapixels:,.0f} megapixels, and I read pictures of up to "
            f"{max_megapixels:,.0f} megapixels. Please send a smaller photo (a phone camera's "
            "normal setting is fine)."
        )


class PictureInAlbumRejected(UploadRejected):
    """One of several pictures sent together cannot be used: none of them is kept, so the
    material never silently lacks a page."""

    def __init__(self, *, position: int, count: int, reason: UploadRejected) -> None:
        self.reason_code = RejectReason(reason.reason)
        self.position = position
        super().__init__(
            f"I couldn't use picture {position} of the {count} you sent together, so I added "
            f"none of them. {reason.user_message}"
        )


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"
