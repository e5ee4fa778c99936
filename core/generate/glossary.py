"""Reads a chapter's key-terms glossary ("term definition" per entry) out of plain text.

PDF text loses the bold face that separates a term from its definition, so the split is
inferred: a glossary term is a phrase the chapter body uses too (its bold first mention),
while "term + first word of the definition" almost never occurs in the body. Entries wrap
over lines; a new entry starts after a short line, or where the alphabetical order of the
glossary says so (longest non-decreasing run of first words).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from wordfreq import zipf_frequency

from core.generate.text import ADJECTIVE_ENDINGS, STOPWORDS, clean, is_table_row, normalise

MAX_TERM_WORDS = 6
MIN_DEFINITION_WORDS = 3
# A line at least this share of the longest line is "full": the entry may wrap past it.
FULL_LINE_SHARE = 0.78
# Forced starts (after a short line) outweigh any number of alphabetical guesses; a line
# start is likelier an entry than a guess inside a line.
_FORCED_WEIGHT = 1000
_LINE_START_WEIGHT = 2
# A one-word term guessed inside a line must be rarer than this (Zipf): "mesoderm", not "tube".
RARE_WORD_ZIPF = 3.5
# Words handed to the term splitter (a term plus enough definition to judge it).
_WINDOW = 30
# A longer "definition" has swallowed the next entries: not trusted.
MAX_DEFINITION_WORDS = 100
# A definition does not end on these; the word after one continues a noun phrase
# ("the left | atrium receives ..."). Pronouns may end one ("... help to regulate it").
_NOT_BEFORE_A_TERM = (STOPWORDS - {"it", "them"}) | {
    "",
    "left",
    "right",
    "anterior",
    "posterior",
    "superior",
    "inferior",
    "upper",
    "lower",
    "internal",
    "external",
    "medial",
    "lateral",
}

_SECTION_END = re.compile(
    r"^(chapter review|review questions|critical thinking questions|interactive link questions|"
    r"summary|chapter summary|references|key terms)\b",
    re.IGNORECASE,
)
# "(also, bundle of His)", "(also, called atrial reflex)", "(plural = atria)".
_ALIAS = re.compile(r"\(\s*also,?\s*(?:called\s+)?([^)]*)\)", re.IGNORECASE)
_PLURAL = re.compile(r"\(\s*plural\s*=\s*([^)]*)\)", re.IGNORECASE)
# An abbreviation inside a term: "atrioventricular (AV) node".
_NOT_A_DEFINITION_START = frozenset(
    ("in", "of", "on", "at", "by", "to", "for", "from", "with", "which", "that", "who", "is")
)
# Verbs and relative words: a "term" containing one is the start of a sentence.
_NOT_IN_A_TERM = frozenset(
    ("is", "are", "was", "were", "be", "been", "has", "have", "had", "that", "which", "when")
)
# A word no phrase contains, standing in for punctuation in the counted corpus.
_BREAK_TOKEN = "qqbreakqq"
# A common word the body writes this often, and never last in a phrase, modifies what follows.
MIN_MODIFIER_USES = 2
MODIFIER_MIN_ZIPF = 4.0
_BREAKS = re.compile(r"[,.;:()!?\[\]]")
_LEADING_NOTE = re.compile(r"^\((?:[^()\s]+\s?){1,4}\)\s+")
_ABBREVIATION = re.compile(r"\(([A-Z][A-Za-z0-9]{0,6})\)")


@dataclass(frozen=True)
class GlossaryEntry:
    """One key term: the term, its definition (alias notes removed) and the printed text."""

    term: str
    definition: str
    aliases: tuple[str, ...]
    # The entry as printed (whitespace collapsed): what a cited page must contain.
    text: str


class PhraseCounts:
    """Counts whole-phrase occurrences in a body of text (normalised, word-bounded).

    Punctuation is a phrase break: "trabeculae carneae, ridges of ..." does not count as
    an occurrence of "trabeculae carneae ridges". Indexed by first word, so a count costs
    the occurrences of that word, not a scan of the whole text.
    """

    def __init__(self, texts: Sequence[str]) -> None:
        self._tokens: list[str] = []
        for text in texts:
            self._tokens.extend(normalise(_BREAKS.sub(f" {_BREAK_TOKEN} ", text)).split())
            self._tokens.append(_BREAK_TOKEN)
        self._where: dict[str, list[int]] = {}
        for position, token in enumerate(self._tokens):
            self._where.setdefault(token, []).append(position)
        self._memo: dict[str, int] = {}

    def count(self, phrase: str) -> int:
        needle = normalise(phrase)
        if needle in self._memo:
            return self._memo[needle]
        words = needle.split()
        found = 0
        if words:
            # Anchor on the phrase's rarest word: "the left atrium" costs "atrium"'s count.
            anchor = min(range(len(words)), key=lambda i: len(self._where.get(words[i], ())))
            size, tokens = len(words), self._tokens
            found = sum(
                1
                for p in self._where.get(words[anchor], ())
                if p >= anchor and tokens[p - anchor : p - anchor + size] == words
            )
        self._memo[needle] = found
        return found

    def ends_a_phrase(self, word: str) -> bool:
        """Whether the body ever writes the word last before punctuation or a text's end."""
        tokens = self._tokens
        return any(
            p + 1 < len(tokens) and tokens[p + 1] == _BREAK_TOKEN
            for p in self._where.get(normalise(word), ())
        )


