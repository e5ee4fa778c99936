"""Small text helpers shared by the generators, validators and dedupe: normalise, tokenise."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

from wordfreq import zipf_frequency

# Function and lead-in words: they carry no meaning for overlap checks (key in stem, support).
_STOPWORD_TEXT = """
a an the of and or to in on at by for with from as is are was were be been being it its
this that these those which who whom whose what when where why how than then there their
they them he she his her him we our you your i me my not no nor but if so such into onto
upon over under about after before during between through within without also both each
either neither more most less least other some any all only same very can could may
might must shall should will would do does did done has have had having one two three
following best likely most true false
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
# Endings of adjectives that are never nouns ("hypothalamic", "fibrous", "selective").
ADJECTIVE_ENDINGS = ("ic", "ous", "ive", "ly")
# Endings of words that are mostly no nouns ("enzymatic", "inhibited"): a mined term's head
# word never has one ("capillary" and "canal" come from a glossary).
NOT_NOUN_ENDINGS = (*ADJECTIVE_ENDINGS, "ed", "ing", "al", "ary", "ible", "able", "ent")


def word_list(text: str) -> list[str]:
    """A word list written as text (easier to read and edit than a list of strings)."""
    return text.split()


_WS = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^\w\s]")
_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
# A blank in a cloze stem: three or more underscores (OpenStax writes "________").
BLANK = re.compile(r"_{3,}")
# PDFs hyphenate at line ends and use typographic quotes/dashes; undo what breaks matching.
_SOFT_HYPHEN_BREAK = re.compile(r"(\w)-\n(\w)")
_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-"})


def clean(text: str) -> str:
    """Unicode-normalised text with one space between words (line breaks kept as spaces)."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    text = _SOFT_HYPHEN_BREAK.sub(r"\1\2", text)
    return _WS.sub(" ", text).strip()


def normalise(text: str) -> str:
    """Lower-case words only: what two texts must share to count as 'the same'."""
    text = clean(text).lower()
    text = _NON_WORD.sub(" ", text.replace("_", " "))
    return _WS.sub(" ", text).strip()


def quoted(text: str) -> str:
    """Text in quotation marks as a sentence of its own: a glossary line has no full stop,
    and the explanation's next sentence must not run on from it."""
    return f'"{text}"' + ("" if text.rstrip().endswith((".", "?", "!")) else ".")


def stem_hash(stem: str) -> str:
    """The exact-duplicate key stored in questions.stem_hash (unique per scope)."""
    return hashlib.sha256(normalise(stem).encode("utf-8")).hexdigest()


def words(text: str) -> list[str]:
    return _WORD.findall(clean(text).lower())


def _fold(word: str) -> str:
    # A crude plural fold: enough to match "valves" with "valve" (irregular plurals are rare).
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def content_words(text: str) -> list[str]:
    """Meaningful words, plural-folded, in order (duplicates kept)."""
    return [_fold(w) for w in words(text) if w not in STOPWORDS and not w.isdigit()]


def contains_phrase(haystack: str, needle: str) -> bool:
    """True when `needle` occurs in `haystack` as whole words, after normalisation."""
    n = normalise(needle)
    if not n:
        return False
    return f" {n} " in f" {normalise(haystack)} "


# Sentence ends: ". " before a capital, a digit or an opening quote/bracket. Lower-case
# after the stop is not a new sentence ("S. aureus", "e.g. the").
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[A-Z0-9“\"(])")
_ABBREVIATIONS = ("e.g.", "i.e.", "Fig.", "fig.", "vs.", "approx.", "et al.", "Dr.", "No.", "St.")
_INITIAL = re.compile(r"(?:^|\s)[A-Z]\.$")
# A line this short without end punctuation is a heading or a label, not part of a sentence.
_HEADING_CHARS = 60


def _paragraphs(text: str) -> list[str]:
    """Lines joined into running text; headings, bullets and captions stand alone."""
    blocks: list[str] = []
    current: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        standalone = (
            not line
            or line.startswith(("•", "-", "–"))
            or (len(line) < _HEADING_CHARS and not line.endswith((".", ",", ";", ":", "?", ")")))
        )
        if standalone:
            if current:
                blocks.append(" ".join(current))
                current = []
            if line:
                blocks.append(line)
        else:
            current.append(line)
    if current:
        blocks.append(" ".join(current))
    return blocks


