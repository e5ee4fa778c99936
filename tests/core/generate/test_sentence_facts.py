"""Facts read from running text when a chapter has no key-terms list (a pharmacology chapter
written for these tests with invented drug names, none from the shared PDFs)."""

from __future__ import annotations

from core.generate.facts import ACTION, WHICH, Material, SourceChunk, read_material
from core.generate.terms import build_term_bank
from storage.enums import ChunkKind

PARAGRAPHS = (
    "Zorvamycin, the first natural antibacterial isolated from marsh soil, changed surgery. "
    "Zorvamycin binds the small ribosomal subunit of many soil bacteria. "
    "Keltrofloxacin selectively inhibits bacterial topoisomerase in dividing cells, blocking "
    "replication of the chromosome. Keltrofloxacin is taken by mouth twice a day for a week. ",
    "The quorazoles are synthetic antifungal drugs that disrupt sterol synthesis in yeast "
    "membranes; they are also sprayed on grain. "
    "Farmers buy quorazoles because they are cheap to make. "
    "Pravoxil is a synthetic drug that has been used for decades to treat tapeworm infections. "
    "Tapeworm infections of sheep also respond to nemoquantel, which paralyses the worms. "
    "Nemoquantel is given as one dose to the whole flock in spring. ",
    "In the second phase of ventricular systole, the ventricular ejection phase, blood leaves "
    "the heart. Ventricular systole is short compared with the rest of the cycle. Systole is "
    "followed by relaxation of the muscle in every chamber. "
    "For diagnosis of giardiasis, a stool antigen exam may be helpful. Giardiasis spreads in "
    "cold water from mountain streams. Patients with giardiasis lose weight over many weeks. ",
    "Surgeons give lindarol with zorvamycin for deep wounds after an operation. Lindarol, a "
    "cheap antiseptic salt made from seaweed, is rubbed on the skin before surgery. Clinics in "
    "every village keep nemoquantel and pravoxil on their shelves. Pharmacies store "
    "keltrofloxacin and lindarol in a cold room away from light. Markets sell quorazoles and "
    "zorvamycin to farmers in large sacks.",
)


def material() -> Material:
    chunks = [
        SourceChunk(
            id=i + 1,
            material_id=1,
            ordinal=i,
            kind=ChunkKind.BODY,
            text=text,
            page_start=i + 1,
            page_end=i + 1,
            heading="Drugs",
        )
        for i, text in enumerate(PARAGRAPHS)
    ]
    return read_material(chunks)


def facts_about(found: Material, name: str) -> list[tuple[str, str]]:
    return [
        (fact.kind, fact.frame)
        for fact in found.facts
        if found.bank.terms[fact.term].text.lower() == name
    ]


def test_an_apposition_at_the_start_says_what_the_term_is() -> None:
    found = material()

    assert (WHICH, "the first natural antibacterial isolated from marsh soil") in facts_about(
        found, "zorvamycin"
    )
    assert (WHICH, "a cheap antiseptic salt made from seaweed") in facts_about(found, "lindarol")


def test_an_apposition_of_a_longer_phrase_or_a_clause_is_no_fact_about_the_term() -> None:
    found = material()

    # "the ventricular ejection phase" is the second phase of systole, not systole.
    assert all("ejection" not in frame for _, frame in facts_about(found, "systole"))
    assert all("stool" not in frame for _, frame in facts_about(found, "giardiasis"))


def test_a_plural_category_without_article_is_asked_up_to_its_first_clause() -> None:
    found = material()

    assert facts_about(found, "quorazoles") == [
        (WHICH, "synthetic antifungal drugs that disrupt sterol synthesis in yeast membranes")
    ]


def test_an_adverb_stays_with_its_verb_and_a_trailing_participle_clause_is_cut() -> None:
    found = material()

    assert (ACTION, "selectively inhibits bacterial topoisomerase in dividing cells") in (
        facts_about(found, "keltrofloxacin")
    )


