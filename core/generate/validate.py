"""The arbiter: named item-writing rules every candidate must pass before it is stored.

Each rule is a pure function of one `DraftItem` and a `ValidationContext`; `failed_rules`
returns the names of every rule an item breaks, so a run can count rejections per rule
(`generation_runs.rejected_by_rule`). The thresholds were calibrated on real board items
(bench/eval.py runs the rules on MedQA and OpenStax review questions): a rule that rejects
good real items is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from core.generate import flaws
from core.generate.flaws import FlawContext
from core.generate.schema import DraftItem
from core.generate.text import BLANK, clean, contains_phrase, content_words, normalise, words

OPTION_COUNT = "option_count"
ONE_KEY = "one_key"
DISTINCT_OPTIONS = "distinct_options"
NO_ALL_NONE_OF_ABOVE = "no_all_none_of_above"
KEY_NOT_LONGEST = "key_not_longest_by_margin"
STEM_IS_QUESTION = "stem_is_question"
KEY_NOT_IN_STEM = "key_not_in_stem"
EXPLANATION_PRESENT = "explanation_present"
SOURCE_SUPPORTS_KEY = "source_supports_key"
QUOTE_IN_SOURCE = "quote_in_source"
NOT_A_REVIEW_QUESTION = "not_a_review_question"
FOCUSED_LEAD_IN = "focused_lead_in"
DISTRACTORS_OF_KEY_KIND = "distractors_of_key_kind"
NO_CATEGORY_DISTRACTOR = "no_category_distractor"
NO_CUE_TO_KEY = "no_cue_to_key"
NO_BROKEN_TEXT = "no_broken_text"
KEY_NOT_ALONE_OF_ITS_KIND = "key_not_alone_of_its_kind"

# Share of the key's meaningful words that must occur in the cited chunk(s).
SUPPORT_WORD_SHARE = 0.6
# Cosine (key statement vs chunk) accepted when the words differ (an inferred diagnosis).
SUPPORT_SIMILARITY = 0.45
# A quote must be found nearly verbatim (PDF line breaks and hyphens differ a little).
QUOTE_MATCH = 85.0
# A stem this close to a stretch of a review-question chunk reproduces the book's question.
REVIEW_COPY_MATCH = 88.0
MIN_COPY_CHARS = 40
MIN_EXPLANATION_WORDS = 4

_LEAD_IN = re.compile(
    r"\b(which|what) of the following( terms?)?( best)? (is|are|defines|describes|"
    r"completes)( the)?\b|\bwhich term is defined as\b"
)
_ALL_NONE = re.compile(
    r"\b(all|none|both|neither) of (the )?(above|these|the above|the options)\b", re.IGNORECASE
)


@dataclass(frozen=True)
class ValidationContext:
    """What the rules may consult beyond the item itself."""

    min_options: int = 4
    max_options: int = 5
    require_explanation: bool = True
    require_source: bool = True
    # Chunk id -> text for every chunk an item may cite.
    chunk_texts: Mapping[int, str] = field(default_factory=dict)
    # Normalised texts of the scope's review-question chunks (never generation sources).
    review_texts: Sequence[str] = ()
    # What the flaw detectors know of the material (kinds of its terms, its fragments).
    flaws: FlawContext = field(default_factory=FlawContext)


def _option_count(item: DraftItem, ctx: ValidationContext) -> bool:
    return ctx.min_options <= len(item.options) <= ctx.max_options


def _one_key(item: DraftItem, ctx: ValidationContext) -> bool:
    if not 0 <= item.correct_index < len(item.options):
        return False
    key = normalise(item.key)
    return bool(key) and sum(normalise(o) == key for o in item.options) == 1


def _distinct_options(item: DraftItem, ctx: ValidationContext) -> bool:
    normalised = [normalise(o) for o in item.options]
    return all(normalised) and len(set(normalised)) == len(normalised)


def _no_all_none(item: DraftItem, ctx: ValidationContext) -> bool:
    return not any(_ALL_NONE.search(o) for o in item.options)


def _key_not_longest(item: DraftItem, ctx: ValidationContext) -> bool:
    if not 0 <= item.correct_index < len(item.options) or len(item.options) < 2:
        return True
    return flaws.longest_key_cue(item.stem, item.options, item.correct_index) is None


def _stem_is_question(item: DraftItem, ctx: ValidationContext) -> bool:
    # A lead-in question, never a fill-in-the-blank line. The "?" need not be last: real
    # board items put lab tables or a study abstract after the lead-in.
    return "?" in clean(item.stem)


def _key_not_in_stem(item: DraftItem, ctx: ValidationContext) -> bool:
    if not 0 <= item.correct_index < len(item.options):
        return True
    # Keys made only of function words or numbers ("2", "both") prove nothing by appearing.
    if not content_words(item.key):
        return True
    return not contains_phrase(item.stem, item.key)


def _explanation_present(item: DraftItem, ctx: ValidationContext) -> bool:
    if not ctx.require_explanation:
        return True
    return len(words(item.explanation)) >= MIN_EXPLANATION_WORDS


def _cited_text(item: DraftItem, ctx: ValidationContext) -> str:
    return " ".join(ctx.chunk_texts.get(cid, "") for cid in item.source_chunk_ids)


def _source_supports_key(item: DraftItem, ctx: ValidationContext) -> bool:
    if not ctx.require_source:
        return True
    cited = _cited_text(item, ctx)
    if not cited.strip() or not 0 <= item.correct_index < len(item.options):
        return False
    key_words = content_words(item.key)
    if key_words:
        available = set(content_words(cited))
        share = sum(w in available for w in key_words) / len(key_words)
        if share >= SUPPORT_WORD_SHARE:
            return True
    else:
        numbers = re.findall(r"\d+(?:\.\d+)?", item.key)
        if numbers and all(n in cited for n in numbers):
            return True
    return item.support_similarity is not None and item.support_similarity >= SUPPORT_SIMILARITY


def _quote_in_source(item: DraftItem, ctx: ValidationContext) -> bool:
    if not ctx.require_source or not item.support.strip():
        return True
    cited = normalise(_cited_text(item, ctx))
    quote = normalise(item.support)
    if not cited:
        return False
    if quote in cited:
        return True
    return fuzz.partial_ratio(quote, cited) >= QUOTE_MATCH


def _not_a_review_question(item: DraftItem, ctx: ValidationContext) -> bool:
    if flaws.copies_book_question(
        item.stem, item.options, item.correct_index, ctx.flaws.book_questions
    ):
        return False
    # Lead-in formulas are shared by all questions; only what follows them can be copied.
    stem = _LEAD_IN.sub(" ", normalise(BLANK.sub(" ", item.stem))).strip()
    if len(stem) < MIN_COPY_CHARS:
        return True  # a bare term ("best defines venule") is not a copied question
    return all(fuzz.partial_ratio(stem, text) < REVIEW_COPY_MATCH for text in ctx.review_texts)


def _has_key(item: DraftItem) -> bool:
    return 0 <= item.correct_index < len(item.options) and len(item.options) >= 2


def _focused_lead_in(item: DraftItem, ctx: ValidationContext) -> bool:
    return flaws.unfocused_lead_in(item.stem) is None


def _off_kind(item: DraftItem, ctx: ValidationContext) -> list[int]:
    if not _has_key(item):
        return []
    fragments = ctx.flaws.epithets | flaws.adjectives(ctx.flaws.modifiers)
    return flaws.off_kind_distractors(
        item.stem, item.options, item.correct_index, ctx.flaws.lexicon, fragments
    )


def _distractors_of_key_kind(item: DraftItem, ctx: ValidationContext) -> bool:
    return not _off_kind(item, ctx)


def _key_not_alone_of_its_kind(item: DraftItem, ctx: ValidationContext) -> bool:
    # Every distractor of another kind: the key is answerable without knowing anything.
    return _distractors_of_key_kind(item, ctx) or len(_off_kind(item, ctx)) < len(item.options) - 1


def _no_category_distractor(item: DraftItem, ctx: ValidationContext) -> bool:
    return not _has_key(item) or not flaws.category_distractors(item.options, item.correct_index)


def _no_cue_to_key(item: DraftItem, ctx: ValidationContext) -> bool:
    return not _has_key(item) or not flaws.cues(item.stem, item.options, item.correct_index)


def _no_broken_text(item: DraftItem, ctx: ValidationContext) -> bool:
    broken = flaws.broken_options(item.options, ctx.flaws.epithets, ctx.flaws.modifiers)
    return not broken and flaws.broken_text(item.stem, item.explanation) is None


Rule = Callable[[DraftItem, ValidationContext], bool]

# Order matters only for reading; every rule runs on every item.
RULES: dict[str, Rule] = {
    OPTION_COUNT: _option_count,
    ONE_KEY: _one_key,
    DISTINCT_OPTIONS: _distinct_options,
    NO_ALL_NONE_OF_ABOVE: _no_all_none,
    KEY_NOT_LONGEST: _key_not_longest,
    STEM_IS_QUESTION: _stem_is_question,
    KEY_NOT_IN_STEM: _key_not_in_stem,
    EXPLANATION_PRESENT: _explanation_present,
    SOURCE_SUPPORTS_KEY: _source_supports_key,
    QUOTE_IN_SOURCE: _quote_in_source,
    NOT_A_REVIEW_QUESTION: _not_a_review_question,
    FOCUSED_LEAD_IN: _focused_lead_in,
    DISTRACTORS_OF_KEY_KIND: _distractors_of_key_kind,
    NO_CATEGORY_DISTRACTOR: _no_category_distractor,
    NO_CUE_TO_KEY: _no_cue_to_key,
    NO_BROKEN_TEXT: _no_broken_text,
    KEY_NOT_ALONE_OF_ITS_KIND: _key_not_alone_of_its_kind,
}

# The rubric code (../shared/data/quality/README.md) each rule stands for; bench/eval.py
# scores the rules per code against the human grades. Rules with no code check plumbing
# (option count, a source) that the human grader took for granted.
FLAW_CODES: dict[str, tuple[str, ...]] = {
    STEM_IS_QUESTION: ("F1",),
    FOCUSED_LEAD_IN: ("F1",),
    DISTRACTORS_OF_KEY_KIND: ("F3",),
    NO_CATEGORY_DISTRACTOR: ("F3",),
    DISTINCT_OPTIONS: ("F3",),
    NO_CUE_TO_KEY: ("F4", "F9"),
    KEY_NOT_LONGEST: ("F4",),
    KEY_NOT_IN_STEM: ("F4", "F9"),
    NO_ALL_NONE_OF_ABOVE: ("F5",),
    NOT_A_REVIEW_QUESTION: ("F7",),
    NO_BROKEN_TEXT: ("F8",),
    KEY_NOT_ALONE_OF_ITS_KIND: ("F9",),
}
# Rounds asks questions, never fill-in-the-blank lines: a product rule that the human grader
# did not apply (the graded set has one valid cloze item). Scored apart from the detectors.
POLICY_RULES = frozenset({STEM_IS_QUESTION})

# The rules that need an explanation or a source chunk (reference sets have neither).
SOURCE_RULES = frozenset({EXPLANATION_PRESENT, SOURCE_SUPPORTS_KEY, QUOTE_IN_SOURCE})


def failed_rules(item: DraftItem, ctx: ValidationContext) -> list[str]:
    """Names of every rule the item breaks; empty means it may be stored."""
    return [name for name, rule in RULES.items() if not rule(item, ctx)]


def review_texts_for(chunk_texts: Sequence[str]) -> list[str]:
    """Normalised review-question chunk texts, as `ValidationContext.review_texts` wants."""
    return [normalise(BLANK.sub(" ", t)) for t in chunk_texts if t.strip()]
