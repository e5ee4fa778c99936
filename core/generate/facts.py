"""Testable facts in the student's chunks: glossary entries and defining sentences.

A fact is one statement the material makes about one term, where it was found (chunks and
pages), and how it can be asked: "term" (definition -> which term), "definition" (term ->
which definition), "cloze" (the sentence with the term blanked), "which" ("X is the Y."
-> "Which of the following is the Y?"). Pure functions over plain dataclasses.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from core.generate.glossary import GlossaryEntry, PhraseCounts, listed_pairs, parse_glossary
from core.generate.kinds import KindLexicon, bare_category, build_lexicon
from core.generate.tables import bare, entries, read_tables
from core.generate.terms import NAMING, Term, TermBank, build_term_bank, key_name
from core.generate.text import (
    FIGURE_REFERENCE,
    clean,
    clue_stems,
    content_words,
    normalise,
    prose_sentence,
    sentences,
    word_clue_stems,
)
from core.readers.formats import cited_pages
from storage.enums import ChunkKind

TERM = "term"
DEFINITION = "definition"
CLOZE = "cloze"
WHICH = "which"
# "X inhibits Y." -> "Which of the following inhibits Y?": what a term does (a drug's action,
# a structure's function, a cause and its effect).
ACTION = "action"

# "(The) X is/are the|a|an|one of ..." -> a "Which of the following" stem.
# Verbs that state what the subject does to something (generic: no subject's vocabulary).
_ACTION = re.compile(
    r"^(?:[Tt]he\s+)?(?P<term>.+?)\s+(?:(?:is|are)\s+(?:also\s+)?)?(?P<verb>"
    r"inhibits?|blocks?|binds?|targets?|prevents?|causes?|produces?|secretes?|stimulates?|"
    r"activates?|increases?|decreases?|reduces?|converts?|transports?|carries|carry|kills?|"
    r"disrupts?|interferes? with|(?:is|are) used (?:to treat|for the treatment of)|treats?|"
    r"releases?|regulates?|supplies|supply|drains?|receives?|controls?|triggers?)\s+"
    r"(?P<rest>.+)$"
)
# An adverb between the subject and its verb ("selectively inhibits") stays in the stem.
_ADVERB = re.compile(r"\s+(?P<adverb>[a-z]+ly)$")
# "Macrolides are broad-spectrum, bacteriostatic drugs that ...": a plural subject said to be
# members of a plural category, without an article.
_ARE_KIND = re.compile(r"^(?:[Tt]he\s+)?(?P<term>.+?)\s+are\s+(?P<rest>.+)$")
# "Sulfanilamide, the first synthetic antimicrobial created, served ..." or "... with
# flucytosine, a fluorinated pyrimidine analog that ...": an apposition says what it is.
_APPOSITION = re.compile(r"^,\s+(?P<rest>(?:the|a|an)\s[^,;()]+?)(?:,\s|\.$)")
# What follows one statement: another clause, a consequence, a second subject.
_CLAUSE_TAIL = re.compile(
    r"(?:;|:|,\s+(?:which|and|but|ultimately|thus|thereby|so|while|whereas|although|"
    r"including|such as)\b|,\s+[a-z]+ing\b).*$"
)
# What may stand right before a term that an apposition describes: the sentence start or a
# preposition that opens a noun phrase (not "of", which makes it part of a longer one).
_WHOLE_PHRASE_BEFORE = re.compile(
    r"(?:^(?:the\s+)?|\b(?:with|by|to|from|on|against|into|as)\s+)$", re.I
)
# A verb outside a relative clause: the words after the comma are a sentence of their own.
_FINITE_VERB = re.compile(
    r"(?<!that )(?<!which )(?<!who )\b(may|might|can|could|will|would|should|must|is|are|"
    r"was|were|has|have|had|does|do|did)\b"
)
# Words that make "X, the Y" lean on something said before, or no statement at all.
_REFERRING = re.compile(r"\b(another|other|this|these|those|such|its|their|same)\b", re.I)
# A stem word found near this many terms at most (or this share of them) still points to
# one thing; "infection" in a drug chapter sits next to every drug.
MIN_SPREAD = 3
SPREAD_SHARE = 0.05
# Cells of a table row that a distractor's explanation quotes, unless they hold no value.
TABLE_CELLS_SAID = 2
NO_VALUE = re.compile(r"^\s*(?:not applicable|none|n/?a|unknown|[-–—]+)\s*$", re.IGNORECASE)
# Words either side of a term's mention that count as its surroundings.
SURROUNDING_WORDS = 15
# Statements about one thing: from this many words, and not longer than this.
MIN_STATEMENT_WORDS = 4
MAX_STATEMENT_WORDS = 25
_IS_A = re.compile(
    r"^(?:[Tt]he\s+)?(?P<term>.+?)\s+(?P<verb>is|are)\s+(?P<rest>(?:the|a|an|one)\s.+)$"
)


@dataclass(frozen=True)
class SourceChunk:
    """A chunk as the generator sees it (built from a storage row by the pipeline)."""

    id: int
    material_id: int
    ordinal: int
    kind: ChunkKind
    text: str
    page_start: int
    page_end: int
    heading: str = ""
    # What its material counts in: a deck's "pages" are slides (core.readers.formats).
    unit: str = "page"

    @cached_property
    def normalised(self) -> str:
        return normalise(self.text)


@dataclass(frozen=True)
class Fact:
    kind: str
    term: int  # index into the term bank
    # The printed text that makes the key right (a sentence or a glossary entry).
    support: str
    chunk_ids: tuple[int, ...]
    pages: tuple[int, ...]
    # The sentence with the term blanked (cloze) or the predicate of "X is the Y" (which).
    frame: str = ""
    heading: str = ""
    priority: int = 1


@dataclass(frozen=True)
class Note:
    """A sentence of the material that says what a term is, where it is, and under which
    heading (the topic of glossary items about the term)."""

    sentence: str
    heading: str
    pages: tuple[int, ...]
    unit: str = "page"

    @property
    def cited(self) -> str:
        return cited_pages(self.pages, self.unit)


@dataclass(frozen=True)
class Material:
    """What the offline generator knows about the materials at hand."""

    bank: TermBank
    facts: tuple[Fact, ...]
    # Per term: one sentence of the material that says what it is (for explanations).
    notes: dict[int, Note]
    # What kind of thing each term is (distractors must be of the key's kind).
    lexicon: KindLexicon = field(default_factory=KindLexicon)
    # Per term, the rare word stems of the text around its mentions (text.clue_stems), and
    # per stem how many terms' surroundings hold it: what the material says near each term.
    surroundings: dict[int, frozenset[str]] = field(default_factory=dict)
    spread: Counter[str] = field(default_factory=Counter)
    # Per glossary term, its entry and where it is printed.
    defined_on: dict[int, Note] = field(default_factory=dict)
    # The unit of each chunk that is not counted in pages (a slide deck's).
    units: dict[int, str] = field(default_factory=dict)

    def cited(self, fact: Fact) -> str:
        """Where a fact is printed, in its material's unit ("p. 3", "slide 14")."""
        unit = next((self.units[i] for i in fact.chunk_ids if i in self.units), "page")
        return cited_pages(fact.pages, unit)

    def also_said_of(self, term: int, statement: str, key: int, category: str = "") -> bool:
        """Whether the material says something close to `statement` near `term` too: a word
        of the statement that singles out the key ("tapeworm", "ergosterol") also sits next
        to this term, so that offering it as wrong could be wrong. The category the stem
        asks for ("a synthetic antiviral ...") is what distractors must share, not a clue."""
        rare = max(MIN_SPREAD, int(SPREAD_SHARE * len(self.bank)))
        own = clue_stems(self.bank.terms[term].text) | clue_stems(self.bank.terms[key].text)
        own |= clue_stems(category)
        telling = {s for s in clue_stems(statement) - own if self.spread[s] <= rare}
        return bool(telling & self.surroundings.get(term, frozenset()))