def _sort_key(term: str) -> str:
    return re.sub(r"[^a-z0-9 ]", "", normalise(term))


_NUMERAL = re.compile(r"[IVX]{1,4}")


def _split_term(
    line: str, counts: PhraseCounts, *, modifier_check: bool = True
) -> tuple[str, str] | None:
    """(term, rest of line) for a line that starts an entry, or None if none is plausible.

    `modifier_check` lets a last word that reads more often with the definition's first
    word join the definition; without it, the longer reading is returned."""
    line = clean(line)
    # An abbreviation belongs to the term: judge the words around it without it.
    probe = _ABBREVIATION.sub("", line)
    paren = probe.find("(")
    # "(also, ...)" or "(plural = ...)" right after the term ends it.
    after = probe[paren:] if paren > 0 else ""
    if len(probe[:paren].split()) <= MAX_TERM_WORDS and (
        _ALIAS.match(after) or _PLURAL.match(after)
    ):
        return _restore_abbreviation(line, probe[:paren].strip())
    tokens = probe.split()
    if len(tokens) < 1 + MIN_DEFINITION_WORDS or normalise(tokens[0]) in STOPWORDS:
        return None
    # How many leading words occur, as one phrase, in the body; and how often each prefix.
    prefix_counts: list[int] = []
    for k in range(1, len(tokens) - MIN_DEFINITION_WORDS + 1):
        occurrences = counts.count(" ".join(tokens[:k]))
        if occurrences == 0:
            break
        prefix_counts.append(occurrences)
    matched = len(prefix_counts)
    if matched == 0:
        return None
    if matched > MAX_TERM_WORDS:
        # The definition was copied from a body sentence ("sinus venosus develops into
        # ..."): the term is the prefix just before the count falls to that one sentence.
        final = prefix_counts[-1]
        matched = next(k for k in range(1, len(prefix_counts)) if prefix_counts[k] == final)
    # "angiotensin I": a capital numeral ends a name, though "i" is a stopword.
    while (
        matched > 0
        and normalise(tokens[matched - 1]) in STOPWORDS
        and not _NUMERAL.fullmatch(tokens[matched - 1])
    ):
        matched -= 1
    # "testosterone steroid | hormone secreted by ...": a table cell pair ("Testosterone |
    # Steroid") made the longer prefix occur, but the last word is the definition's
    # modifier: it reads with the definition's first word far more often.
    if (
        modifier_check
        and 1 < matched < len(tokens)
        and counts.count(f"{tokens[matched - 1]} {tokens[matched]}")
        > 2 * counts.count(" ".join(tokens[:matched]))
    ):
        matched -= 1
    # "target heart rate range in which ...": a definition never opens with "in" or "of",
    # so the last word belongs to the definition.
    while matched > 1 and normalise(tokens[matched]) in _NOT_A_DEFINITION_START:
        matched -= 1
    term_words = {normalise(t) for t in tokens[:matched]}
    if matched == 0 or term_words & _NOT_IN_A_TERM:
        return None
    return _restore_abbreviation(line, " ".join(tokens[:matched]))


def _restore_abbreviation(line: str, term_probe: str) -> tuple[str, str] | None:
    """Maps a term found without its "(AV)" back onto the line, returning (term, rest)."""
    words = term_probe.split()
    pattern = r"\s*(?:\([A-Z][A-Za-z0-9]{0,6}\)\s*)?".join(re.escape(w) for w in words)
    match = re.match(pattern + r"(?:\s*\([A-Z][A-Za-z0-9]{0,6}\))?", line)
    if not match:
        return None
    return match.group(0).strip(), line[match.end() :].strip()


