"""Study material in the shapes students have, made at test time from the shared OpenStax
PDFs (CC BY 4.0, see shared/data/LICENSES.md): a scanned PDF (pages rendered to images),
a photo of a page, a PowerPoint deck and a Word file built from a chapter's sections."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from pathlib import Path

import docx
import pptx
import pypdfium2 as pdfium
from docx.enum.text import WD_BREAK
from PIL import Image, ImageDraw
from pptx.util import Inches, Pt

from core.chunking import chunk_document
from core.generate.glossary import PhraseCounts, parse_glossary
from core.pdf_text import extract
from storage.enums import ChunkKind

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def page_images(
    path: Path, page_numbers: Sequence[int], *, dpi: int = 300, band: tuple[float, float] = (0, 1)
) -> list[Image.Image]:
    """The given 1-based pages rendered as grey images: the band between these shares of
    the page's height from its top (the whole page by default)."""
    document = pdfium.PdfDocument(path)
    try:
        images = []
        for number in page_numbers:
            page = document[number - 1]
            image = page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
            page.close()
            top, bottom = (int(image.height * share) for share in band)
            images.append(image.crop((0, top, image.width, bottom)))
        return images
    finally:
        document.close()


def scanned_pdf(images: Sequence[Image.Image], *, dpi: int = 300) -> bytes:
    """A PDF whose pages are only these images: no text layer, as a scanner makes it."""
    out = io.BytesIO()
    first, *rest = images
    first.save(out, "PDF", resolution=dpi, save_all=True, append_images=list(rest))
    return out.getvalue()


def photo(image: Image.Image, *, fmt: str = "JPEG") -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, fmt, quality=90)
    return out.getvalue()


def sections_of(path: Path) -> list[tuple[str, str, int]]:
    """(heading, text, first page) of each section the chunker finds in a PDF."""
    sections: dict[str, tuple[list[str], int]] = {}
    for draft in chunk_document(extract(path.read_bytes())):
        heading = draft.heading.split(" › ")[-1] or "Introduction"
        sections.setdefault(heading, ([], draft.page_start))[0].append(draft.text)
    return [(heading, "\n".join(texts), page) for heading, (texts, page) in sections.items()]


def sentences(text: str) -> list[str]:
    return [" ".join(part.split()) for part in _SENTENCE.split(text) if part.strip()]


def points_and_prose(text: str, *, most: int = 12) -> tuple[list[str], list[str]]:
    """A section as slide bullets and speaker notes: each short paragraph is a bullet, a long
    one gives its first sentence as a bullet and the rest to the notes."""
    points: list[str] = []
    prose: list[str] = []
    # Chunks overlap, so a paragraph may come twice.
    for paragraph in dict.fromkeys(part.strip() for part in text.split("\n")):
        if not paragraph:
            continue
        said = sentences(paragraph)
        if len(points) >= most:
            prose.append(paragraph)
        elif len(paragraph) <= 200 or len(said) < 2:
            points.append(paragraph)
        else:
            points.append(said[0])
            prose.append(" ".join(said[1:]))
    return points, prose


def deck_from(path: Path) -> bytes:
    """A lecture deck: a title slide, then per section a slide titled by its heading with
    its first sentences as bullets and the rest as speaker notes, and a closing table."""
    deck = pptx.Presentation()
    title_slide = deck.slides.add_slide(deck.slide_layouts[0])
    title_slide.shapes.title.text = "Development of the Heart"
    title_slide.placeholders[1].text = "Lecture slides built from OpenStax A&P 2e"
    sections = sections_of(path)
    for heading, text, _ in sections:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = heading
        points, prose = points_and_prose(text)
        body = slide.placeholders[1].text_frame
        body.text = points[0] if points else heading
        for point in points[1:]:
            body.add_paragraph().text = point
        if prose:
            slide.notes_slide.notes_text_frame.text = "\n".join(prose)
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    slide.shapes.title.text = "Where each topic starts"
    rows = [("Topic", "Page")] + [(heading, str(page)) for heading, _, page in sections]
    table = slide.shapes.add_table(
        len(rows), 2, Inches(0.5), Inches(1.5), Inches(9), Inches(0.4) * len(rows)
    ).table
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
            table.cell(r, c).text_frame.paragraphs[0].font.size = Pt(12)
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def deck_of(slides: Sequence[tuple[str, Sequence[str], str]]) -> bytes:
    """A deck of (title, bullets, speaker notes) slides, terse as lecture slides are."""
    deck = pptx.Presentation()
    for title, bullets, notes in slides:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        body = slide.placeholders[1].text_frame
        body.text = bullets[0]
        for bullet in bullets[1:]:
            body.add_paragraph().text = bullet
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


