"""A Word document (.docx, python-docx) -> text with pages, headings, lists and tables.

Heading styles become outline entries (Title a chapter, Heading 1 a section, deeper a
subsection). A .docx stores no page numbers; pages are counted at the page breaks Word
recorded when it last laid the document out, and at hard page breaks.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable

from docx import Document
from docx.table import Table
from docx.text.paragraph import Paragraph

from core.pdf_text import OutlineEntry, PdfText, TextLine
from core.readers.formats import Format
from core.readers.tables import table_lines
from core.upload_errors import CorruptFile, TooManyPages

BULLET = "• "
_HEADING_STYLE = re.compile(r"^heading\s*(\d)$", re.IGNORECASE)


def read_word(
    data: bytes,
    *,
    max_pages: int | None = None,
    on_page: Callable[[int, int], None] | None = None,
) -> PdfText:
    """The document's text in reading order; blocking (run it in a thread)."""
    what = Format.DOCX.what
    try:
        document = Document(io.BytesIO(data))
        blocks = list(document.iter_inner_content())
    # python-docx reports a damaged package as whatever its zip or XML layer raised.
    except Exception as error:
        raise CorruptFile(what=what) from error
    page = 1
    lines: list[TextLine] = []
    outline: list[OutlineEntry] = []
    for block in blocks:
        if isinstance(block, Table):
            rows = [[cell.text for cell in row.cells] for row in block.rows]
            lines.extend(TextLine(text, page, new_paragraph=True) for text in table_lines(rows))
            continue
        text = " ".join(block.text.split())
        if text:
            level = _heading_level(block)
            if level is not None:
                outline.append(OutlineEntry(level=level, title=text, page=page))
            elif _is_list_item(block):
                text = f"{BULLET}{text}"
            lines.append(TextLine(text, page, new_paragraph=True))
        if _breaks_page(block):
            page += 1
            if max_pages is not None and page > max_pages:
                raise TooManyPages(pages=page, max_pages=max_pages, what=what)
    if lines and lines[-1].page < page:
        page = lines[-1].page  # a break after the last text opens no page worth counting
    pages = ["\n".join(line.text for line in lines if line.page == n) for n in range(1, page + 1)]
    if on_page is not None:
        on_page(page, page)
    title = " ".join((document.core_properties.title or "").split())
    if not title and outline and outline[0].level == 0:
        title = outline[0].title
    return PdfText(pages=tuple(pages), outline=tuple(outline), title=title, lines=tuple(lines))


def _heading_level(paragraph: Paragraph) -> int | None:
    name = paragraph.style.name if paragraph.style is not None else ""
    if name.casefold() == "title":
        return 0
    found = _HEADING_STYLE.match(name or "")
    return min(int(found.group(1)), 2) if found else None


def _is_list_item(paragraph: Paragraph) -> bool:
    name = (paragraph.style.name if paragraph.style is not None else "") or ""
    properties = paragraph._p.pPr
    return name.casefold().startswith("list") or (
        properties is not None and properties.numPr is not None
    )


def _breaks_page(paragraph: Paragraph) -> bool:
    if paragraph.contains_page_break:  # where Word's last layout turned the page
        return True
    return bool(paragraph._p.xpath('.//w:br[@w:type="page"]'))
