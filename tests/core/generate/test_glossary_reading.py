"""Key-terms lists read out of plain PDF text (a glossary and body written for these tests)."""

from __future__ import annotations

from core.generate.glossary import PhraseCounts, parse_glossary

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
