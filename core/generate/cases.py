"""Case-style items: a short case assembled from a disease's own section, names masked.

A clinical chapter gives each disease a section (signs and symptoms, transmission,
diagnosis, treatment) titled with the disease and naming its organism most. A case is made
of that section's sentences that describe the illness without naming the organism or the
disease (nor a word of the same root: "cholera" gives "Vibrio cholerae" away). It asks for
the most likely cause (options: the organisms of sibling sections) or the most likely
diagnosis (options: sibling sections' disease titles), so every option is of the key's
kind. The student applies what the section says to a description: application level.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from itertools import chain

from wordfreq import zipf_frequency

from core.chunking import HEADING_SEPARATOR
from core.generate.facts import SourceChunk, locate
from core.generate.flaws import texts_share_root
from core.generate.kinds import family_of_word, head_of, is_binomial, shape_family, singular
from core.generate.schema import APPLICATION, RECALL, DraftItem
from core.generate.text import clean, clue_stems, contains_phrase, normalise, quoted, sentences
from core.readers.formats import cited_pages

CASE_KIND = "case"
CASE_OPTIONS = 4
MIN_CASE_SENTENCES = 2
MAX_CASE_SENTENCES = 3
MIN_CASE_WORDS = 6
MAX_CASE_WORDS = 50
# Sentences that describe an illness: what it does, how it spreads, how it is found.
_CLINICAL = re.compile(
    r"\b(symptoms?|signs?|fever|pain|diarrh\w*|vomit\w*|nausea|cramps?|rash|lesions?|"
    r"jaundice|dehydrat\w*|bleeding|swelling|itch\w*|cough\w*|fatigue|weight loss|"
    r"transmi\w*|contaminat\w*|ingest\w*|acquired|consum\w*|outbreaks?|incubation|"
    r"diagnos\w*|cultur\w*|stool|biopsy|characteri[sz]ed|onset|undercooked|raw|"
    r"treat\w*|therap\w*|antibiotics?|resolv\w*|mortality|perforat\w*|complications?|"
    r"abscess\w*|ulcerat\w*|carriers?)\b",
    re.IGNORECASE,
)
# A sentence leaning on the one before it, or a caption, credit or cross-reference.
_NOT_SELF_CONTAINED = re.compile(
    r"^(it|its|they|their|this|these|those|such|he|she|her|his|both|another|however|thus)\b|"
    r"^\(|"
    r"\b(figure|table|credit|see|chapter|section|doctor|physician|nurse|hospital)\b|"
    r"https?://|[?•]|\b[A-Z][a-z]+['’]s\b",
    re.IGNORECASE,
)
# Sentences of findings that make a section of an unknown-kind title a disease section.
MIN_DISEASE_FINDINGS = 3
# A clinical text: this many sections are sure disease or organism sections, and this share.
MIN_SURE_SECTIONS = 4
CLINICAL_SHARE = 0.3
# A sentence that names something ("is called gingivitis") or leans on a referent ("it may
# cause") does not describe a patient by itself.
_NAMES_OR_REFERS = re.compile(
    r"\b(called|known as|termed|refer(?:s|red)? to|named|it|they|them|this|these|those)\b",
    re.IGNORECASE,
)
# A proper name inside a sentence (another genus, a place, a person) is no finding.
_PROPER_NAME = re.compile(r"(?<=[a-z,;] )[A-Z][a-z]{3,}")
_PROPER_NAME_ZIPF = 3.5
# Clues a whole case must hold that none of the distractors' sections share.
MIN_CASE_CLUES = 2
# A clue is a word of at most this many sections (or this share of them).
MAX_CLUE_SECTIONS = 2
MAX_CLUE_SHARE = 0.1
# Findings a patient shows: a case needs at least one sentence that names some.
_FINDING = re.compile(
    r"\b(symptoms?|signs?|fever|pain|diarrh\w*|vomit\w*|nausea|cramps?|rash|lesions?|"
    r"jaundice|dehydrat\w*|bleeding|swelling|itch\w*|cough\w*|fatigue|weight loss|"
    r"abscess\w*|ulcers?|anemia|malaise|bloating|stools?)\b",
    re.IGNORECASE,
)
# An abbreviation ("HAV", "O&P") often names the disease or its test outright.
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9&]{1,5}\b")
_CAPITALISED_PAIR = re.compile(r"\b([A-Z][a-z]+|[A-Z]\.)\s+([a-z]{3,})\b")
# A word this common in English never masks a sentence ("disease", "food").
_NAME_WORD_ZIPF = 4.0
_MIN_SHARED_PREFIX = 5


@dataclass(frozen=True)
class _Section:
    title: str  # the section's own heading, parentheses removed ("Giardiasis")
    chunks: tuple[SourceChunk, ...]
    sentences: tuple[str, ...]
    organism: str  # the organism it names most ("Giardia lamblia"), or ""
    disease: str  # its title when the title names a condition, or ""
    # The headings above its own ("24.2 Microbial Diseases of the Mouth"): its family.
    parent: str = ""

    @cached_property
    def clues(self) -> frozenset[str]:
        """The clue words of all its sentences (read once: every case consults its rivals')."""
        return frozenset(clue_stems(" ".join(self.sentences)))

    def name_words(self) -> set[str]:
        """Rare words of its organism and disease names: a case must say none of them."""
        found = set()
        for name in (self.organism, self.disease, self.title):
            for word in re.findall(r"[A-Za-z]{4,}", name):
                if zipf_frequency(word.lower(), "en") < _NAME_WORD_ZIPF:
                    found.add(word.lower())
        return found


def _organisms(text: str) -> Counter[str]:
    """Binomials of a text; "V. cholerae" counts for "Vibrio cholerae" when written out."""
    found: Counter[str] = Counter()
    genera: dict[str, str] = {}
    for match in _CAPITALISED_PAIR.finditer(clean(text)):
        if not is_binomial(match.group(0)):
            continue
        genus, epithet = match.groups()
        if not genus.endswith("."):
            genera[genus[0]] = genus
        found[f"{genus} {epithet}"] += 1
    merged: Counter[str] = Counter()
    for name, count in found.items():
        genus, epithet = name.split(" ", 1)
        if genus.endswith("."):
            genus = genera.get(genus[0], genus)
        merged[f"{genus} {epithet}"] += count
    return merged


def _title(heading: str) -> str:
    own = heading.split(HEADING_SEPARATOR.strip())[-1]
    return clean(re.sub(r"\([^)]*\)", " ", own))


def _parent(heading: str) -> str:
    return heading.rpartition(HEADING_SEPARATOR.strip())[0].strip()


def _sections(chunks: Sequence[SourceChunk]) -> list[_Section]:
    by_heading: dict[str, list[SourceChunk]] = {}
    for chunk in sorted(chunks, key=lambda c: (c.material_id, c.ordinal)):
        if chunk.heading:
            by_heading.setdefault(chunk.heading, []).append(chunk)
    whole_text = " ".join(c.text for c in chunks)
    sections = []
    for heading, members in by_heading.items():
        # Chunks overlap: a sentence is read once.
        said = tuple(dict.fromkeys(s for c in members for s in sentences(c.text)))
        counts = _organisms(" ".join(said))
        organism = ""
        if counts:
            name, count = counts.most_common(1)[0]
            genus = name.split(" ")[0]
            others = [n for n in counts if n.split(" ")[1] != name.split(" ")[1]]
            # A section on several organisms ("Tapeworms": Taenia, Diphyllobothrium, ...)
            # mixes their descriptions: a case of it has no single cause. A species of the
            # same genus named once is read as a synonym ("Giardia intestinalis").
            several = any(n.split(" ")[0] != genus or counts[n] >= 2 for n in others)
            if count >= 2 and not name.split(" ")[0].endswith(".") and not several:
                organism = name
        title = _title(heading)
        family, strong = shape_family(title)
        words = title.split()
        head = head_of(title, follow_of=False)
        spelled = next((w for w in words if singular(w) == head), "")
        # "Oral Infections", "Disorders of Platelets" name a group of diseases, not one.
        group = family == "condition" and spelled.lower() not in {"", head}
        findings = sum(1 for sentence in said if _FINDING.search(sentence))
        if group or len(words) > 4:
            disease, inferred = "", False
        elif family == "condition" and strong:
            disease, inferred = title, False
        else:
            # "-osis" also ends processes ("osmosis"), and a short title of no kind ("Measles",
            # "Dental Caries") may be a disease: the section's findings say so, in a chapter
            # that is about diseases (see below).
            weak = family == "condition" and findings > 0
            unnamed = not family and findings >= MIN_DISEASE_FINDINGS and len(words) <= 3
            disease, inferred = (title, True) if weak or unnamed else ("", False)
        disease = _sentence_case(disease, whole_text)
        if organism or disease:
            section = _Section(title, tuple(members), said, organism, disease, _parent(heading))
            sections.append((section, inferred))
    # Titles read as diseases from their findings only count in a clinical text: one where
    # titles and organisms already name several diseases (a physiology chapter's
    # "Erythropoiesis" or "Posterior Pituitary" mentions symptoms too).
    sure = sum(1 for _, inferred in sections if not inferred)
    clinical = sure >= MIN_SURE_SECTIONS and sure >= CLINICAL_SHARE * len(by_heading)
    kept = []
    for section, inferred in sections:
        if inferred and not clinical:
            section = replace(section, disease="")
        kept.append(section)
    # One section per organism: the first that names it most is its own.
    seen: set[str] = set()
    unique = []
    for section in kept:
        if section.organism and section.organism in seen:
            section = replace(section, organism="")
        if section.organism or section.disease:
            seen.add(section.organism)
            unique.append(section)
    return unique


def _sentence_case(title: str, text: str) -> str:
    """A heading's name as the text writes it ("Typhoid Fever" -> "Typhoid fever"): a word
    after the first keeps its capital only when the text never writes it in lower case
    ("Campylobacter")."""
    words = title.split()
    for i, word in enumerate(words[1:], start=1):
        if (
            word[:1].isupper()
            and not word.isupper()
            and re.search(rf"\b{re.escape(word.lower())}\b", text)
        ):
            words[i] = word.lower()
    return " ".join(words)


def _shares_name(word: str, names: set[str]) -> bool:
    word = word.lower()
    return any(
        word == name or len(_prefix(word, name)) >= min(_MIN_SHARED_PREFIX, len(name))
        for name in names
    )


def _prefix(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


# "This serious illness causes ...": the illness the case is about, said plainly.
_THIS_ILLNESS = re.compile(
    r"^(?:This|These|That)\s+(?:[a-z]+\s+){0,2}?(?P<noun>illness|disease|infection|condition)"
    r"(?P<plural>s?)\b"
)


def _as_told(sentence: str) -> str:
    """A sentence as the case tells it: a demonstrative that points at the section's own
    disease becomes "The illness"."""
    return _THIS_ILLNESS.sub(
        lambda m: f"The {m.group('noun')}{m.group('plural')}", sentence, count=1
    )


# Where a sentence lists what the patient shows: "Symptoms include a, b, and c", "It causes
# a, b and c", "a, b, and c may occur".
_FINDINGS_LIST = (
    re.compile(
        r"\b(?:signs|symptoms)\b[^.;]*?\b(?:include|includes|are|involve|consist of)\s+"
        r"(?P<list>[^.;]+)\.?$",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(?:causes?|causing|produces?|results? in|leads? to|leading to|includes?|"
        r"including|characteri[sz]ed by|presents? with|associated with|develops?|"
        r"experiences?|suffers? from)\s+"
        r"(?P<list>[^.;]+)\.?$",
        re.IGNORECASE,
    ),
    re.compile(
        r"^(?P<list>[^.;]+?)\s+(?:may|can|often|usually|commonly)?\s*"
        r"(?:occur|develop|follow|appear|result)s?\b[^.;]*\.?$",
        re.IGNORECASE,
    ),
)
# A list part that is no finding of a living patient, or only a hedge around one.
_NOT_A_FINDING = re.compile(
    r"\b(death|mortality|fatal|complications?|infections?|signs?|symptoms?|affecting|"
    r"severe|cases?|patients?|people|individuals|children|to become|may|however)\b|:"
    # "painful" of "painful, frequent diarrhea": a lone adjective describes the next finding.
    r"|^[a-z]+(?:ful|ous|ive|less|ed)$",
    re.I,
)
_HEDGE = re.compile(
    r"^(?:and|or|with|sometimes|possibl[ey]|occasionally|often|also|even|such as|a|an)\s+",
    re.I,
)
# "When a liver abscess develops, fever ... may occur": the condition is no finding.
_LEADING_CLAUSE = re.compile(
    r"^(?:(?:when|if|once|after|as)\b[^,]{0,60}|however|therefore|thus|also|additionally|"
    r"in addition|moreover|furthermore),\s*",
    re.I,
)
# "watery diarrhea that may contain pus, mucus ...": the rest describes that one finding.
_RELATIVE = re.compile(r"\s+(?:that|which|who|whose)\s+.*$", re.I)
_ASIDE = re.compile(r",\s*(?:which|who|whose)\b[^,]*,")
_LATER_COURSE = re.compile(r"\b(complications?|untreated|if left|chronic carriers?)\b", re.I)
MAX_FINDING_WORDS = 6
# A case shows the patient with at least this many findings: two ("hemorrhaging and
# lesions in the colon") read as one lesion, not a presentation a reader can place.
MIN_CASE_FINDINGS = 3
MIN_FINDINGS = 2
# A sentence telling how the patient came by the illness: the history of a case.
_EXPOSURE = re.compile(
    r"\b(transmi\w*|contaminat\w*|ingest\w*|acquired|consum\w*|undercooked|raw|eating|"
    r"drinking|travel\w*|contact|exposure|day-care|outbreaks?)\b",
    re.IGNORECASE,
)


def _findings_of(sentence: str) -> list[str]:
    """What a patient shows, as the sentence lists it ("high fever", "a rash"); empty when
    the sentence lists no findings."""
    text = _LEADING_CLAUSE.sub("", clean(sentence))
    # "This serious illness, which has an untreated mortality rate of 10%, causes ...": an
    # aside between commas says nothing of when the findings appear.
    if _LATER_COURSE.search(_ASIDE.sub(",", text)):
        return []  # what may follow later is no finding the patient presents with
    for pattern in _FINDINGS_LIST:
        match = pattern.search(text)
        if not match:
            continue
        listed = re.sub(r"\([^)]*\)", " ", match.group("list")).replace("and/or", "or")
        found: list[str] = []
        for part in re.split(r",|\band\b|\bor\b", listed):
            part = part.strip()
            described = _RELATIVE.search(part)
            part = _RELATIVE.sub("", part)
            while _HEDGE.match(part):
                part = _HEDGE.sub("", part, count=1).strip()
            if part and len(part.split()) <= MAX_FINDING_WORDS and not _NOT_A_FINDING.search(part):
                found.append(part if part[:2].isupper() else part[0].lower() + part[1:])
            if described:
                break
        if len(found) >= MIN_FINDINGS and any(_FINDING.search(f) for f in found):
            return found
    return []


def _joined(parts: Sequence[str]) -> str:
    if len(parts) <= 2:
        return " and ".join(parts)
    return f"{', '.join(parts[:-1])}, and {parts[-1]}"


def _patient(case: Sequence[str]) -> str | None:
    """The case as a patient's findings and history: "A patient has fever, diarrhea, and
    cramps." then how it was acquired. None when no sentence lists findings."""
    findings: list[str] = []
    history: list[str] = []
    for sentence in case:
        listed = _findings_of(sentence)
        for finding in listed:
            # "bleeding" and "occasional bleeding" are one finding, said once.
            if any(contains_phrase(had, finding) for had in findings):
                continue
            findings = [had for had in findings if not contains_phrase(finding, had)]
            findings.append(finding)
        if not listed and _EXPOSURE.search(sentence) and not _TREATS.search(sentence):
            history.append(_as_told(sentence))
    if len(findings) < MIN_CASE_FINDINGS:
        return None
    return " ".join([f"A patient has {_joined(findings)}.", *history[:1]])


def _describes(sentence: str, section: _Section, siblings: Sequence[_Section]) -> bool:
    """A self-contained clinical sentence naming neither this disease nor any sibling's."""
    sentence = _as_told(sentence)
    words = sentence.split()
    if not MIN_CASE_WORDS <= len(words) <= MAX_CASE_WORDS or not sentence.endswith("."):
        return False
    if _NOT_SELF_CONTAINED.search(sentence) or not _CLINICAL.search(sentence):
        return False
    if _ACRONYM.search(sentence) or _NAMES_OR_REFERS.search(sentence):
        return False
    if any(
        zipf_frequency(m.group(0).lower(), "en") < _PROPER_NAME_ZIPF
        for m in _PROPER_NAME.finditer(sentence)
    ):
        return False
    # "Protozoan infections ...", "the bacteria ...": the class of the organism, which the
    # options differ by, would answer the question.
    if any(family_of_word(w) == "organism" for w in re.findall(r"[A-Za-z]+", sentence)):
        return False
    if any(is_binomial(m.group(0)) for m in _CAPITALISED_PAIR.finditer(sentence)):
        return False
    names = section.name_words()
    for sibling in siblings:
        names |= sibling.name_words()
    return not any(_shares_name(w, names) for w in re.findall(r"[A-Za-z]{4,}", sentence))


def _usable(sentence: str, section: _Section, siblings: Sequence[_Section]) -> bool:
    """Whether a case may use the sentence: whole, or, for a list of findings, the list
    alone ("Salmonella causes fever, ..." names its cause, the patient's fever does not)."""
    if _describes(sentence, section, siblings):
        return True
    findings = _findings_of(sentence)
    return bool(findings) and _describes(f"A patient has {_joined(findings)}.", section, siblings)


def _support(section: _Section, key: str) -> tuple[str, SourceChunk] | None:
    """A sentence of the section that names the key (what makes it right), and its chunk;
    one without a link to elsewhere ("(the related section)") when there is one."""
    found = [
        (sentence, chunk)
        for chunk in section.chunks
        for sentence in sentences(chunk.text)
        if normalise(key) in normalise(sentence)
    ]
    plain = [pair for pair in found if not _LINK.search(pair[0])]
    return next(iter(plain or found), None)


def _without_links(sentence: str) -> str:
    return re.sub(r"\s+([.,;])", r"\1", _LINK.sub("", sentence)).strip()


# The book's pointer to another place, which the student reading the quote cannot follow.
_LINK = re.compile(
    r"\((?:see\s+)?(?:the\s+)?(?:related\s+)?(?:section|chapter|figure|table|appendix)\b[^)]*\)",
    re.IGNORECASE,
)


def _lead_in(asks_cause: bool) -> str:
    if asks_cause:
        return "Which of the following organisms is the most likely cause?"
    return "Which of the following is the most likely diagnosis?"


def _item(
    section: _Section,
    case: list[str],
    key: str,
    distractors: list[tuple[str, _Section]],
    asks_cause: bool,
    difficulty: int,
) -> DraftItem | None:
    support = _support(section, key)
    if support is None:
        return None
    cited = [
        c for c in section.chunks if any(normalise(s) in normalise(c.text) for s in case)
    ] or [support[1]]
    where = locate(support[0], [support[1]], section.chunks)
    pages = {p for c in cited for p in range(c.page_start, c.page_end + 1)}
    pages.update(where[1] if where else range(support[1].page_start, support[1].page_end + 1))
    told = _patient(case)
    if told is None:
        return None
    stem = f"{told} {_lead_in(asks_cause)}"
    others = "; ".join(f'{name} is described under "{other.title}"' for name, other in distractors)
    explanation = (
        f"The answer is {key}. Your material says: {quoted(_without_links(support[0]))} "
        f'The description comes from the section "{section.title}". '
        f"The other options are described elsewhere: {others}."
    )
    return DraftItem(
        stem=stem,
        options=(key, *(name for name, _ in distractors)),
        correct_index=0,
        explanation=explanation,
        source_chunk_ids=tuple(dict.fromkeys([support[1].id, *(c.id for c in cited)])),
        source_pages=tuple(sorted(pages)),
        support=support[0],
        topic=section.title,
        difficulty=difficulty,
        kind=CASE_KIND,
        flags=(APPLICATION,),
    )


def clinical_items(
    chunks: Sequence[SourceChunk], *, seed: int, difficulty: int
) -> Iterator[DraftItem]:
    """Cases (application) and treatments (recall) from one reading of the sections, each
    disease's first item before any disease's second (see `_cases`)."""
    sections = _sections(chunks)
    # A disease whose treatment a case asks is not asked again by name: one item would
    # answer the other. The recall items are read lazily, after the treatment cases.
    treated: set[int] = set()
    recall = chain(
        _treatments(sections, seed=seed, difficulty=difficulty, skip=treated),
        _causes(sections, seed=seed, difficulty=difficulty),
    )
    yield from _cases(sections, seed=seed, difficulty=difficulty, treated=treated, then=recall)


def case_items(
    chunks: Sequence[SourceChunk], *, seed: int, difficulty: int
) -> Iterator[DraftItem]:
    return _cases(_sections(chunks), seed=seed, difficulty=difficulty)


def treatment_items(
    chunks: Sequence[SourceChunk], *, seed: int, difficulty: int
) -> Iterator[DraftItem]:
    return _treatments(_sections(chunks), seed=seed, difficulty=difficulty)


def _cases(
    sections: list[_Section],
    *,
    seed: int,
    difficulty: int,
    treated: set[int] | None = None,
    then: Iterable[DraftItem] = (),
) -> Iterator[DraftItem]:
    """Case items for the disease sections of these chunks, key first, in rounds so that a
    quiz meets every disease once before it meets one twice: one case per section (its
    cause or its diagnosis); given `treated`, which drug treats a case (the sections asked
    so go into `treated`); the items of `then`; the other of cause and diagnosis, from
    other sentences of the section; then, while a section has sentences left, more cases
    of it (a quiz asking for more than the sections give gets a second description of a
    disease rather than fewer questions)."""
    # A word many sections use ("watery", "microscopic") singles out none of them.
    spread = Counter(w for s in sections for w in s.clues)
    limit = max(MAX_CLUE_SECTIONS, round(len(sections) * MAX_CLUE_SHARE))
    common = frozenset(w for w, n in spread.items() if n > limit)
    rng = random.Random(f"cases:{seed}")
    order = list(range(len(sections)))
    rng.shuffle(order)
    left: dict[int, list[str]] = {}
    for index in order:
        siblings = [s for i, s in enumerate(sections) if i != index]
        usable = [s for s in sections[index].sentences if _usable(s, sections[index], siblings)]
        rng.shuffle(usable)
        left[index] = usable
    second: list[tuple[int, bool]] = []
    for index in order:
        asks = [True, False] if rng.random() < 0.5 else [False, True]
        for position, asks_cause in enumerate(asks):
            item = _case_of(sections, index, left, asks_cause, rng, difficulty, common=common)
            if item is not None:
                yield item
                second.extend((index, other) for other in asks[position + 1 :])
                break
    if treated is not None:
        # Which drug treats a case, from the sentences the first cases left.
        named_in = _treated_by(sections)
        for index in order:
            choice = _treatment_choice(index, sections, named_in, rng)
            if choice is not None:
                item = _treatment_case(sections, index, left, choice, difficulty, common)
                if item is not None:
                    treated.add(index)
                    yield item
    yield from then
    for index, asks_cause in second:
        item = _case_of(sections, index, left, asks_cause, rng, difficulty, common=common)
        if item is not None:
            yield item
    for index in order:
        for asks_cause in (True, False):
            item = _case_of(
                sections, index, left, asks_cause, rng, difficulty, MIN_CASE_SENTENCES, common
            )
            if item is not None:
                yield item


def _case_of(
    sections: list[_Section],
    index: int,
    left: dict[int, list[str]],
    asks_cause: bool,
    rng: random.Random,
    difficulty: int,
    size: int = MAX_CASE_SENTENCES,
    common: frozenset[str] = frozenset(),
) -> DraftItem | None:
    """One case of section `index` from its unused sentences (which it then uses up)."""
    section = sections[index]
    key = section.organism if asks_cause else section.disease
    pool = [
        (name, s)
        for i, s in enumerate(sections)
        if i != index and (name := s.organism if asks_cause else s.disease)
    ]
    if not key or len(pool) < CASE_OPTIONS - 1 or len(left[index]) < MIN_CASE_SENTENCES:
        return None
    # Only siblings: a case of a tooth disease rules out the bowel infections of the next
    # section family by its own words. The nearest in reading order are the likeliest
    # confusions.
    pool = [pair for pair in pool if pair[1].parent == section.parent]
    if len(pool) < CASE_OPTIONS - 1:
        return None
    position = {id(s): i for i, s in enumerate(sections)}
    pool.sort(key=lambda pair: abs(position[id(pair[1])] - index))
    pool = _unlike_each_other(pool, key)
    if len(pool) < CASE_OPTIONS - 1:
        return None
    distractors = rng.sample(pool[:6], CASE_OPTIONS - 1)
    case = _case_sentences(left[index], [other for _, other in distractors], size, common)
    if case is None:
        return None
    left[index] = [s for s in left[index] if s not in case]
    # The book's reading order is kept inside the case.
    case.sort(key=section.sentences.index)
    return _item(section, case, key, distractors, asks_cause, difficulty)


def _unlike_each_other(pool: list[tuple[str, _Section]], key: str) -> list[tuple[str, _Section]]:
    """At most one option per opening the key does not share: three "Gastroenteritis caused
    by ..." beside "Hepatitis" leave the key the odd one out."""
    key_lead = _lead(key)
    seen: set[str] = set()
    kept = []
    for name, section in pool:
        lead = _lead(name)
        if lead and lead != key_lead:
            if lead in seen:
                continue
            seen.add(lead)
        kept.append((name, section))
    return kept


def _lead(name: str) -> str:
    """The first two words of a name of three or more ("gastroenteritis caused")."""
    words = name.lower().split()
    return " ".join(words[:2]) if len(words) >= 3 else ""


def _case_sentences(
    unused: list[str], rivals: Sequence[_Section], size: int, common: frozenset[str]
) -> list[str] | None:
    """Up to `size` sentences that tell this section from the rivals', leading with what the
    patient shows; None when they cannot."""
    # Only what the rivals' sections never say tells the key from them: a sentence without
    # such a clue ("Microscopic examination is used for diagnosis") fits them too.
    rival_words = set().union(common, *(other.clues for other in rivals))
    # A case tells what the patient shows and how it was acquired; how a disease is tested
    # for or treated is no finding of the patient.
    told = [
        s for s in unused if _findings_of(s) or (_EXPOSURE.search(s) and not _TREATS.search(s))
    ]
    findings = [s for s in told if clue_stems(" ".join(_findings_of(s))) - rival_words]
    if not findings:
        return None  # nothing the patient shows tells this disease from the rivals
    first = findings[0]
    history = [
        s for s in told if s != first and not _findings_of(s) and clue_stems(s) - rival_words
    ]

    def enough(case: list[str]) -> bool:
        patient = _patient(case)
        return patient is not None and len(clue_stems(patient) - rival_words) >= MIN_CASE_CLUES

    # One list of findings per case where it tells the disease apart and shows enough: a
    # second list makes a second case of the disease, unless the first needs it.
    case = [first, *history[: min(1, size - 1)]]
    for more in findings[1:]:
        if enough(case):
            break
        if len(case) < size:
            case.append(more)
    if not enough(case):
        return None
    return case


TREATMENT_KIND = "treatment"
# A sentence that says what a disease is treated with.
_TREATS = re.compile(
    r"\b(treat\w*|therap\w*|prescri\w*|first[- ]line|drug of choice|preferred|effective)\b",
    re.IGNORECASE,
)
_DRUG_WORD = re.compile(r"\b[A-Za-z][a-z-]{5,}\b")


# Drug stems that share a class: two antibacterials offered for one bacterial disease may
# both be right, so distractors come from another class than the key ("-ovir" with "-mycin").
_DRUG_CLASSES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("antibacterial", re.compile(r"(^sulfa|cillin|mycin|micin|cycline|floxacin|penem|bactam)")),
    ("antiviral", re.compile(r"(ovir|avir|uvir)$")),
    ("azole", re.compile(r"azole$")),
)


def _drug_class(drug: str) -> str:
    for name, pattern in _DRUG_CLASSES:
        if pattern.search(drug):
            return name
    return drug


_DRUG_STEM = re.compile(r"(azole|cillin|mycin|micin|cycline|floxacin|penem|bactam|vir)$")


def _drug_stem(drug: str) -> str:
    """The stem naming a drug's group ("-azole", "-cycline"), else the drug itself."""
    found = _DRUG_STEM.search(drug.lower())
    return found.group(1) if found else drug


def _drugs(text: str) -> list[str]:
    """Drug names of a text, by their shape ("metronidazole", "erythromycin")."""
    return list(
        dict.fromkeys(
            w
            # "Albendazole is the preferred treatment": a drug may open the sentence.
            for w in (found.lower() for found in _DRUG_WORD.findall(text))
            # "therapy" and "antivirals" name the category, not a drug.
            if shape_family(w) == ("drug", True) and not family_of_word(w)
        )
    )


def _treated_by(sections: Sequence[_Section]) -> dict[str, set[int]]:
    """Per drug, the sections that name it in a treatment sentence."""
    named_in: dict[str, set[int]] = {}
    for index, section in enumerate(sections):
        # Only a word a sentence gives as a treatment is a drug ("fibronectin" is not).
        treating = [t for t in section.sentences if _TREATS.search(t)]
        for drug in _drugs(" ".join(treating)):
            named_in.setdefault(drug, set()).add(index)
    return named_in


def _treatments(
    sections: list[_Section], *, seed: int, difficulty: int, skip: set[int] | None = None
) -> Iterator[DraftItem]:
    """ "Which of the following drugs is used to treat <disease>?" for a drug its section
    names as a treatment, each drug keyed once, with drugs that only other diseases'
    sections name as distractors: each option is a drug, and none is also right for the
    disease asked about."""
    named_in = _treated_by(sections)
    keyed: set[str] = set()
    rng = random.Random(f"treatments:{seed}")
    order = list(range(len(sections)))
    rng.shuffle(order)
    for index in order:
        if skip and index in skip:
            continue
        section = sections[index]
        disease = section.disease.lower() if section.disease else ""
        if section.organism:
            # The organism keeps its capital in a title ("Campylobacter jejuni gastroenteritis").
            disease = disease.replace(section.organism.lower(), section.organism)
        asked = disease or (f"infection with {section.organism}" if section.organism else "")
        choice = _treatment_choice(index, sections, named_in, rng, frozenset(keyed))
        if choice is None:
            continue
        stem = f"Which of the following drugs is used to treat {asked}?"
        item = _treatment_item(section, sections, stem, choice, difficulty, RECALL)
        if item is not None:
            keyed.add(choice.key)  # a quiz asks for albendazole once, not for every worm
            yield item


@dataclass(frozen=True)
class _TreatmentChoice:
    sentence: str  # the section's sentence naming the key as a treatment
    key: str
    picked: list[tuple[str, int]]  # distractor drugs and the section naming each


def _treatment_choice(
    index: int,
    sections: Sequence[_Section],
    named_in: dict[str, set[int]],
    rng: random.Random,
    avoid: frozenset[str] = frozenset(),
) -> _TreatmentChoice | None:
    section = sections[index]
    for sentence in section.sentences:
        if not _TREATS.search(sentence) or _ACRONYM.search(sentence):
            continue
        if _treats_a_subtype(sentence, section):
            continue  # "Hepatitis C can be treated with ... sofosbuvir": not every hepatitis
        # A drug only this disease's section names first; else one other diseases share
        # ("albendazole" for several worms), which is still this disease's drug.
        # A combination ("trimethoprim-sulfamethoxazole") stands out among single drugs by
        # its length alone.
        named = [
            d
            for d in _drugs(sentence)
            if index in named_in.get(d, set()) and d not in avoid and "-" not in d
        ]
        keys = sorted(named, key=lambda d: len(named_in[d]))
        if not keys:
            continue
        key = keys[0]
        said_here = set(_drugs(" ".join(section.sentences)))
        grouped = len({other.parent for other in sections}) > 1
        others = [
            (drug, sorted(where)[0])
            for drug, where in named_in.items()
            if index not in where
            and drug not in said_here
            and _drug_class(drug) != _drug_class(key)
            # A drug for a sibling disease (another worm) may well treat this one too: where
            # the text groups its diseases in families, the distractors treat another family's.
            and not (grouped and any(sections[w].parent == section.parent for w in where))
        ]
        # Drugs of the nearest sections first: what the student read beside this one.
        others.sort(key=lambda pair: (abs(pair[1] - index), pair[0]))
        # One drug per name stem: two azoles fall together, which leaves two real options.
        by_class: dict[str, tuple[str, int]] = {}
        for drug, at in others:
            by_class.setdefault(_drug_stem(drug), (drug, at))
        others = list(by_class.values())
        if len(others) < CASE_OPTIONS - 1:
            return None
        return _TreatmentChoice(sentence, key, rng.sample(others[:6], CASE_OPTIONS - 1))
    return None


CAUSE_KIND = "cause"


def _causes(sections: list[_Section], *, seed: int, difficulty: int) -> Iterator[DraftItem]:
    """ "Which of the following organisms causes hydatid disease?", from a sentence naming
    both, with the organisms of sibling sections as distractors: none of them is named in
    the disease's own section, so none may cause it too."""
    rng = random.Random(f"causes:{seed}")
    order = list(range(len(sections)))
    rng.shuffle(order)
    for index in order:
        section = sections[index]
        if not section.organism or not section.disease:
            continue
        if texts_share_root(section.disease, section.organism):
            continue  # "trichinosis" spells Trichinella, whatever the other options
        support = next(
            (
                (sentence, chunk)
                for chunk in section.chunks
                for sentence in sentences(chunk.text)
                if contains_phrase(sentence, section.organism)
                and contains_phrase(sentence, section.disease)
                and not _LINK.search(sentence)
            ),
            None,
        )
        if support is None:
            continue
        own_text = " ".join(section.sentences)
        pool: dict[str, tuple[int, _Section]] = {}
        for at, other in enumerate(sections):
            name = other.organism
            if at == index or not name or other.parent != section.parent:
                continue
            if contains_phrase(own_text, name) or _genus(name) == _genus(section.organism):
                continue  # named beside the disease, or its kin: it may be a cause as well
            pool.setdefault(name, (at, other))
        ranked = sorted(pool.items(), key=lambda pair: abs(pair[1][0] - index))
        if len(ranked) < CASE_OPTIONS - 1:
            continue
        picked = rng.sample(ranked[:6], CASE_OPTIONS - 1)
        where = locate(support[0], [support[1]], section.chunks)
        if where is None:
            continue
        chunk_ids, pages = where
        disease = section.disease.lower().replace(section.organism.lower(), section.organism)
        others = "; ".join(
            f'{name} is described under "{other.title}"' for name, (_, other) in picked
        )
        yield DraftItem(
            stem=f"Which of the following organisms causes {disease}?",
            options=(section.organism, *(name for name, _ in picked)),
            correct_index=0,
            explanation=(
                f"The answer is {section.organism}. Your material says "
                f"({cited_pages(pages, support[1].unit)}): {quoted(_without_links(support[0]))} "
                f"The other options cause other diseases: {others}."
            ),
            source_chunk_ids=chunk_ids,
            source_pages=pages,
            support=support[0],
            topic=section.title,
            difficulty=difficulty,
            kind=CAUSE_KIND,
            flags=(RECALL,),
        )


def _genus(binomial: str) -> str:
    return binomial.split()[0].rstrip(".").lower() if binomial.split() else ""


def _treats_a_subtype(sentence: str, section: _Section) -> bool:
    """Whether the sentence names one type of the section's illness ("Hepatitis C",
    "type 2 diabetes"), whose drug a case of the section's other types would not take."""
    for name in (section.disease, section.title):
        last = name.split()[-1] if name.split() else ""
        if len(last) < 4:
            continue
        word = re.escape(last)
        named = rf"(?i:{word})"
        if re.search(rf"\b{named}\s+(?:[A-Z]|[0-9]+|[IVX]+)\b|\btype\s+\w+\s+{named}", sentence):
            return True
    return False


def _treatment_case(
    sections: Sequence[_Section],
    index: int,
    left: dict[int, list[str]],
    choice: _TreatmentChoice,
    difficulty: int,
    common: frozenset[str],
) -> DraftItem | None:
    """ "A patient has ... Which of the following drugs is used to treat this illness?":
    the case must tell the disease from those the distractor drugs treat, and names no drug."""
    section = sections[index]
    unused = [s for s in left[index] if not _drugs(s) and not _TREATS.search(s)]
    rivals = [sections[at] for _, at in choice.picked]
    case = _case_sentences(unused, rivals, MAX_CASE_SENTENCES, common)
    if case is None:
        return None
    left[index] = [s for s in left[index] if s not in case]
    case.sort(key=section.sentences.index)
    told = _patient(case)
    if told is None:
        return None
    stem = f"{told} Which of the following drugs is used to treat this illness?"
    cited = [c for c in section.chunks if any(normalise(s) in normalise(c.text) for s in case)]
    return _treatment_item(section, sections, stem, choice, difficulty, APPLICATION, cited)


def _treatment_item(
    section: _Section,
    sections: Sequence[_Section],
    stem: str,
    choice: _TreatmentChoice,
    difficulty: int,
    level: str,
    case_chunks: Sequence[SourceChunk] = (),
) -> DraftItem | None:
    where = locate(choice.sentence, section.chunks, section.chunks)
    if where is None:
        return None
    chunk_ids, pages = where
    unit = next((c.unit for c in section.chunks if c.id in chunk_ids), "page")
    cited = cited_pages(pages[:1], unit)
    others = "; ".join(
        f'{drug} is named for "{sections[at].title}"{_page_note(sections[at], drug)}'
        for drug, at in choice.picked
    )
    described = (
        f' The description comes from the section "{section.title}".' if case_chunks else ""
    )
    explanation = (
        f"The answer is {choice.key}.{described} Your material says ({cited}): "
        f"{quoted(choice.sentence)} The other options are drugs the material names for other "
        f"diseases: {others}."
    )
    case_pages = {p for c in case_chunks for p in range(c.page_start, c.page_end + 1)}
    return DraftItem(
        stem=stem,
        options=(choice.key, *(drug for drug, _ in choice.picked)),
        correct_index=0,
        explanation=explanation,
        source_chunk_ids=tuple(dict.fromkeys([*chunk_ids, *(c.id for c in case_chunks)])),
        source_pages=tuple(sorted({*pages, *case_pages})),
        support=choice.sentence,
        topic=section.title,
        difficulty=difficulty,
        kind=CASE_KIND if case_chunks else TREATMENT_KIND,
        flags=(level,),
    )


def _page_note(section: _Section, drug: str) -> str:
    for chunk in section.chunks:
        if drug in chunk.text.lower():
            return f" ({cited_pages([chunk.page_start], chunk.unit)})"
    return ""
