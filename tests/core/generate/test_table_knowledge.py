"""What a drug chapter says of most drugs only in a table row: the row tells what kind of
thing each entry is (its column's header) and gives the line that explains it as a
distractor; and distractors come from the key's own section, the siblings a student mixes
up. The chapter below is written for these tests, not taken from the shared PDFs."""

from __future__ import annotations

from typing import Any

from core.generate.facts import WHICH, Material, SourceChunk, read_material
from core.generate.offline import OfflineRequest, offline_items
from storage.enums import ChunkKind
from tests.core.generate.test_named_kinds import vectors_of

ANTIVIRAL = "Antimicrobial Drugs › Antiviral Drugs"
ANTIFUNGAL = "Antimicrobial Drugs › Antifungal Drugs"
ANTIVIRAL_PROSE = (
    "Amantadine is a synthetic antiviral that keeps influenza particles from shedding their "
    "coats in infected cells. Acyclovir and ganciclovir are taken up where herpesviruses "
    "multiply, and a viral kinase activates them. Foscarnet is kept for strains that "
    "resist acyclovir. Tenofovir is part of most regimens against HIV, and ribavirin is "
    "given by inhalation to infants with respiratory syncytial virus; amantadine is taken "
    "by mouth."
)


def drug_table(rows: list[tuple[str, str, str]]) -> str:
    return "\n".join(
        f"Drug: {drug}; Mechanism of Action: {mechanism}; Clinical Uses: {use}"
        for drug, mechanism, use in rows
    )


ANTIVIRAL_TABLE = drug_table(
    [
        ("Acyclovir", "Nucleoside analog that ends viral DNA chains", "Herpes simplex"),
        ("Ganciclovir", "Nucleoside analog activated by a viral kinase", "Cytomegalovirus"),
        ("Foscarnet", "Blocks the pyrophosphate site of viral DNA polymerase", "Resistant herpes"),
        ("Tenofovir", "Inhibits reverse transcriptase of retroviruses", "HIV infection"),
        ("Ribavirin", "Guanosine analog that causes lethal viral mutations", "Not applicable"),
    ]
)
ANTIFUNGAL_PROSE = (
    "Fungal cells resemble ours, so few targets are safe. Nystatin and amphotericin bind "
    "ergosterol in the fungal membrane. Fluconazole and voriconazole stop ergosterol from "
    "being made. Caspofungin attacks the fungal cell wall, and terbinafine is rubbed on "
    "skin infections of the feet."
)
ANTIFUNGAL_TABLE = drug_table(
    [
        ("Nystatin", "Binds ergosterol and opens pores in the membrane", "Oral thrush"),
        ("Amphotericin", "Binds ergosterol and opens pores in the membrane", "Systemic mycoses"),
        ("Fluconazole", "Inhibits an enzyme of ergosterol synthesis", "Cryptococcal meningitis"),
        ("Voriconazole", "Inhibits an enzyme of ergosterol synthesis", "Invasive aspergillosis"),
        ("Caspofungin", "Blocks glucan synthesis in the cell wall", "Candida in the blood"),
        ("Terbinafine", "Inhibits squalene epoxidase", "Athlete's foot and nail infections"),
    ]
)


def chapter() -> Material:
    return read_material(
        [
            SourceChunk(1, 1, 0, ChunkKind.BODY, ANTIVIRAL_PROSE, 1, 1, ANTIVIRAL),
            SourceChunk(2, 1, 1, ChunkKind.BODY, f"Table 1\n{ANTIVIRAL_TABLE}", 2, 2, ANTIVIRAL),
            SourceChunk(3, 1, 2, ChunkKind.BODY, ANTIFUNGAL_PROSE, 3, 3, ANTIFUNGAL),
            SourceChunk(4, 1, 3, ChunkKind.BODY, f"Table 2\n{ANTIFUNGAL_TABLE}", 4, 4, ANTIFUNGAL),
        ]
    )


def index_of(material: Material, name: str) -> int:
    return next(i for i, t in enumerate(material.bank.terms) if t.text.lower() == name)


def test_a_drug_named_only_in_a_table_is_a_drug_explained_by_its_row() -> None:
    material = chapter()
    for name in ("ganciclovir", "tenofovir", "voriconazole"):
        assert material.lexicon.stated(name).family == "drug", name
    note = material.notes[index_of(material, "ganciclovir")]
    assert note.sentence == (
        'the table lists it with mechanism of action "Nucleoside analog activated by a viral '
        'kinase"; clinical uses "Cytomegalovirus"'
    )
    assert note.pages == (2,) and note.heading == ANTIVIRAL
    # A cell that holds no value is not quoted as if it said something.
    assert "Not applicable" not in material.notes[index_of(material, "ribavirin")].sentence


async def test_an_antiviral_is_asked_among_antivirals_of_its_section(embedder: Any) -> None:
    material = chapter()
    vectors = await vectors_of(material, embedder)
    antivirals = {"acyclovir", "ganciclovir", "foscarnet", "tenofovir", "ribavirin"}
    asked = []
    for seed in range(6):
        for item in offline_items(material, vectors, OfflineRequest(seed=seed)):
            if item.kind == WHICH and item.options[item.correct_index] == "amantadine":
                asked.append(item)
    assert asked, "no item on amantadine's statement"
    for item in asked:
        distractors = [o for o in item.options if o != "amantadine"]
        # "Which of the following is a synthetic antiviral ...": an antifungal among the
        # options is ruled out by the stem's own word.
        assert set(distractors) <= antivirals, item.options
        assert 'the table lists it with mechanism of action "' in item.explanation