def test_a_term_the_text_also_ties_to_the_statement_is_no_safe_distractor() -> None:
    found = material()
    index = {term.text.lower(): i for i, term in enumerate(found.bank.terms)}
    statement = "a synthetic drug that has been used for decades to treat tapeworm infections"

    # Nemoquantel also treats tapeworms: offered as wrong, it might be right.
    assert found.also_said_of(index["nemoquantel"], statement, index["pravoxil"])
    assert not found.also_said_of(index["keltrofloxacin"], statement, index["pravoxil"])


def test_a_term_no_statement_defines_is_described_by_a_sentence_opening_with_it() -> None:
    found = material()

    index = next(i for i, t in enumerate(found.bank.terms) if t.text.lower() == "nemoquantel")
    note = found.notes[index]
    assert note.sentence == "Nemoquantel is given as one dose to the whole flock in spring."
    assert note.pages == (2,)


def test_a_name_said_once_in_prose_and_again_in_a_table_is_a_term() -> None:
    prose = "Doctors prescribe velmacrin when the fever returns after a course of treatment."
    table = "Drug class Specific drugs\nVelmacrins Velmacrin, tolbutrin\nOthers Rastin"
    bank = build_term_bank([], [prose, table])

    assert "velmacrin" in {t.text for t in bank.terms}
    # A word never written in running text is no term of it.
    assert "tolbutrin" not in {t.text.lower() for t in bank.terms}


def read(*paragraphs: str) -> Material:
    return read_material(
        [
            SourceChunk(i + 1, 1, i, ChunkKind.BODY, text, i + 1, i + 1, "Kidney")
            for i, text in enumerate(paragraphs)
        ]
    )


def test_what_is_said_of_the_occurrence_the_sentence_before_named_is_no_fact() -> None:
    found = read(
        "Low flow to the kidney stimulates the tubular reabsorption of sodium and water. "
        "The tubular reabsorption increases blood flow and blood pressure in every organ. "
        "Tubular reabsorption transports filtered glucose from the tubules to the blood. "
        "Peritubular capillaries receive the solutes and water, returning them to the blood. "
        "Peritubular capillaries supply oxygen to the proximal and distal convoluted tubules."
    )

    reabsorption = facts_about(found, "tubular reabsorption")
    assert all("pressure" not in frame for _, frame in reabsorption)
    assert (ACTION, "transports filtered glucose from the tubules to the blood") in reabsorption
    capillaries = facts_about(found, "peritubular capillaries")
    assert all("solutes" not in frame for _, frame in capillaries)
    assert any("convoluted tubules" in frame for _, frame in capillaries)


def test_a_word_in_the_same_sentence_as_a_term_is_said_of_it_however_far_apart() -> None:
    found = read(
        "Trovacil relieves migraine within an hour of the first dose in most adults. "
        "Trovacil is taken with water after a meal by adults and older children. "
        "Zelmorin, which doctors in the northern provinces first prescribed after the long "
        "war for a great many ailments of the old and of the young, also eases migraine.",
        "Zelmorin is stored in a cool and dark cupboard away from small children.",
        "Pellodex lowers fever in children within a day of the first dose given. "
        "Pellodex is given as a syrup to small children with a high fever at night.",
    )
    names = {t.text.lower(): i for i, t in enumerate(found.bank.terms)}

    trovacil, zelmorin = names["trovacil"], names["zelmorin"]
    assert found.also_said_of(zelmorin, "relieves migraine within an hour", trovacil)
    assert not found.also_said_of(names["pellodex"], "relieves migraine within an hour", trovacil)


def test_a_statement_cut_inside_a_list_is_not_asked() -> None:
    # Cut before ", and", the statement would end "... of bristles, hooks": a broken list.
    listing = (
        "The velamen organ is a collection of bristles, hooks, and glands that trap dust. "
        "Botanists measure the velamen organ of every orchid they collect in the forest. "
        "The velamen organ is thickest in plants of the dry season."
    )
    read = read_material([SourceChunk(1, 1, 0, ChunkKind.BODY, listing, 1, 1, "Roots")])
    frames = [f.frame for f in read.facts if f.kind == WHICH]
    assert not any(frame.endswith("bristles, hooks") for frame in frames), frames