@dataclass(frozen=True)
class _Candidate:
    position: int  # index into the glossary's word stream
    term: str
    key: str
    weight: int

    def follows(self, other: _Candidate) -> bool:
        """Whether this entry may come next after `other` (room for its definition; a line
        of its own may hold a one-word one: "capacitance vessels veins")."""
        forced = self.weight >= _FORCED_WEIGHT
        room = len(other.term.split()) + (1 if forced else MIN_DEFINITION_WORDS)
        return other.key < self.key and self.position >= other.position + room


def _choose(candidates: list[_Candidate]) -> list[_Candidate]:
    """The heaviest chain of candidates whose terms increase alphabetically, in order."""
    best = [c.weight for c in candidates]
    back = [-1] * len(candidates)
    for i, here in enumerate(candidates):
        for j in range(i):
            # Strictly increasing: a glossary lists each term once.
            if here.follows(candidates[j]) and best[j] + here.weight > best[i]:
                best[i] = best[j] + here.weight
                back[i] = j
    if not candidates:
        return []
    i = max(range(len(candidates)), key=lambda x: best[x])
    chain: list[_Candidate] = []
    while i >= 0:
        chain.append(candidates[i])
        i = back[i]
    return chain[::-1]


def _aliases(definition: str) -> tuple[str, ...]:
    found: list[str] = []
    for match in _ALIAS.finditer(definition):
        for part in re.split(r",|\bor\b", match.group(1)):
            part = part.strip(" ;.")
            if part:
                found.append(part)
    return tuple(found)


def _term_like(split: tuple[str, str], before: str, counts: PhraseCounts) -> bool:
    """A guess inside a line must look like a term: several words or one rare word, used as
    such in the body but not as the tail of a longer phrase ("right | atrium receives"),
    and followed by a definition rather than by "of ..." or "that ..."."""
    term, rest = split
    bare = _ABBREVIATION.sub("", term)
    term_words = normalise(bare).split()
    rest_words = normalise(rest).split()
    if not term_words or not rest_words or rest_words[0] in _NOT_A_DEFINITION_START:
        return False
    # "bundle of His" is a term; "rise to the ascending aorta" is not.
    if term[-1:] in ",;:." or any(
        w in STOPWORDS and w.islower() and w != "of" for w in bare.split()[1:]
    ):
        return False
    if counts.count(bare) == 0 or counts.count(f"{before} {bare}") > 0:
        return False
    # "hypothalamic | hormones to travel ...": an adjective is the definition's modifier.
    if term_words[-1].endswith(ADJECTIVE_ENDINGS):
        return False
    return len(term_words) > 1 or zipf_frequency(term_words[0], "en") < RARE_WORD_ZIPF


def _modifier(word: str, counts: PhraseCounts) -> bool:
    """An everyday word the body uses only before another word ("rapid", "smaller"): no
    definition ends on it. A technical noun may by chance never end a phrase in a short
    chapter ("vein"), so only common words are judged."""
    return (
        zipf_frequency(normalise(word), "en") >= MODIFIER_MIN_ZIPF
        and counts.count(word) >= MIN_MODIFIER_USES
        and not counts.ends_a_phrase(word)
    )


_BULLETS = "•▪◦·*-– "


def _glossary_lines(text: str) -> list[str]:
    # A glossary on a slide is a bullet list: the bullet is no part of the term.
    lines = [clean(line).lstrip(_BULLETS) for line in text.splitlines()]
    lines = [line for line in lines if line]
    # A leading "Key Terms" heading, and anything after the glossary, are not entries.
    if lines and lines[0].lower().startswith(("key terms", "glossary")):
        lines = lines[1:]
    for i, line in enumerate(lines):
        if _SECTION_END.match(line):
            return lines[:i]
    return lines