def _merge_overlapping(texts: Sequence[str]) -> str:
    """Consecutive chunk texts joined with the splitter's overlap removed."""
    merged = ""
    for text in texts:
        if not merged:
            merged = text
            continue
        overlap = 0
        for size in range(min(len(merged), len(text), 600), 10, -1):
            if merged.endswith(text[:size]):
                overlap = size
                break
        merged = merged + text[overlap:] if overlap else f"{merged}\n{text}"
    return merged


def _runs(chunks: Sequence[SourceChunk], kind: ChunkKind) -> list[list[SourceChunk]]:
    """Chunks of one kind in reading order, cut where another kind intervenes."""
    runs: list[list[SourceChunk]] = []
    ordered = sorted(chunks, key=lambda c: (c.material_id, c.ordinal))
    for chunk in ordered:
        if chunk.kind is not kind:
            continue
        last = runs[-1][-1] if runs else None
        if last and last.material_id == chunk.material_id and last.ordinal + 1 == chunk.ordinal:
            runs[-1].append(chunk)
        else:
            runs.append([chunk])
    return runs


def locate(
    support: str, candidates: Sequence[SourceChunk], siblings: Sequence[SourceChunk]
) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """(chunk ids, pages) citing `support`: the chunk(s) holding it, and its page.

    A chunk spanning two pages does not say on which one a sentence is; an overlapping
    neighbour that sits on one page does. Otherwise both pages are cited.
    """
    needle = normalise(support)
    holding = [c for c in candidates if needle in c.normalised]
    if not holding:
        joined = " ".join(c.normalised for c in candidates)
        if needle not in joined:
            return None
        holding = list(candidates)
    ids = tuple(c.id for c in holding)
    single = [
        c for c in (*holding, *siblings) if c.page_start == c.page_end and needle in c.normalised
    ]
    if single:
        return ids, (single[0].page_start,)
    first, last = min(c.page_start for c in holding), max(c.page_end for c in holding)
    return ids, tuple(range(first, last + 1))


