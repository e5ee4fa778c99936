"""A name that says its kind ("cephalic vein") is read by the student: the options of its
items are things of that kind, never an artery's definition to define a vein. The glossary
(vessels and muscles of the forearm) is written for these tests, not from the shared PDFs."""

from __future__ import annotations

from typing import Any

from core.generate.facts import DEFINITION, TERM, Material, SourceChunk, read_material
from core.generate.flaws import asked_category
from core.generate.kinds import exclusive_kinds, kind_named, name_head
from core.generate.offline import OfflineRequest, TermVectors, offline_items
from storage.enums import ChunkKind

# Sorted as a book's key-terms list is.
GLOSSARY = (
    "basilic vein superficial vessel that drains the medial forearm and hand and joins the "
    "brachial veins in the arm\n"
    "brachial artery continuation of the axillary artery that supplies the arm and divides "
    "at the elbow\n"
    "cephalic vein superficial vessel that drains the lateral forearm and hand and empties "
    "into the axillary vein\n"
    "common interosseous artery short branch of the ulnar artery that divides between the "
    "forearm bones into two deep arteries\n"
    "median antebrachial vein superficial vessel that drains the palm and runs up the middle "
    "of the forearm to the elbow\n"
    "median cubital vein superficial vessel at the front of the elbow that connects the "
    "cephalic and basilic veins, often used to draw blood\n"
    "median nerve nerve that passes through the carpal tunnel and supplies most forearm "
    "flexors\n"
    "palmar venous arch network of small vessels in the palm that drains into the forearm "
    "veins\n"
    "pronator teres muscle muscle of the forearm that turns the palm down and flexes the "
    "elbow\n"
    "radial artery branch of the brachial artery that runs along the lateral forearm to the "
    "wrist, where its pulse is felt\n"
    "ulnar artery branch of the brachial artery that runs along the medial forearm and forms "
    "the superficial palmar arch"
)
BODY = (
    "The radial artery and the ulnar artery carry blood down the forearm. The cephalic vein "
    "and the basilic vein return it. Nurses draw blood from the median cubital vein. The "
    "brachial artery divides at the elbow. The median antebrachial vein runs up the middle "
    "of the forearm. The common interosseous artery lies deep. The palmar venous arch drains "
    "the palm. The pronator teres muscle turns the palm down. The median nerve passes "
    "through the carpal tunnel."
)


def chapter_of(body: str, glossary: str, heading: str) -> Material:
    """A written-for-the-test chapter: one page of body text under a heading, and its glossary."""
    return read_material(
        [
            SourceChunk(1, 1, 0, ChunkKind.BODY, body, 1, 1, heading),
            SourceChunk(2, 1, 1, ChunkKind.KEY_TERMS, glossary, 2, 2, "Key Terms"),
        ]
    )


def forearm() -> Material:
    return chapter_of(BODY, GLOSSARY, "Forearm")


async def vectors_of(material: Material, embedder: Any) -> TermVectors:
    names, full = zip(*(t.embedding_texts() for t in material.bank.terms), strict=True)
    return TermVectors(await embedder.embed(list(names)), await embedder.embed(list(full)))


def test_exclusive_kinds_are_told_from_shapes_that_may_be_either() -> None:
    assert exclusive_kinds("vein", "arteries") and exclusive_kinds("nerve", "muscle")
    # A trunk may be an artery, a ridge may be muscle: no contradiction by name.
    assert not exclusive_kinds("artery", "trunk") and not exclusive_kinds("muscle", "ridge")
    assert kind_named("median cubital vein") == "vein" and kind_named("palmar arch") == ""


async def test_items_on_a_named_vessel_offer_only_vessels_of_its_kind(embedder: Any) -> None:
    material = forearm()
    vectors = await vectors_of(material, embedder)
    items = []
    for seed in range(4):
        items.extend(offline_items(material, vectors, OfflineRequest(seed=seed)))
    named_items = [
        item
        for item in items
        if item.kind in (TERM, DEFINITION)
        and kind_named(item.options[0] if item.kind == TERM else item.stem.split('"')[1])
    ]
    assert any(item.kind == DEFINITION for item in named_items), [i.stem for i in items]
    for item in named_items:
        key = item.options[item.correct_index]
        if item.kind == DEFINITION:
            named = kind_named(item.stem.split('"')[1])
            kinds = [asked_category(option) for option in item.options]
        else:
            named = kind_named(key)
            kinds = [name_head(option) for option in item.options]
        clash = [o for o, k in zip(item.options, kinds, strict=True) if exclusive_kinds(named, k)]
        assert not clash, (item.stem, item.options)


async def test_siblings_defined_alike_are_the_options_of_each_others_definition_items(
    embedder: Any,
) -> None:
    # The superficial veins are all "superficial vessel that drains ...": told apart by
    # where they drain, which is the knowledge the item asks for.
    material = forearm()
    vectors = await vectors_of(material, embedder)
    items = list(offline_items(material, vectors, OfflineRequest(seed=0)))
    on_veins = [i for i in items if i.kind == DEFINITION and i.stem.endswith('vein"?')]
    assert on_veins, [i.stem for i in items]
    for item in on_veins:
        siblings = [o for o in item.options if o.startswith("superficial vessel that")]
        assert len(siblings) >= 3, item.options


def test_a_stem_keeps_the_clause_that_tells_sibling_branches_apart() -> None:
    # "the branch of the internal carotid artery" alone fits every branch it gives off.
    from core.generate.offline import _stem_definition

    told = _stem_definition("branch of the internal carotid artery; supplies blood to the eyes")
    assert told == "branch of the internal carotid artery; supplies blood to the eyes"
    # A first clause that says what sets the term apart stands alone.
    alone = _stem_definition("large vein that drains the head and neck; empties into the heart")
    assert alone == "large vein that drains the head and neck"
