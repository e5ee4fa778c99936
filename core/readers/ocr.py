"""Text recognition (OCR) of a page image -> lines of text in reading order.

RapidOCR (PP-OCRv4 models run by onnxruntime) ships its ONNX models inside its wheel, so
nothing is downloaded at run time; Tesseract is a system package this image does not have.
Its recogniser, trained mostly on Chinese, often drops the space between English words, so
spaces are put back where the page itself shows a word gap (a run of blank pixel columns
inside the line clearly wider than the gap between two letters) and the pieces read better
as words than the whole does ("the|heart" splits, "Hea|rt" stays "Heart"), judged by
wordfreq.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from rapidocr_onnxruntime import RapidOCR
from wordfreq import zipf_frequency

# The detector works on images whose longest side is at most this many pixels (RapidOCR's
# own default); a letter page rendered at 200 dpi is 1700 x 2200.
MAX_SIDE_PX = 2000
# Recognised text scoring under this confidence is noise (RapidOCR's own default).
MIN_SCORE = 0.5
# A blank run at least this share of the line box's height is a gap between words; the gap
# between letters is a few pixels (measured on OpenStax pages: 0.2 to 0.24 reads best).
WORD_GAP_SHARE = 0.22
# Choosing where to split a run of letters: each piece scores its Zipf frequency (a word
# unknown to wordfreq scores UNKNOWN_ZIPF) minus PIECE_COST, so a split must buy real words.
UNKNOWN_ZIPF = -3.0
PIECE_COST = 2.0
_EDGE_PUNCTUATION = "\"'()[]{},.;:!?“”‘’—–-"
_TOKEN = re.compile(r"\S+")
# Boxes whose vertical centres are this share of a box height apart sit on one line.
SAME_LINE_SHARE = 0.5


@dataclass(frozen=True)
class OcrLine:
    """One printed line: its text and its box (pixels, origin top left)."""

    text: str
    left: float
    top: float
    bottom: float


class PageRecogniser:
    """Loads the OCR models once (about a second) and reads any number of page images."""

    def __init__(self) -> None:
        # No angle classifier: it turned some upright English lines upside down ("Aisiun aoy
        # xesuadoaz"), and pages arrive upright (photos are turned by their EXIF tag).
        self.engine = RapidOCR(max_side_len=MAX_SIDE_PX, use_cls=False)

    def read(self, image: np.ndarray) -> list[OcrLine]:
        """The lines of a page image (grey or BGR), top to bottom; [] when none is found."""
        grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        found, _ = self.engine(grey, return_word_box=True)
        pieces = [_piece(grey, result) for result in found or () if float(result[2]) >= MIN_SCORE]
        return _lines([piece for piece in pieces if piece.text])


def _piece(grey: np.ndarray, result: list[Any]) -> OcrLine:
    box = np.asarray(result[0], dtype=np.float32)
    text = str(result[1])
    if len(result) >= 5 and result[3] and len(result[4]) == len(result[3]):
        text = _respaced(grey, box, result[3], [str(ch) for ch in result[4]])
    left, top = float(box[:, 0].min()), float(box[:, 1].min())
    return OcrLine(" ".join(text.split()), left, top, float(box[:, 1].max()))


def _respaced(grey: np.ndarray, box: np.ndarray, char_boxes: list[Any], chars: list[str]) -> str:
    """The recognised characters with a space wherever the image shows a word gap and the
    pieces read as words."""
    gaps = _word_gaps(grey, box)
    centres = [float(np.mean([point[0] for point in char_box])) for char_box in char_boxes]
    gapped = {
        i
        for i in range(len(chars) - 1)
        if chars[i] != " " and chars[i + 1] != " "
        if any(centres[i] < gap < centres[i + 1] for gap in gaps)
    }
    text = "".join(chars)
    words = []
    for token in _TOKEN.finditer(text):
        cuts = [i + 1 - token.start() for i in sorted(gapped) if token.start() <= i < token.end()]
        words.append(_best_split(token.group(), cuts))
    return " ".join(words)


def _best_split(token: str, cuts: list[int]) -> str:
    """The token cut at the subset of `cuts` whose pieces score best as words."""
    if not cuts:
        return token
    bounds = [0, *cuts, len(token)]
    unreached: tuple[float, list[str]] = (-math.inf, [])
    best: list[tuple[float, list[str]]] = [(0.0, []), *[unreached] * (len(bounds) - 1)]
    for end in range(1, len(bounds)):
        for start in range(end):
            piece = token[bounds[start] : bounds[end]]
            score = best[start][0] + _piece_score(piece)
            if score > best[end][0]:
                best[end] = (score, [*best[start][1], piece])
    return " ".join(best[-1][1])


def _piece_score(piece: str) -> float:
    word = piece.strip(_EDGE_PUNCTUATION)
    if not word.isalpha():
        return -PIECE_COST  # numbers and symbols: no word to judge, only the cost
    zipf = zipf_frequency(word, "en")
    return (zipf if zipf > 0 else UNKNOWN_ZIPF) - PIECE_COST


def _word_gaps(grey: np.ndarray, box: np.ndarray) -> list[float]:
    """The x centres of blank column runs inside a line box wide enough to part words."""
    x0, x1 = int(box[:, 0].min()), int(np.ceil(box[:, 0].max()))
    y0, y1 = int(box[:, 1].min()), int(np.ceil(box[:, 1].max()))
    crop = grey[max(0, y0) : y1, max(0, x0) : x1]
    if crop.size == 0 or crop.shape[0] < 2:
        return []
    # Otsu picks the ink/paper threshold per line, so grey scans and photos work alike.
    _, ink = cv2.threshold(crop, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    ink_per_column = np.asarray(ink.sum(axis=0)).ravel()
    min_gap = WORD_GAP_SHARE * crop.shape[0]
    gaps: list[float] = []
    run = 0
    for x, column_ink in enumerate(ink_per_column.tolist()):
        if not column_ink:
            run += 1
            continue
        if run >= min_gap and x - run > 0:  # a blank margin before the first letter is no gap
            gaps.append(max(0, x0) + x - run / 2)
        run = 0
    return gaps


def _lines(pieces: list[OcrLine]) -> list[OcrLine]:
    """Joins boxes that sit side by side on one line (the detector may split a line)."""
    ordered = sorted(pieces, key=lambda piece: (piece.top + piece.bottom) / 2)
    rows: list[list[OcrLine]] = []
    for piece in ordered:
        middle = (piece.top + piece.bottom) / 2
        if rows:
            last = rows[-1][-1]
            height = max(last.bottom - last.top, piece.bottom - piece.top, 1.0)
            if abs(middle - (last.top + last.bottom) / 2) < SAME_LINE_SHARE * height:
                rows[-1].append(piece)
                continue
        rows.append([piece])
    lines = []
    for row in rows:
        row.sort(key=lambda piece: piece.left)
        lines.append(
            OcrLine(
                " ".join(piece.text for piece in row),
                row[0].left,
                min(piece.top for piece in row),
                max(piece.bottom for piece in row),
            )
        )
    return lines