def sentences(text: str) -> list[str]:
    """The sentences of a passage, whitespace-collapsed; abbreviations and initials kept."""
    found: list[str] = []
    for block in _paragraphs(text):
        merged: list[str] = []
        for part in _SENTENCE_END.split(clean(block)):
            if merged and (merged[-1].endswith(_ABBREVIATIONS) or _INITIAL.search(merged[-1])):
                merged[-1] = f"{merged[-1]} {part}"
            else:
                merged.append(part)
        found.extend(s.strip() for s in merged if s.strip())
    return found


# A table row as the readers write it: "Header: cell; Header: cell" (core.readers.tables).
TABLE_CELL = re.compile(r"(?:^|; )(?P<header>[A-Z][^:;]{0,40}?): ", re.MULTILINE)


def is_table_row(line: str) -> bool:
    """A line of two or more "Header: cell" pairs (a line of one is a "Term: meaning" bullet)."""
    return len(TABLE_CELL.findall(line)) >= 2


MIN_SENTENCE_WORDS = 8
MAX_SENTENCE_WORDS = 45
# Sentences opening with these lean on the previous sentence ("It begins beating ...").
_DANGLING_START = re.compile(
    r"^(it|its|this|these|those|they|their|them|such|he|she|his|her|both|each|another|"
    r"here|there|thus|therefore|however|in this|in these|as a result|in contrast|"
    r"similarly|likewise|figure|table|for example|for instance|\()\b",
    re.IGNORECASE,
)
# Pronouns early in a sentence point back at the previous one ("At this point, they ...").
_EARLY_PRONOUN = re.compile(r"\b(it|its|they|them|their|this|these|those|you)\b", re.I)
FIGURE_REFERENCE = re.compile(r"\s*\((?:see\s+)?(?:figure|fig\.|table|box)\s[^)]*\)", re.I)
_NOT_PROSE = re.compile(r"https?://|www\.|\b(?:figure|table)\s+\d|•|\?|_{3}|\bclick\b", re.I)
_LIST = re.compile(r"(?:,[^,]+){3,}")


def prose_sentence(sentence: str) -> bool:
    """A self-contained sentence of running text: no caption, list, link or back-reference."""
    n = len(sentence.split())
    return (
        MIN_SENTENCE_WORDS <= n <= MAX_SENTENCE_WORDS
        and sentence.endswith(".")
        and sentence[:1].isupper()
        and not _DANGLING_START.match(sentence)
        and not _NOT_PROSE.search(FIGURE_REFERENCE.sub("", sentence))
        and not _LIST.search(sentence)
        and not _EARLY_PRONOUN.search(" ".join(sentence.split()[:6]))
    )


# Qualifiers that are rare enough to look specific yet single nothing out.
_VAGUE = frozenset(
    word_list(
        """
    nonspecific specific general generally common commonly rare rarely usual usually
    typical typically severe mild moderate various several variety certain possible
    possibly likely different similar related associated additional particular minimal
    nonexistent absent present frequent frequently occasional occasionally
    """
    )
)
# A word this common in English is no clue to one thing ("water", "days").
_CLUE_ZIPF = 4.5
# Stems this long: "dehydration" and "dehydrated" share "dehydr".
_CLUE_STEM = 6


@lru_cache(maxsize=65536)
def _clue_stem(word: str) -> str:
    if word in _VAGUE or zipf_frequency(word, "en") >= _CLUE_ZIPF:
        return ""
    return word[:_CLUE_STEM]


def clue_stems(text: str) -> set[str]:
    """Word stems of a text that could single out one disease, drug or structure: not
    everyday English, not a vague qualifier."""
    return {stem for word in re.findall(r"[a-z]{4,}", text.lower()) if (stem := _clue_stem(word))}


@lru_cache(maxsize=65536)
def word_clue_stems(word: str) -> frozenset[str]:
    """clue_stems of one normalised word (what a sliding window over words unites)."""
    return frozenset(clue_stems(word))
