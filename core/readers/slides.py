"""A PowerPoint deck (.pptx, python-pptx) -> text with one page per slide.

A slide's title is a heading (an outline entry on its slide, which the chunker reads as a
section), its body paragraphs are list items, its tables are read row by row, and its
speaker notes follow the slide's own text.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE, PP_PLACEHOLDER
from pptx.shapes.base import BaseShape
from pptx.slide import Slide

from core.pdf_text import OutlineEntry, PdfText, TextLine
from core.readers.formats import Format
from core.readers.tables import table_lines
from core.upload_errors import CorruptFile, NoPages, TooManyPages

BULLET = "• "
# Placeholders whose paragraphs PowerPoint shows as bullets.
_BULLETED = {PP_PLACEHOLDER.BODY, PP_PLACEHOLDER.OBJECT, PP_PLACEHOLDER.VERTICAL_BODY}
_TITLES = {PP_PLACEHOLDER.TITLE, PP_PLACEHOLDER.CENTER_TITLE, PP_PLACEHOLDER.VERTICAL_TITLE}


def read_slides(
    data: bytes,
    *,
    max_slides: int | None = None,
    on_page: Callable[[int, int], None] | None = None,
) -> PdfText:
    """The deck's text, `pages[i]` being slide i + 1; blocking (run it in a thread)."""
    what = Format.PPTX.what
    try:
        deck = Presentation(io.BytesIO(data))
        slides = list(deck.slides)
    # python-pptx reports a damaged package as whatever its zip or XML layer raised.
    except Exception as error:
        raise CorruptFile(what=what) from error
    if not slides:
        raise NoPages(what=what, unit="slide")
    if max_slides is not None and len(slides) > max_slides:
        raise TooManyPages(pages=len(slides), max_pages=max_slides, what=what, unit="slide")
    pages: list[list[TextLine]] = []
    outline: list[OutlineEntry] = []
    for number, slide in enumerate(slides, start=1):
        try:
            title, lines = _slide_lines(slide, number)
        except Exception as error:  # a slide part that does not parse: the file is damaged
            raise CorruptFile(what=what) from error
        if title:
            outline.append(OutlineEntry(level=1, title=title, page=number))
        pages.append(lines)
        if on_page is not None:
            on_page(number, len(slides))
    deck_title = _clean(deck.core_properties.title or "") or (outline[0].title if outline else "")
    return PdfText(
        pages=tuple("\n".join(line.text for line in lines) for lines in pages),
        outline=tuple(outline),
        title=deck_title,
        lines=tuple(line for lines in pages for line in lines),
    )


def _slide_lines(slide: Slide, number: int) -> tuple[str, list[TextLine]]:
    """The slide's title and its lines: title first, then the shapes top to bottom, then the
    speaker notes."""
    title = ""
    texts: list[str] = []
    for shape in _reading_order(slide.shapes):
        kind = shape.placeholder_format.type if shape.is_placeholder else None
        if kind in _TITLES and not title and shape.has_text_frame:
            title = _clean(shape.text_frame.text)
            continue
        if shape.has_text_frame:
            bulleted = kind in _BULLETED
            for paragraph in shape.text_frame.paragraphs:
                text = _clean(paragraph.text)
                if text:
                    texts.append(f"{BULLET}{text}" if bulleted or paragraph.level else text)
        elif getattr(shape, "has_table", False):
            rows = [[cell.text for cell in row.cells] for row in shape.table.rows]
            texts.extend(table_lines(rows))
    if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
        for paragraph in slide.notes_slide.notes_text_frame.paragraphs:
            text = _clean(paragraph.text)
            if text:
                texts.append(text)
    lines = [TextLine(text, number, new_paragraph=True) for text in [title, *texts] if text]
    return title, lines


def _reading_order(shapes: Any) -> Iterator[Any]:
    """Shapes top to bottom, left to right; a group's shapes in place of the group."""

    def position(shape: BaseShape) -> tuple[int, int]:
        return (shape.top or 0, shape.left or 0)

    for shape in sorted(shapes, key=position):
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            yield from _reading_order(shape.shapes)
        else:
            yield shape


def _clean(text: str) -> str:
    # PowerPoint keeps soft line breaks (Shift+Enter) as vertical tabs inside a paragraph.
    return " ".join(text.replace("\v", " ").split())
