"""Tables in a PDF are read cell by cell: each row is one line naming its cells, so a
drug stays with its own class, mechanism and spectrum (OpenStax Microbiology ch. 14)."""

from __future__ import annotations

import io
from pathlib import Path

import pypdfium2 as pdfium

from core.pdf_text import extract

DRUGS = "micro_ch14_antimicrobial_drugs.pdf"


def pages_of(path: Path, numbers: list[int]) -> bytes:
    """A PDF of some 1-based pages of another, as a student might export them."""
    source = pdfium.PdfDocument(path)
    target = pdfium.PdfDocument.new()
    try:
        target.import_pages(source, [n - 1 for n in numbers])
        out = io.BytesIO()
        target.save(out)
        return out.getvalue()
    finally:
        target.close()
        source.close()


def lines_of(text: str) -> list[str]:
    return text.split("\n")


def test_each_table_row_is_one_line_with_its_cells_named_by_their_headers(
    shared_data: Path,
) -> None:
    text = extract(pages_of(shared_data / DRUGS, [14]))
    methicillin = [
        line for line in lines_of(text.pages[0]) if "Specific Drugs: Methicillin" in line
    ]
    assert len(methicillin) == 1
    row = methicillin[0]
    assert "Drug Class: Penicillins" in row
    assert "Natural or Semisynthetic: Semisynthetic" in row
    assert (
        "Spectrum of Activity: Narrow-spectrum against gram-positive bacteria only, including "
        "strains producing penicillinase" in row
    )
    # The text layer's scattering of the same cells over many lines is gone.
    assert "Penicillins Penicillin G, penicillin" not in text.pages[0]


def test_a_cell_merged_over_several_rows_belongs_to_each_of_them(shared_data: Path) -> None:
    text = extract(pages_of(shared_data / DRUGS, [14]))
    rows = [line for line in lines_of(text.pages[0]) if "Drug Class: Cephalosporins" in line]
    drugs = [line.split("Specific Drugs: ")[1].split(";")[0] for line in rows]
    assert drugs == [
        "Cephalosporin C",
        "First-generation cephalosporins",
        "Second-generation cephalosporins",
        "Third- and fourth-generation cephalosporins",
        "Fifth-generation cephalosporins",
    ]
    assert all("Mechanism of Action: Interact directly with PBPs" in row for row in rows)


def test_prose_around_a_table_is_kept_as_it_was(shared_data: Path) -> None:
    text = extract(pages_of(shared_data / DRUGS, [11]))
    page = text.pages[0]
    assert (
        "Mode of Action: Inhibit biosynthesis of proteins; Target: 30S ribosomal subunit" in page
    )
    assert "Several different classes of antibacterials block steps in the biosynthesis" in page
    # The caption stays where it was printed, above its rows.
    lines = lines_of(page)
    caption = lines.index("Table 14.1")
    assert lines[caption + 1].startswith("Mode of Action: ")
