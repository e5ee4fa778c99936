"""Why an upload was refused: one typed family, one friendly message per reason."""

from __future__ import annotations

from enum import StrEnum

from core.errors import RoundsError


class RejectReason(StrEnum):
    TOO_LARGE = "too_large"
    NOT_PDF = "not_pdf"
    EMPTY = "empty"
    ENCRYPTED = "encrypted"
    CORRUPT = "corrupt"
    NO_PAGES = "no_pages"
    SCANNED_NO_TEXT = "scanned_no_text"
    TOO_LITTLE_TEXT = "too_little_text"
    TOO_MANY_PAGES = "too_many_pages"
    TOO_SLOW_TO_READ = "too_slow_to_read"


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
            f"That file is {_mb(size_bytes)}, and I can take PDFs up to {_mb(max_bytes)}. "
            "Please split it (one chapter per file works well) and send the parts."
        )


class NotPdf(UploadRejected):
    reason_code = RejectReason.NOT_PDF
    user_message = (
        "That file is not a PDF (whatever its name says). Please export or save it as a PDF "
        "and send it again."
    )


class EmptyFile(UploadRejected):
    reason_code = RejectReason.EMPTY
    user_message = "That file is empty (0 bytes). Please check it and send it again."


class PasswordProtected(UploadRejected):
    # Choice: no /password command. A password typed into a chat stays in its history, so
    # we ask for an unlocked copy instead.
    reason_code = RejectReason.ENCRYPTED
    user_message = (
        "That PDF is password protected, so I can't read it. Please remove the password "
        "(open it and save or print it as a new PDF without one) and send it again."
    )


class CorruptPdf(UploadRejected):
    reason_code = RejectReason.CORRUPT
    user_message = (
        "I couldn't open that PDF: it looks damaged or incomplete (perhaps the download was "
        "cut short). Please send it again or re-export it."
    )


class NoPages(UploadRejected):
    reason_code = RejectReason.NO_PAGES
    user_message = "That PDF has no pages. Please check it and send the right file."


class ScannedNoText(UploadRejected):
    reason_code = RejectReason.SCANNED_NO_TEXT
    user_message = (
        "That PDF looks scanned: its pages are images with no text I can read, and I don't "
        "do OCR (text recognition) yet. Please send a PDF with selectable text, or run it "
        "through an OCR tool first."
    )


class TooLittleText(UploadRejected):
    reason_code = RejectReason.TOO_LITTLE_TEXT

    def __init__(self, *, words: int) -> None:
        self.words = words
        super().__init__(
            f"That PDF has only {words} word{'s' if words != 1 else ''} of text, too little to "
            "make questions from. Please send your notes or a chapter with more text."
        )


class TooManyPages(UploadRejected):
    reason_code = RejectReason.TOO_MANY_PAGES

    def __init__(self, *, pages: int, max_pages: int) -> None:
        self.pages = pages
        self.max_pages = max_pages
        super().__init__(
            f"That PDF has {pages:,} pages, and I read PDFs of up to {max_pages:,} pages. "
            "Please send the chapters you are studying as separate files."
        )


class TooSlowToRead(UploadRejected):
    reason_code = RejectReason.TOO_SLOW_TO_READ

    def __init__(self, *, pages_read: int, pages: int, seconds: float) -> None:
        self.pages_read = pages_read
        super().__init__(
            f"Reading that PDF took longer than {seconds:.0f} s (I got through {pages_read} of "
            f"{pages} pages), so I stopped: it may be built in an unusual way. Please re-export "
            "or print it to a new PDF, or send a smaller part."
        )


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"