# A slide bullet's meaning is short: longer glossary definitions stay in the book.
SLIDE_MEANING_WORDS = 30


def key_terms_of(path: Path) -> list[tuple[str, str]]:
    """(term, definition) of a chapter's key-terms list, in the book's order."""
    drafts = chunk_document(extract(path.read_bytes()))
    counts = PhraseCounts([d.text for d in drafts if d.kind is ChunkKind.BODY])
    listed = "\n".join(d.text for d in drafts if d.kind is ChunkKind.KEY_TERMS)
    return [(entry.term, entry.definition) for entry in parse_glossary(listed, counts)]


def glossary_deck_from(path: Path, *, per_slide: int = 6) -> bytes:
    """Revision slides: the chapter's key terms as "term – meaning" bullets, a few per slide,
    each slide titled by the section that first uses its first term (no "Key Terms" slide)."""
    sections = sections_of(path)
    terms = [(t, d) for t, d in key_terms_of(path) if len(d.split()) <= SLIDE_MEANING_WORDS]
    slides = []
    for start in range(0, len(terms), per_slide):
        group = terms[start : start + per_slide]
        first = group[0][0].lower()
        title = next((h for h, text, _ in sections if first in text.lower()), "Revision")
        slides.append((title, [f"{term} – {meaning}" for term, meaning in group], ""))
    return deck_of(slides)


def word_from(path: Path) -> bytes:
    """Word notes: the title, a Heading 1 per section with its text, a page break after each
    section, one bullet list and one table."""
    document = docx.Document()
    document.add_heading("Development of the Heart: notes", level=0)
    sections = sections_of(path)
    for heading, text, _ in sections:
        document.add_heading(heading, level=1)
        points, prose = points_and_prose(text, most=4)
        for paragraph in prose:
            document.add_paragraph(paragraph)
        for point in points:
            document.add_paragraph(point, style="List Bullet")
        document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Topic", "Page"
    for heading, _, page in sections:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = heading, str(page)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def text_in_band(path: Path, page_number: int, band: tuple[float, float]) -> str:
    """The text layer of a band of a page (as in page_images): what OCR of it should read."""
    document = pdfium.PdfDocument(path)
    try:
        page = document[page_number - 1]
        width, height = page.get_size()
        textpage = page.get_textpage()
        text = textpage.get_text_bounded(0, height * (1 - band[1]), width, height * (1 - band[0]))
        textpage.close()
        page.close()
        return str(text)
    finally:
        document.close()


def picture_without_text(size: tuple[int, int] = (1200, 900)) -> Image.Image:
    """A drawing of shapes with no writing: a page OCR finds nothing on."""
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    width, height = size
    draw.ellipse((width // 10, height // 8, width // 2, height // 2), fill=60)
    draw.rectangle((width // 2, height // 2, width - width // 8, height - height // 10), fill=130)
    return image


def combined_pdf(*parts: tuple[bytes, Sequence[int]]) -> bytes:
    """One PDF of the given (PDF bytes, 1-based pages) parts, in order."""
    target = pdfium.PdfDocument.new()
    for data, pages in parts:
        source = pdfium.PdfDocument(data)
        target.import_pages(source, [number - 1 for number in pages])
        source.close()
    out = io.BytesIO()
    target.save(out)
    target.close()
    return out.getvalue()