def _glossary_facts(
    run: list[SourceChunk], counts: PhraseCounts
) -> list[tuple[GlossaryEntry, tuple[int, ...], tuple[int, ...]]]:
    found = []
    for entry in parse_glossary(_merge_overlapping([c.text for c in run]), counts):
        where = locate(entry.text, run, run)
        if where:
            found.append((entry, *where))
    return found


def _listed_facts(
    body: Sequence[SourceChunk], known: set[str]
) -> list[tuple[GlossaryEntry, tuple[int, ...], tuple[int, ...]]]:
    """Lists of "term – meaning" lines (a slide's bullets) as glossary entries; a term the
    key-terms list or an earlier (overlapping) chunk already gave is not repeated."""
    found = []
    for chunk in body:
        for entry in listed_pairs(chunk.text):
            name = normalise(entry.term)
            if name not in known and (where := locate(entry.text, [chunk], [chunk])):
                known.add(name)
                found.append((entry, *where))
    return found


def _term_pattern(term: Term) -> re.Pattern[str]:
    bare = re.sub(r"\s*\([A-Z][A-Za-z0-9]{0,6}\)", "", term.text)
    words = [re.escape(w) for w in clean(bare).split()]
    return re.compile(r"(?<![\w-])" + r"\s+".join(words) + r"(?![\w-])", re.IGNORECASE)


