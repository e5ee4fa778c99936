"""An organ's regions are one kind whichever noun a glossary uses ("outer part", "inner
region", "recessed medial area"), and a bare class word ("sphincter") is no distractor for
one of its members: what defines the class is true of the member too. The glossary is
written for these tests, not taken from the shared PDFs."""

from __future__ import annotations

from typing import Any

from core.generate.facts import DEFINITION, TERM, Material, SourceChunk, read_material
from core.generate.kinds import kind_from_definition, same_kind
from core.generate.offline import OfflineRequest, offline_items
from storage.enums import ChunkKind
from tests.core.generate.test_named_kinds import vectors_of

GLOSSARY = (
    "cortex outer zone holding the secreting follicles under the capsule\n"
    "duct tube that carries the secretion from the gland to the skin\n"
    "hilum recessed medial area where the vessels and the duct enter the gland\n"
    "internal gland sphincter smooth muscle ring at the juncture of the duct and the gland\n"
    "lobule small subdivision of the gland drained by one branch of the duct\n"
    "medulla inner region holding the collecting channels of the gland\n"
    "sinus thin part beside the capsule where the secretion gathers before it leaves\n"
    "sphincter muscle ring around the opening of a hollow organ that closes it when it "
    "contracts\n"
)
BODY = (
    "The cortex surrounds the medulla. Secretion gathers in the sinus and leaves through the "
    "duct at the hilum. The internal gland sphincter keeps the duct closed between meals. "
    "Each lobule drains into one branch of the duct."
)


def gland() -> Material:
    return read_material(
        [
            SourceChunk(1, 1, 0, ChunkKind.BODY, BODY, 1, 1, "The Gland"),
            SourceChunk(2, 1, 1, ChunkKind.KEY_TERMS, GLOSSARY, 2, 2, "Key Terms"),
        ]
    )


async def items_on_the_gland(embedder: Any) -> list[Any]:
    material = gland()
    vectors = await vectors_of(material, embedder)
    items = []
    for seed in range(6):
        items.extend(offline_items(material, vectors, OfflineRequest(seed=seed)))
    return items


def test_part_region_area_and_zone_of_an_organ_are_one_kind() -> None:
    outer = kind_from_definition("outer zone holding the secreting follicles")
    for other in (
        "inner region holding the collecting channels of the gland",
        "recessed medial area where the vessels enter the gland",
        "thin part beside the capsule where the secretion gathers",
    ):
        assert same_kind(outer, kind_from_definition(other), by_group=True), other
    tube = kind_from_definition("tube that carries the secretion away")
    assert not same_kind(outer, tube, by_group=True)


async def test_a_region_is_asked_among_regions(embedder: Any) -> None:
    items = await items_on_the_gland(embedder)
    regions = {"cortex", "medulla", "hilum", "sinus"}
    on_regions = [
        item for item in items if item.kind == TERM and item.options[item.correct_index] in regions
    ]
    assert on_regions, [(i.stem, i.options) for i in items]
    for item in on_regions:
        assert set(item.options) <= regions, (item.stem, item.options)


async def test_the_class_word_is_never_an_option_beside_its_member(embedder: Any) -> None:
    items = await items_on_the_gland(embedder)
    assert items
    for item in items:
        key = item.options[item.correct_index]
        subject = item.stem.split('"')[1] if item.kind == DEFINITION else key
        if subject == "internal gland sphincter":
            definitions = [o for o in item.options if o.startswith("muscle ring around")]
            assert not definitions and "sphincter" not in item.options, item.options
        if subject == "sphincter":
            assert "internal gland sphincter" not in item.options, item.options
            assert not any(o.startswith("smooth muscle ring") for o in item.options)
