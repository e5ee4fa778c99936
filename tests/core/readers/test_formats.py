"""An upload's format comes from its bytes; what Rounds cannot read is refused by name."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from core import upload_errors as errors
from core.readers.formats import Format, detect, page_unit, stored_name
from tests.derived_material import deck_of, page_images, photo
from tests.materials_support import EXCERPT

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)


def ole2_with_stream(name: str) -> bytes:
    """The start of a compound file whose directory names one stream (what Office writes)."""
    return OLE2 + bytes(512) + name.encode("utf-16-le") + bytes(64)


def test_formats_are_told_by_their_bytes_not_their_names(shared_data: Path) -> None:
    pdf = (shared_data / EXCERPT).read_bytes()
    picture = page_images(shared_data / EXCERPT, [1], dpi=30)[0]
    deck = deck_of([("Title", ["one point", "another point"], "")])
    assert detect(pdf, "notes.docx") is Format.PDF
    assert detect(deck, "lecture.pdf") is Format.PPTX
    assert detect(photo(picture), "scan.pdf") is Format.JPEG
    assert detect(photo(picture, fmt="PNG"), "page") is Format.PNG


@pytest.mark.parametrize(
    ("data", "name", "error", "message"),
    [
        (b"", "a.pdf", errors.EmptyFile, "That file is empty (0 bytes)."),
        (b"Just some typed notes.\n", "notes.txt", errors.UnsupportedFormat,
         "I can't read that kind of file (whatever its name says). I read PDFs, PowerPoint "
         "(.pptx) and Word (.docx) files, and photos of pages (JPEG or PNG)."),
        (ole2_with_stream("PowerPoint Document"), "lecture.ppt", errors.LegacyOffice,
         "That is an old-style PowerPoint file (.ppt or .doc from before 2007), which I can't "
         "read. Please open it and use Save As to save it as .pptx or .docx"),
        (ole2_with_stream("WordDocument"), "notes.doc", errors.LegacyOffice,
         "That is an old-style Word file"),
        (ole2_with_stream("EncryptedPackage"), "lecture.pptx", errors.PasswordProtected,
         "That PowerPoint file is password protected, so I can't read it."),
        (b"PK\x03\x04 cut short", "lecture.pptx", errors.CorruptFile,
         "I couldn't open that PowerPoint file: it looks damaged or incomplete"),
    ],
)  # fmt: skip
def test_files_rounds_cannot_read_are_refused_with_their_reason(
    data: bytes, name: str, error: type[errors.UploadRejected], message: str
) -> None:
    with pytest.raises(error) as refused:
        detect(data, name)
    assert refused.value.user_message.startswith(message)


def test_a_zip_that_is_no_office_file_is_not_read() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(errors.UnsupportedFormat):
        detect(out.getvalue(), "slides.pptx")


def test_a_deck_that_unpacks_to_a_huge_size_is_refused_before_it_is_parsed() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("ppt/presentation.xml", "<p/>")
        archive.writestr("ppt/media/filler.bin", bytes(320 * 1024 * 1024))
    assert len(out.getvalue()) < 1024 * 1024
    with pytest.raises(errors.TooLargeUnpacked) as refused:
        detect(out.getvalue(), "lecture.pptx")
    assert "That PowerPoint file unpacks to 320 MB" in refused.value.user_message


def test_the_stored_name_carries_the_real_format_and_citations_count_slides() -> None:
    assert stored_name("Cardio lecture", Format.PPTX) == "Cardio lecture.pptx"
    assert stored_name("week3.pdf", Format.PPTX) == "week3.pptx"
    assert stored_name("scan.JPEG", Format.JPEG) == "scan.JPEG"
    assert page_unit("week3.pptx") == "slide"
    assert page_unit("week3.pdf") == page_unit("notes.docx") == page_unit("") == "page"