def _sentence_facts(
    chunk: SourceChunk,
    bank: TermBank,
    counts: PhraseCounts,
    patterns: list[re.Pattern[str]],
    lookup: dict[str, int],
    siblings: Sequence[SourceChunk],
) -> Iterable[Fact]:
    previous = ""
    for sentence in sentences(chunk.text):
        before, previous = previous, sentence
        if not prose_sentence(sentence):
            continue
        words = normalise(sentence).split()
        present = {
            lookup[" ".join(words[i : i + n])]
            for n in range(1, 7)
            for i in range(len(words) - n + 1)
            if " ".join(words[i : i + n]) in lookup
        }
        # A sentence naming one term inside another ("heart" in "heart bulge") tests the
        # longer one; the shorter appears in the frame and is never an option there.
        for index in sorted(present):
            term = bank.terms[index]
            if any(
                other != index and normalise(term.text) in normalise(bank.terms[other].text)
                for other in present
            ):
                continue
            matches = list(patterns[index].finditer(sentence))
            if len(matches) != 1 or _points_back(sentence, matches[0], before):
                continue
            fact = _fact_for(sentence, term, matches[0], counts)
            if fact is None:
                continue
            where = locate(sentence, [chunk], siblings)
            if where is None:
                continue
            yield Fact(
                kind=fact[0],
                term=index,
                support=sentence,
                chunk_ids=where[0],
                pages=where[1],
                frame=fact[1],
                heading=chunk.heading,
                priority=fact[2],
            )


def _points_back(sentence: str, match: re.Match[str], before: str) -> bool:
    """ "The reabsorption increases blood flow." after "... stimulating the reabsorption of
    sodium and water.": "the" + a term the sentence before named is that one occurrence,
    and what is said of it holds there, not of the term in general."""
    opening = re.match(r"The\s+", sentence)
    return bool(opening and match.start() == opening.end() and match.re.search(before))


def _inside_longer_name(sentence: str, match: re.Match[str], counts: PhraseCounts) -> bool:
    """Whether the term is part of a longer name here ("amphotericin | B", "target | mimicry"),
    so that blanking it would leave half a name in the stem."""
    before = sentence[: match.start()].split()[-1:]
    after = sentence[match.end() :].split()[:1]
    term = match.group(0)
    for phrase in (f"{before[0]} {term}" if before else "", f"{term} {after[0]}" if after else ""):
        bare = phrase.strip(",.;:()")
        if phrase and bare == phrase and counts.count(bare) >= 2:
            return True
    return False


def _fact_for(
    sentence: str, term: Term, match: re.Match[str], counts: PhraseCounts
) -> tuple[str, str, int] | None:
    """(kind, frame, priority) for a sentence about `term`, or None if it defines nothing."""
    plain = FIGURE_REFERENCE.sub("", sentence)
    found = _statement_for(plain, sentence, term, match, counts)
    # "is an important aspect of treatment" fits anything: a statement holds a rare word.
    if found and clue_stems(found[1]) - clue_stems(term.text):
        return found
    if _inside_longer_name(sentence, match, counts):
        return None
    return _cloze_for(sentence, term, match)


