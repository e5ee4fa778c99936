"""OCR accuracy and speed on this machine.

The densest text pages of A&P 2e chapter 19 are rendered at 300 dpi and wrapped as a scanned
PDF (images only, no text layer), which the real reader (`core.pdf_text.extract`) then reads
with OCR. Each page's OCR text is compared with the same page read from its text layer,
both cleaned the same way, whitespace collapsed:
- character accuracy: 1 - Levenshtein distance / length of the text layer (goal >= 97%);
- similarity: rapidfuzz `ratio` (insertions and deletions only), for comparison;
- pages/s for the OCR stage (rendering, recognition, spacing), with the load average, as
  the machine is shared.
A photo of a page (JPEG of the same render) goes through `read_photo` for its own speed.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import time
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image
from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from bench.corpus import shared_data_dir
from core.pdf_text import extract
from core.readers.formats import Format
from core.readers.photo import read_photo

CHAPTER = "ap2e_ch19_heart.pdf"
PAGES = 8
DPI = 300
GOAL_ACCURACY = 0.97

Row = tuple[str, str, str, str, str]


def _densest_pages(path: Path, count: int) -> list[int]:
    """The 1-based pages with the most text-layer characters (prose, not figures)."""
    text = extract(path.read_bytes())
    ranked = sorted(range(text.page_count), key=lambda i: -len(text.pages[i]))
    return sorted(i + 1 for i in ranked[:count])


def _render(path: Path, pages: list[int]) -> tuple[bytes, list[Image.Image]]:
    """The pages as a PDF of their own (text layer kept) and as 300-dpi grey images."""
    document = pdfium.PdfDocument(path)
    target = pdfium.PdfDocument.new()
    try:
        images = []
        for number in pages:
            page = document[number - 1]
            images.append(page.render(scale=DPI / 72, grayscale=True).to_pil().convert("L"))
            page.close()
        target.import_pages(document, [number - 1 for number in pages])
        layer = io.BytesIO()
        target.save(layer)
        return layer.getvalue(), images
    finally:
        target.close()
        document.close()


def _scanned(images: list[Image.Image]) -> bytes:
    """A PDF of the images alone, no text layer: what a scanner makes."""
    out = io.BytesIO()
    images[0].save(out, "PDF", resolution=DPI, save_all=True, append_images=images[1:])
    return out.getvalue()


def _flat(text: str) -> str:
    return " ".join(text.split())


def run(results_dir: Path) -> list[Row]:
    path = shared_data_dir() / CHAPTER
    pages = _densest_pages(path, PAGES)
    layer_pdf, images = _render(path, pages)
    scanned_pdf = _scanned(images)
    reference = extract(layer_pdf)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    read = extract(scanned_pdf)
    ocr_s = time.perf_counter() - started
    photo = io.BytesIO()
    images[0].save(photo, "JPEG", quality=90)
    started = time.perf_counter()
    read_photo(photo.getvalue(), Format.JPEG, max_megapixels=60)
    photo_s = time.perf_counter() - started
    load_after = os.getloadavg()[0]

    per_page = []
    for number, ocr, truth in zip(pages, read.pages, reference.pages, strict=True):
        ocr_flat, truth_flat = _flat(ocr), _flat(truth)
        per_page.append(
            {
                "page": number,
                "chars": len(truth_flat),
                "accuracy": 1 - Levenshtein.normalized_distance(ocr_flat, truth_flat),
                "ratio": fuzz.ratio(ocr_flat, truth_flat) / 100,
            }
        )
    total_chars = sum(page["chars"] for page in per_page)
    accuracy = sum(page["accuracy"] * page["chars"] for page in per_page) / total_chars
    ratio = sum(page["ratio"] * page["chars"] for page in per_page) / total_chars
    figures = {
        "chapter": CHAPTER,
        "pages": pages,
        "dpi": DPI,
        "accuracy": accuracy,
        "ratio": ratio,
        "worst_page_accuracy": min(page["accuracy"] for page in per_page),
        "median_page_accuracy": statistics.median(page["accuracy"] for page in per_page),
        "pages_read_by_ocr": len(read.ocr_pages),
        "unreadable_pages": list(read.unreadable_pages),
        "ocr_s": ocr_s,
        "pages_per_s": len(pages) / ocr_s,
        "photo_s": photo_s,
        "load_average": [load_before, load_after],
        "cpus": os.cpu_count(),
        "per_page": per_page,
    }
    (results_dir / "ocr.json").write_text(json.dumps(figures, indent=2) + "\n")
    return [
        ("ocr", "character accuracy", f"{accuracy:.1%}", "", f">= {GOAL_ACCURACY:.0%}"),
        ("ocr", "worst page accuracy", f"{figures['worst_page_accuracy']:.1%}", "", ""),
        ("ocr", "similarity (ratio)", f"{ratio:.1%}", "", ""),
        ("ocr", "pages read by OCR", f"{len(read.ocr_pages)}/{len(pages)}", "pages", ""),
        ("ocr", "speed", f"{len(pages) / ocr_s:.2f}", "pages/s", ""),
        ("ocr", "photo of a page", f"{photo_s:.1f}", "s", ""),
        (
            "ocr",
            "load average",
            f"{load_before:.1f} -> {load_after:.1f}",
            f"{os.cpu_count()} cpus",
            "",
        ),
    ]
