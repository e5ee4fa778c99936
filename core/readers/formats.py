"""What kind of file an upload is (judged by its bytes, never its name) and how much of one
Rounds will read: pages, slides, pixels and seconds."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePath

from core.upload_errors import (
    CorruptFile,
    EmptyFile,
    LegacyOffice,
    PasswordProtected,
    TooLargeUnpacked,
    UnsupportedFormat,
)

# The PDF header may legally follow up to 1 KB of junk (some generators prepend bytes).
PDF_HEADER_WINDOW = 1024
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the container of .ppt/.doc and of encrypted .pptx
_ZIP = b"PK\x03\x04"
# A deck or document unpacking to more than this is refused before any part is parsed.
MAX_UNPACKED_BYTES = 300 * 1024 * 1024
_JPEG = b"\xff\xd8\xff"
_PNG = b"\x89PNG\r\n\x1a\n"
# An encrypted .pptx/.docx is an OLE2 file holding one stream of this name (UTF-16 names).
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_POWERPOINT_STREAM = "PowerPoint Document".encode("utf-16-le")
_WORD_STREAM = "WordDocument".encode("utf-16-le")


class Format(StrEnum):
    PDF = "pdf"
    PPTX = "pptx"
    DOCX = "docx"
    JPEG = "jpeg"
    PNG = "png"

    @property
    def suffix(self) -> str:
        return ".jpg" if self is Format.JPEG else f".{self.value}"

    @property
    def what(self) -> str:
        """How a message names a file of this kind ("That PowerPoint file is ...")."""
        return {
            Format.PDF: "PDF",
            Format.PPTX: "PowerPoint file",
            Format.DOCX: "Word file",
            Format.JPEG: "photo",
            Format.PNG: "picture",
        }[self]

    @property
    def unit(self) -> str:
        """What a citation counts in: each slide of a deck is its "page"."""
        return "slide" if self is Format.PPTX else "page"

    @property
    def is_image(self) -> bool:
        return self in (Format.JPEG, Format.PNG)


def format_of_name(filename: str) -> Format | None:
    """The format a stored (normalised) file name says, for wording citations."""
    suffix = PurePath(filename).suffix.lower()
    return next((fmt for fmt in Format if fmt.suffix == suffix or f".{fmt}" == suffix), None)


def page_unit(filename: str) -> str:
    fmt = format_of_name(filename)
    return fmt.unit if fmt is not None else "page"


def cited_pages(pages: Iterable[object], unit: str = "page") -> str:
    """Pages as a citation in the material's own unit: "p. 3", "pp. 3-5", "pp. 3, 7",
    "slide 14", "slides 2-4"; "" for none."""
    numbers = sorted({int(str(p)) for p in pages if str(p).isdigit()})
    if not numbers:
        return ""
    # Pages are abbreviated as books do; slides are spelled out.
    one, many = ("p.", "pp.") if unit == "page" else (unit, f"{unit}s")
    if len(numbers) == 1:
        return f"{one} {numbers[0]}"
    if numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"{many} {numbers[0]}-{numbers[-1]}"
    return f"{many} " + ", ".join(str(n) for n in numbers)


@dataclass(frozen=True)
class ReadLimits:
    """The most of a file Rounds reads: more is refused before the slow part starts."""

    max_pages: int | None = None  # pages of a PDF or slides of a deck
    max_ocr_pages: int | None = None  # pages without a text layer, read by OCR
    max_megapixels: float = 60.0  # a photo's size, checked before it is decoded
    timeout_s: float | None = None  # reading the text layer (or a deck, or a Word file)
    ocr_timeout_s: float | None = None  # recognising the scanned pages


def detect(data: bytes, filename: str = "") -> Format:
    """The file's format from its first bytes; raises an UploadRejected for anything else."""
    if not data:
        raise EmptyFile()
    if b"%PDF-" in data[:PDF_HEADER_WINDOW]:
        return Format.PDF
    if data.startswith(_JPEG):
        return Format.JPEG
    if data.startswith(_PNG):
        return Format.PNG
    if data.startswith(_ZIP):
        return _office_format(data, filename)
    if data.startswith(_OLE2):
        raise _ole2_refusal(data, filename)
    raise UnsupportedFormat()


def _office_format(data: bytes, filename: str) -> Format:
    """A .pptx or .docx is a zip with a known main part; other zips are not for us."""
    named = format_of_name(filename)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        if named in (Format.PPTX, Format.DOCX):
            raise CorruptFile(what=named.what) from error
        raise UnsupportedFormat() from error
    names = {member.filename for member in members}
    if "ppt/presentation.xml" in names:
        fmt = Format.PPTX
    elif "word/document.xml" in names:
        fmt = Format.DOCX
    else:
        raise UnsupportedFormat()
    unpacked = sum(member.file_size for member in members)
    if unpacked > MAX_UNPACKED_BYTES:
        raise TooLargeUnpacked(
            unpacked_bytes=unpacked, max_bytes=MAX_UNPACKED_BYTES, what=fmt.what
        )
    return fmt


def _ole2_refusal(data: bytes, filename: str) -> PasswordProtected | LegacyOffice:
    named = format_of_name(filename)
    if _ENCRYPTED_PACKAGE in data:
        return PasswordProtected(what=named.what if named else "file")
    suffix = PurePath(filename).suffix.lower()
    if _POWERPOINT_STREAM in data or suffix == ".ppt":
        return LegacyOffice(what="PowerPoint")
    if _WORD_STREAM in data or suffix == ".doc":
        return LegacyOffice(what="Word")
    return LegacyOffice()


def stored_name(filename: str, fmt: Format) -> str:
    """The upload's name ending in its real format's suffix (citations read it from there)."""
    if format_of_name(filename) is fmt:
        return filename
    return f"{PurePath(filename).stem or 'document'}{fmt.suffix}"