def _statement_for(
    plain: str, sentence: str, term: Term, match: re.Match[str], counts: PhraseCounts
) -> tuple[str, str, int] | None:
    """(kind, frame, priority) when the sentence states what the term is or does."""
    is_a = _IS_A.match(plain)
    if is_a and normalise(is_a.group("term")) in term.names():
        rest = _first_clause_of(is_a.group("rest"))
        # One clause only: "X is the A, and Y is the B" asks two things.
        single = not re.search(r"\b(is|are)\b", rest)
        if rest and single and len(rest.split()) >= 5 and not _term_pattern(term).search(rest):
            return WHICH, rest, 3
    category = _category(plain, term)
    if category:
        return WHICH, category, 2
    action = _ACTION.match(plain)
    adverb = _ADVERB.search(action.group("term")) if action else None
    subject = action.group("term")[: adverb.start()] if action and adverb else ""
    if action and normalise(subject or action.group("term")) in term.names():
        rest = _one_statement(action.group("rest"))
        # "receive the solutes and water": a short object with "the" points back to what
        # the sentence before said.
        pointing_back = rest.startswith("the ") and len(rest.split()) <= MIN_STATEMENT_WORDS + 1
        if rest and not pointing_back and not _term_pattern(term).search(rest):
            lead = f"{adverb.group('adverb')} " if adverb else ""
            return ACTION, f"{lead}{action.group('verb')} {rest}", 2
    apposition = _APPOSITION.match(plain[match.end() :]) if plain == sentence else None
    # The apposition is about the term only when the term is a whole noun phrase: "In the
    # second phase of ventricular systole, the ventricular ejection phase, ..." is about the
    # phase, and "isoniazid, rifampin, ..., the drug combination" about the list.
    before = sentence[: match.start()]
    if not _WHOLE_PHRASE_BEFORE.search(before) or _inside_longer_name(sentence, match, counts):
        apposition = None
    # "For diagnosis of giardiasis, a stool O&P exam may be helpful": a clause, no apposition.
    if apposition and _FINITE_VERB.search(apposition.group("rest")):
        apposition = None
    if apposition and not _REFERRING.search(apposition.group("rest")):
        rest = _one_statement(apposition.group("rest"))
        if rest and not _term_pattern(term).search(rest):
            return WHICH, rest, 2
    return None


def _cloze_for(sentence: str, term: Term, match: re.Match[str]) -> tuple[str, str, int] | None:
    """The sentence with the term blanked, when the sentence is about the term (clozes only
    feed explanations: a fill-in-the-blank line is no question)."""
    start, end = match.span()
    blanked = FIGURE_REFERENCE.sub("", sentence[:start] + "________" + sentence[end:])
    # "an ________" would give the first letter away.
    blanked = re.sub(r"\b([Aa])n?\s+________", r"\1(n) ________", blanked)
    naming = any(m.start("term") <= start < m.end("term") + 1 for m in NAMING.finditer(sentence))
    if naming:
        return CLOZE, blanked, 3
    # A sentence opening with the term says something about it; only a glossary term is
    # known to be what the sentence is about ("Acyclovir can be administered ..." fits
    # any drug).
    opening = re.match(r"^(?:The\s+)?", sentence)
    if term.definition and opening and start == opening.end() and len(sentence.split()) <= 30:
        return CLOZE, blanked, 2
    if term.definition:
        shared = set(content_words(term.definition)) & set(content_words(sentence))
        if len(shared) >= 3:
            return CLOZE, blanked, 1
    return None


def _first_clause_of(rest: str) -> str:
    """A predicate up to where a second clause starts; "" when that cut would end inside a
    list ("a collection of barriers, cells | , and soluble proteins")."""
    rest = rest.rstrip(".")
    tail = _CLAUSE_TAIL.search(rest)
    if tail and tail.group().startswith(", and") and "," in rest[: tail.start()]:
        return ""
    return rest[: tail.start()].strip(" ,") if tail else rest.strip(" ,")


def _one_statement(rest: str) -> str:
    """The predicate cut to one statement about one thing, or "" when it is not one."""
    rest = _first_clause_of(rest)
    # "that is responsible for ..." describes the object; "is", "which" elsewhere start
    # a second statement.
    if re.search(r"(?<!that )\b(is|are|was|were)\b|\band it\b|\bwhich\b", rest):
        return ""
    if not MIN_STATEMENT_WORDS <= len(rest.split()) <= MAX_STATEMENT_WORDS:
        return ""
    return rest


def _category(sentence: str, term: Term) -> str:
    """ "are broad-spectrum, bacteriostatic drugs that block ..." for a plural term: the
    predicate, when it names a plural category (see kinds.bare_category)."""
    are = _ARE_KIND.match(sentence)
    if not (are and term.plural and normalise(are.group("term")) in term.names()):
        return ""
    rest = bare_category(_one_statement(are.group("rest")))
    return rest if rest and not _term_pattern(term).search(rest) else ""