def parse_glossary(text: str, counts: PhraseCounts) -> list[GlossaryEntry]:
    """The entries of a glossary, whether printed one line per line, one entry per line, or
    several entries run together on a line (what a paragraph re-joiner may leave)."""
    lines = _glossary_lines(text)
    if not lines:
        return []
    words: list[str] = []
    line_starts: list[int] = []
    for line in lines:
        line_starts.append(len(words))
        words.extend(line.split())
    longest = max(len(line) for line in lines)
    candidates: list[_Candidate] = []
    head_keys: list[str] = []
    for n, start in enumerate(line_starts):
        split = _split_term(" ".join(words[start : start + _WINDOW]), counts)
        head_keys.append(_sort_key(split[0]) if split else "")
        if split:
            forced = n == 0 or len(lines[n - 1]) < FULL_LINE_SHARE * longest
            weight = _FORCED_WEIGHT if forced else _LINE_START_WEIGHT
            candidates.append(_Candidate(start, split[0], head_keys[-1], weight))
            # "deep femoral vein drains ...": "vein drains" is frequent in the body, which
            # reads "deep femoral" as the term; the alphabetical order after "deep femoral
            # artery" picks the longer reading.
            longer = _split_term(
                " ".join(words[start : start + _WINDOW]), counts, modifier_check=False
            )
            if longer and longer[0] != split[0]:
                candidates.append(_Candidate(start, longer[0], _sort_key(longer[0]), weight))
    # Entries run together inside a line: a later term starts after a definition's last
    # word (never after "the", "of" or a semicolon) and sorts between this line's first
    # term and the next line's.
    for n, start in enumerate(line_starts):
        end = line_starts[n + 1] if n + 1 < len(line_starts) else len(words)
        low = head_keys[n].split(" ")[0] if head_keys[n] else ""
        high = next((k for k in head_keys[n + 1 :] if k), "~")
        for position in range(start + 1 + MIN_DEFINITION_WORDS, end - MIN_DEFINITION_WORDS):
            before = words[position - 1]
            first = _sort_key(words[position])
            if not first or not low <= first <= high.split(" ")[0]:
                continue
            if before[-1:] in ";,:(" or normalise(before) in _NOT_BEFORE_A_TERM:
                continue
            if _modifier(before, counts):
                continue  # "allowing rapid | filtration": the body only writes it before a noun
            split = _split_term(" ".join(words[position : position + _WINDOW]), counts)
            if split and _term_like(split, before, counts):
                candidates.append(_Candidate(position, split[0], _sort_key(split[0]), 1))
    candidates.sort(key=lambda c: c.position)
    chosen = _choose(candidates)
    entries: list[GlossaryEntry] = []
    for n, here in enumerate(chosen):
        end = chosen[n + 1].position if n + 1 < len(chosen) else len(words)
        printed = " ".join(words[here.position : end])
        rest = printed[len(here.term) :] if printed.startswith(here.term) else ""
        aliases = _aliases(rest)
        definition = clean(_PLURAL.sub("", _ALIAS.sub("", rest))).strip(" ;")
        # "delayed hypersensitivity (type IV) T cell-mediated ...": a note on the term that
        # the term's reading left at the definition's start is no part of what it says.
        definition = _LEADING_NOTE.sub("", definition)
        if not MIN_DEFINITION_WORDS <= len(definition.split()) <= MAX_DEFINITION_WORDS:
            continue
        entries.append(GlossaryEntry(here.term, definition, aliases, printed))
    return entries


# "Tachycardia – heart rate above 100 bpm", "Bradycardia: heart rate below 60": a short
# term, then a dash (a hyphen only with spaces round it) or a colon, then its meaning.
_PAIR = re.compile(r"^(?P<term>[^:;.,–—]+?)\s*(?:\s-\s|[–—]|:\s)\s*(?P<definition>\S.*)$")
# Slides are terse: a longer "meaning" is a sentence that happens to contain a colon.
MAX_LISTED_DEFINITION_WORDS = 40
# One such line may be a label ("Note: ..."); a list of them is a glossary.
MIN_LISTED_PAIRS = 2


def _listed_pair(line: str) -> GlossaryEntry | None:
    """The line as a term and its meaning when it has that shape, else None."""
    printed = clean(line).lstrip(_BULLETS)
    match = _PAIR.match(printed)
    if match is None or is_table_row(printed):
        return None  # "Associated hormones: Thyroxine; Effect: ..." is a table's row
    term, definition = match.group("term").strip(), match.group("definition").strip()
    words = _ABBREVIATION.sub("", term).split()
    lowered = [normalise(word) for word in words]
    if not 1 <= len(words) <= MAX_TERM_WORDS or not term[0].isalpha():
        return None
    # A label ends in a number ("Table 3", "Step 2"); a phrase does not end in "of" or "the"
    # and holds no verb ("The heart is: ...").
    if words[-1][-1].isdigit() or lowered[-1] in STOPWORDS or set(lowered) & _NOT_IN_A_TERM:
        return None
    if not MIN_DEFINITION_WORDS <= len(definition.split()) <= MAX_LISTED_DEFINITION_WORDS:
        return None
    return GlossaryEntry(term, definition.rstrip(" ."), (), printed)


def listed_pairs(text: str) -> list[GlossaryEntry]:
    """The "term – meaning" lines of a text (a slide's bullets, a list in notes), read as
    glossary entries when at least MIN_LISTED_PAIRS lines have that shape."""
    entries = [entry for line in text.splitlines() if (entry := _listed_pair(line))]
    return entries if len(entries) >= MIN_LISTED_PAIRS else []
