"""Key-terms lists read out of plain PDF text (a glossary and body written for these tests)."""

from __future__ import annotations

from core.generate.glossary import PhraseCounts, listed_pairs, parse_glossary

BODY = [
    "The zentral gland secretes brovin, a peptide hormone that lowers blood salt. "
    "Another peptide hormone, quellin, raises it. A peptide hormone acts within minutes. "
    "Storage vessels, the veins, hold most of the blood at rest. Every peptide hormone "
    "binds a receptor on the cell surface.",
    # A table row runs its cells together: "Brovin Peptide", "Quellin Peptide".
    "Hormone Class Gland\nBrovin Peptide Zentral gland\nQuellin Peptide Zentral gland",
    "Blood moves from arteries into the smallest vessels of the body, the capillaries. "
    "A capillary wall is one cell thick. A vein returns blood to the heart.",
]
GLOSSARY = (
    "brovin peptide hormone secreted by the zentral gland that lowers blood salt\n"
    "capillary smallest of blood vessels where exchange occurs between blood and cells\n"
    "storage vessels veins\n"
    "vein vessel that returns blood to the heart from the tissues of the body"
)


def entries() -> dict[str, str]:
    return {e.term: e.definition for e in parse_glossary(GLOSSARY, PhraseCounts(BODY))}


def test_a_modifier_that_reads_with_the_definition_is_not_part_of_the_term() -> None:
    found = entries()

    assert found["brovin"].startswith("peptide hormone secreted by")


def test_a_one_word_definition_on_its_own_line_does_not_swallow_the_next_entry() -> None:
    found = entries()

    assert found["capillary"] == (
        "smallest of blood vessels where exchange occurs between blood and cells"
    )
    assert found["vein"].startswith("vessel that returns blood")


SLIDE = """Heart rate
• Tachycardia – heart rate above 100 beats per minute
• Bradycardia: heart rate below 60 beats per minute
• stroke volume (SV) - the volume of blood ejected by a ventricle in one beat
• Note: see figure
• The normal rate is: between 60 and 100 beats per minute
• Table 3: resting heart rates of athletes and others
• self-regulation of the heart by its own stretch"""


def test_term_meaning_lines_of_a_list_are_read_by_their_shape() -> None:
    found = {e.term: e.definition for e in listed_pairs(SLIDE)}
    # A short term, a dash or colon, a meaning; not a label ("Note"), a clause with a verb,
    # a numbered label, a hyphenated word, or a remark with a meaning of too few words.
    assert found == {
        "Tachycardia": "heart rate above 100 beats per minute",
        "Bradycardia": "heart rate below 60 beats per minute",
        "stroke volume (SV)": "the volume of blood ejected by a ventricle in one beat",
    }


def test_a_single_term_meaning_line_is_a_label_not_a_glossary() -> None:
    assert listed_pairs("Summary\nTachycardia – heart rate above 100 beats per minute") == []


def test_a_vein_whose_definition_opens_with_a_frequent_verb_keeps_its_whole_name() -> None:
    # "vein drains" is common in the body, which alone would read "deep tarsal" as the
    # term and run the vein's entry into the artery's; the alphabetical order of the
    # glossary (after "deep tarsal artery") says the term is "deep tarsal vein".
    body = [
        "The deep tarsal artery and the deep tarsal vein run along the foot. The deep "
        "tarsal artery branches from the dorsal artery. The saphenous vein drains the "
        "skin, the fibular vein drains the calf, and the plantar vein drains the arch; "
        "each vein drains toward the heart."
    ]
    glossary = (
        "deep tarsal artery branch of the dorsal artery that supplies the bones of the "
        "foot; gives rise to the plantar arteries\n"
        "deep tarsal vein drains the deep portions of the foot and leads to the fibular "
        "vein\n"
        "fibular vein drains the calf and leads to the popliteal vein"
    )
    found = {e.term: e.definition for e in parse_glossary(glossary, PhraseCounts(body))}

    assert found["deep tarsal artery"].endswith("gives rise to the plantar arteries")
    assert found["deep tarsal vein"].startswith("drains the deep portions of the foot")


def test_a_note_left_at_a_definition_s_start_is_not_part_of_the_definition() -> None:
    body = ["A late reaction comes days after contact. Every late reaction is a T cell one."]
    glossary = (
        "late reaction (type IV) T cell response against antigens in the skin that peaks "
        "after two days\n"
        "vein vessel that returns blood to the heart from the tissues of the body"
    )
    found = {e.term: e.definition for e in parse_glossary(glossary, PhraseCounts(body))}

    assert found["late reaction"].startswith("T cell response against antigens")


def test_a_capital_numeral_ending_a_name_stays_with_the_term() -> None:
    body = [
        "Renin turns the precursor into tensin I, and a lung enzyme turns tensin I into "
        "tensin II, which narrows the vessels. Tensin II also releases a hormone."
    ]
    glossary = (
        "tensin I protein produced by the action of renin on the precursor\n"
        "tensin II protein produced by the action of a lung enzyme on tensin I\n"
        "vein vessel that returns blood to the heart from the tissues of the body"
    )
    found = {e.term: e.definition for e in parse_glossary(glossary, PhraseCounts(body))}

    assert found["tensin I"].startswith("protein produced by the action of renin")
    assert found["tensin II"].startswith("protein produced by the action of a lung")


def test_an_everyday_word_the_text_only_writes_before_a_noun_ends_no_definition() -> None:
    # "rapid filtration" inside a line reads like a definition's end and a new entry; the
    # body writes "rapid" only before a noun, so "filtration" is no entry of its own.
    body = [
        "Filtration moves water across the wall. Rapid flow needs pores, and rapid "
        "exchange needs a thin wall. Filtration is passive. Fenestrations are pores.",
        "The windows let substances cross without mixing with the cell's contents. The "
        "filtration slits between podocytes hold back proteins.",
    ]
    glossary = (
        "fenestrations small windows through a cell, allowing rapid filtration based on size; "
        "formed so that substances cross without mixing with the cell's contents\n"
        "filtration slits gaps between the feet of podocytes that filter the blood by size"
    )
    found = {e.term: e.definition for e in parse_glossary(glossary, PhraseCounts(body))}
    assert "filtration" not in found
    assert found["fenestrations"].startswith("small windows through a cell, allowing rapid filt")
    assert found["filtration slits"].startswith("gaps between the feet")