def _opening_sentences(chunk: SourceChunk, lookup: dict[str, int]) -> Iterable[tuple[int, str]]:
    """(term, sentence) for each prose sentence of the chunk that opens with a term's name."""
    for sentence in sentences(chunk.text):
        if not prose_sentence(sentence):
            continue
        words = normalise(FIGURE_REFERENCE.sub("", sentence)).split()
        start = 1 if words[:1] == ["the"] else 0
        for size in range(min(6, len(words) - start), 0, -1):
            index = lookup.get(" ".join(words[start : start + size]))
            if index is not None:
                yield index, sentence
                break


def _surroundings(
    body: Sequence[SourceChunk], lookup: dict[str, int]
) -> dict[int, frozenset[str]]:
    """Per term, the rare word stems within a few words of each of its mentions, tables and
    captions included (a table row is where a drug class meets its mechanism)."""
    found: dict[int, set[str]] = {}
    for chunk in body:
        words = normalise(chunk.text).split()
        # Each word's stems once; a window only unites them.
        stems = [word_clue_stems(word) for word in words]
        for i in range(len(words)):
            for n in range(1, 7):
                index = lookup.get(" ".join(words[i : i + n]))
                if index is None:
                    continue
                window = stems[max(0, i - SURROUNDING_WORDS) : i + n + SURROUNDING_WORDS]
                found.setdefault(index, set()).update(*window)
        # The whole sentence of a mention too: "Norepinephrine, released by ..., and ADH
        # both ... cause vasoconstriction" ties the word to both, however far apart.
        for sentence in sentences(chunk.text):
            words = normalise(sentence).split()
            named = {
                index
                for i in range(len(words))
                for n in range(1, 7)
                if (index := lookup.get(" ".join(words[i : i + n]))) is not None
            }
            if named:
                said = set().union(*(word_clue_stems(word) for word in words))
                for index in named:
                    found.setdefault(index, set()).update(said)
    return {index: frozenset(stems) for index, stems in found.items()}


