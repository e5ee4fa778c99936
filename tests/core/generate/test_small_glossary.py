"""A short physiology chapter: its glossary names one enzyme, one pigment, one hormone, so
no term has a sibling of its exact group. The student still gets an item on each, with
options of the key's family (substances with substances), never a structure among them;
and a definition that opens with its verb is asked as a question, not pasted after "is
the". The chapter is written for these tests, not taken from the shared PDFs."""

from __future__ import annotations

from typing import Any

from core.generate.facts import DEFINITION, TERM, Material
from core.generate.offline import OfflineRequest, offline_items
from tests.core.generate.test_named_kinds import chapter_of, vectors_of

GLOSSARY = (
    "calcitonin hormone released by the thyroid that lowers the calcium of the blood\n"
    "collecting chamber hollow space of the gland where the secretion gathers\n"
    "ferrochrome pigment that tints the secretion brown\n"
    "lysinase enzyme made by the lining that splits the secretion's proteins\n"
    "mucopolyose polysaccharide that makes the secretion thick\n"
    "outer lobe part of the gland that makes most of the secretion\n"
    "secretory organ consists of the chamber, the lobes and the duct that drains them\n"
    "septal wall partition between the chamber and the outer lobe\n"
    "tensinogen protein of the blood made by the liver and cut by an enzyme\n"
)
BODY = (
    "The secretory organ holds the collecting chamber and the outer lobe, split by the septal "
    "wall. Lysinase splits proteins, ferrochrome colors the secretion, and mucopolyose "
    "thickens it. Calcitonin lowers blood calcium, while tensinogen circulates unused "
    "until an enzyme cuts it."
)
SUBSTANCES = {"calcitonin", "ferrochrome", "lysinase", "mucopolyose", "tensinogen"}
STRUCTURES = {"collecting chamber", "outer lobe", "secretory organ", "septal wall"}


def chapter() -> Material:
    return chapter_of(BODY, GLOSSARY, "The Gland")


async def test_each_one_of_a_kind_substance_is_asked_among_substances(embedder: Any) -> None:
    material = chapter()
    vectors = await vectors_of(material, embedder)
    items = list(offline_items(material, vectors, OfflineRequest(seed=0)))
    substance_definitions = {
        line.split(" ", 1)[1] for line in GLOSSARY.splitlines() if line.split(" ")[0] in SUBSTANCES
    }
    asked = set()
    for item in items:
        if item.kind == TERM and item.options[item.correct_index] in SUBSTANCES:
            asked.add(item.options[item.correct_index])
            assert set(item.options) <= SUBSTANCES, (item.stem, item.options)
        if item.kind == DEFINITION and item.stem.split('"')[1] in SUBSTANCES:
            asked.add(item.stem.split('"')[1])
            assert set(item.options) <= substance_definitions, (item.stem, item.options)
    # Calcitonin is left out rightly: "calcium" in its definition spells it.
    assert len(asked) >= 4, [(i.stem, i.options) for i in items]


async def test_a_definition_opening_with_its_verb_is_asked_as_a_question(embedder: Any) -> None:
    material = chapter()
    vectors = await vectors_of(material, embedder)
    items = list(offline_items(material, vectors, OfflineRequest(seed=0)))
    on_body = [
        i for i in items if i.kind == TERM and i.options[i.correct_index] == "secretory organ"
    ]
    assert on_body, [(i.stem, i.options) for i in items]
    assert on_body[0].stem == (
        "Which of the following consists of the chamber, the lobes and the duct that drains them?"
    )
    assert set(on_body[0].options) <= STRUCTURES


ENZYMES_GLOSSARY = (
    "ferrochrome pigment that tints the secretion brown\n"
    "glandulin hormone released by the gland that slows the heart\n"
    "lysinase enzyme made by the lining that splits the secretion's proteins\n"
    "mucopolyose polysaccharide that makes the secretion thick\n"
    "peptonase enzyme of the duct that cuts short peptides into single amino acids\n"
    "sorbitose sugar alcohol that sweetens the secretion\n"
    "tensinogen protein of the blood made by the liver and cut by an enzyme\n"
)
ENZYMES_BODY = (
    "Lysinase splits proteins in the lining. In the duct, peptonase cuts peptides. "
    "Ferrochrome colors the secretion, sorbitose sweetens it and mucopolyose thickens it. "
    "Glandulin slows the heart, while tensinogen circulates unused until an enzyme cuts it."
)


async def test_an_enzyme_is_offered_the_other_enzyme_before_other_substances(
    embedder: Any,
) -> None:
    material = chapter_of(ENZYMES_BODY, ENZYMES_GLOSSARY, "The Secretion")
    vectors = await vectors_of(material, embedder)
    enzymes = {
        name: definition
        for name, definition in (line.split(" ", 1) for line in ENZYMES_GLOSSARY.splitlines())
        if definition.startswith("enzyme")
    }
    asked = 0
    for seed in range(4):
        for item in offline_items(material, vectors, OfflineRequest(seed=seed)):
            named = item.stem.split('"')[1] if item.kind == DEFINITION else ""
            key = named or item.options[item.correct_index]
            if key not in enzymes:
                continue
            asked += 1
            # Only two enzymes: the rest of the options are other substances, but the other
            # enzyme, the one a student could confuse, is always among them.
            other = next(name for name in enzymes if name != key)
            assert (enzymes[other] if named else other) in item.options, (seed, item.options)
    assert asked >= 2