def read_material(
    chunks: Sequence[SourceChunk], sources: Sequence[SourceChunk] | None = None
) -> Material:
    """Term bank and facts of the given chunks; facts only from `sources` (default all).

    `chunks` are all non-review chunks of the materials involved (the glossary and the
    distractor pool come from them); `sources` are the chunks a run should ask about.
    """
    body = [c for c in chunks if c.kind in (ChunkKind.BODY, ChunkKind.SUMMARY)]
    counts = PhraseCounts([c.text for c in body])
    glossary: list[tuple[GlossaryEntry, tuple[int, ...], tuple[int, ...]]] = []
    for run in _runs(chunks, ChunkKind.KEY_TERMS):
        glossary.extend(_glossary_facts(run, counts))
    glossary.extend(_listed_facts(body, {normalise(g[0].term) for g in glossary}))
    bank = build_term_bank([g[0] for g in glossary], [c.text for c in body], counts=counts)
    lookup: dict[str, int] = {}
    for index, term in enumerate(bank.terms):
        for name in term.names():
            lookup.setdefault(name, index)
    source_ids = {c.id for c in (sources if sources is not None else chunks)}
    facts: list[Fact] = []
    by_name = {normalise(t.text): i for i, t in enumerate(bank.terms)}
    glossary_facts: list[tuple[int, GlossaryEntry, tuple[int, ...], tuple[int, ...]]] = []
    for entry, ids, pages in glossary:
        found = by_name.get(normalise(entry.term))
        if found is not None and source_ids.intersection(ids):
            glossary_facts.append((found, entry, ids, pages))
    patterns = [_term_pattern(t) for t in bank.terms]
    by_material: dict[int, list[SourceChunk]] = {}
    for chunk in body:
        by_material.setdefault(chunk.material_id, []).append(chunk)
    notes: dict[int, Note] = {}
    # A sentence that opens with the term says something about it: enough to tell a
    # student what a distractor is when no statement defines it.
    openers: dict[int, Note] = {}
    for chunk in body:
        siblings = [
            c
            for c in by_material[chunk.material_id]
            if abs(c.ordinal - chunk.ordinal) <= 1 and c.id != chunk.id
        ]
        for fact in _sentence_facts(chunk, bank, counts, patterns, lookup, siblings):
            if fact.priority >= 2:
                notes.setdefault(
                    fact.term, Note(fact.support, fact.heading, fact.pages, chunk.unit)
                )
            if chunk.id in source_ids:
                facts.append(fact)
        for index, sentence in _opening_sentences(chunk, lookup):
            if index not in openers and (where := locate(sentence, [chunk], siblings)):
                openers[index] = Note(sentence, chunk.heading, where[1], chunk.unit)
    notes = {**openers, **notes}
    normalised_body = [(f" {c.normalised} ", c.heading) for c in body]
    for index, entry, ids, pages in glossary_facts:
        # A glossary item belongs to the section that uses the term, not to "Key Terms".
        heading = notes[index].heading if index in notes else ""
        if not heading:
            name = f" {key_name(bank.terms[index].text)} "
            heading = next((h for text, h in normalised_body if name in text and h), "Key Terms")
        for kind in (TERM, DEFINITION):
            facts.append(Fact(kind, index, entry.text, ids, pages, heading=heading))
    units = {c.id: c.unit for c in chunks if c.unit != "page"}
    defined_on = {
        found: Note(entry.text, "", pages, units.get(ids[0], "page"))
        for entry, ids, pages in glossary
        if (found := by_name.get(normalise(entry.term))) is not None
    }
    surroundings = _surroundings(body, lookup)
    # A stem counts near the terms it surrounds, not in the names it is part of ("tapeworm
    # infections" is no second thing said about tapeworms).
    spread = Counter(
        stem
        for index, stems in surroundings.items()
        for stem in stems - clue_stems(bank.terms[index].text)
    )
    lexicon = build_lexicon(
        {t.text: t.definition for t in bank.terms if t.definition},
        [sentence for c in body for sentence in sentences(c.text)],
        [t.text for t in bank.terms],
    )
    _learn_from_tables(body, lookup, lexicon, notes)
    # Fill-in-the-blank lines are not questions (flaw F1): cloze facts only feed notes.
    asked = tuple(f for f in facts if f.kind != CLOZE)
    return Material(
        bank=bank,
        facts=asked,
        notes=notes,
        lexicon=lexicon,
        surroundings=surroundings,
        spread=spread,
        defined_on=defined_on,
        units=units,
    )


def _learn_from_tables(
    body: Sequence[SourceChunk],
    lookup: dict[str, int],
    lexicon: KindLexicon,
    notes: dict[int, Note],
) -> None:
    """What the tables say of the terms they list: a drug chapter names most of its drugs
    only in a table row ("Amantadine; inhibit escape of virus from endosomes; influenza"),
    so without it they have no kind and nothing to explain them as distractors. The text's
    own sentences, read first, keep precedence."""
    for table in read_tables(body):
        column = table.entry_column()
        if column is None:
            continue
        kind = table.entry_kind(column)
        described = [c for c in range(len(table.headers)) if c != column][:TABLE_CELLS_SAID]
        for row in table.rows:
            for name in entries(row.cells[column]):
                index = lookup.get(normalise(bare(name)))
                if index is None:
                    continue
                lexicon.add(name, kind)
                if index in notes or not described:
                    continue
                where = locate(row.line, [row.chunk], [row.chunk])
                telling = [c for c in described if not NO_VALUE.match(row.cells[c])]
                if where is not None and telling:
                    said = table.cells_said(row, telling)
                    notes[index] = Note(
                        f"the table lists it with {said}",
                        row.chunk.heading,
                        where[1],
                        row.chunk.unit,
                    )
