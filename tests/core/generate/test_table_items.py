"""Items from table rows: the options are one column's entries, the stem describes the
key's row by its other cells, and no distractor's row fits that description."""

from __future__ import annotations

import re
from pathlib import Path

from core.generate.facts import SourceChunk
from core.generate.glossary import listed_pairs
from core.generate.table_items import table_items
from core.generate.tables import entries
from storage.enums import ChunkKind
from tests.core.generate.conftest import Library
from tests.core.generate.test_offline_generation import run_and_read
from tests.core.readers.test_pdf_tables import pages_of

# Written for these tests: a table the way core.readers.tables writes one, row by row.
HORMONES = [
    (
        "Insulin",
        "Beta cells of the pancreatic islets",
        "Lowers blood glucose by moving it into cells",
    ),
    (
        "Glucagon",
        "Alpha cells of the pancreatic islets",
        "Raises blood glucose by breaking down glycogen",
    ),
    (
        "Thyroxine",
        "Follicular cells of the thyroid gland",
        "Raises the basal metabolic rate of most cells",
    ),
    (
        "Aldosterone",
        "Zona glomerulosa of the adrenal cortex",
        "Increases sodium reabsorption in the distal tubule",
    ),
    (
        "Antidiuretic hormone",
        "Neurons of the hypothalamus",
        "Increases water reabsorption in the collecting ducts",
    ),
    (
        "Erythropoietin",
        "Interstitial cells of the kidney",
        "Stimulates erythrocyte production in the bone marrow",
    ),
]
PROSE = (
    "Hormones travel in the blood to distant targets. Insulin and glucagon act in opposite "
    "directions on the level of glucose. Thyroxine sets the pace of metabolism. Aldosterone "
    "and antidiuretic hormone both act on the kidney, and erythropoietin is made there."
)


def row_line(hormone: str, source: str, effect: str, *, effect_first: bool = False) -> str:
    if effect_first:
        return f"Hormone: {hormone}; Main Effect: {effect}; Source: {source}"
    return f"Hormone: {hormone}; Source: {source}; Main Effect: {effect}"


def chunks(
    rows: list[tuple[str, str, str]], prose: str = PROSE, *, effect_first: bool = False
) -> list[SourceChunk]:
    table = "\n".join(row_line(*row, effect_first=effect_first) for row in rows)
    return [
        SourceChunk(1, 1, 0, ChunkKind.BODY, prose, 3, 3, "Endocrine System › Hormones"),
        SourceChunk(
            2, 1, 1, ChunkKind.BODY, f"Table 2.1\n{table}", 4, 4, "Endocrine System › Hormones"
        ),
    ]


def test_an_item_describes_its_row_and_offers_other_rows_entries() -> None:
    items = list(table_items(chunks(HORMONES), seed=1, difficulty=3))
    assert len(items) >= 4
    names = {row[0] for row in HORMONES}
    for item in items:
        row = next(r for r in HORMONES if r[0] == item.key)
        assert set(item.options) <= names and len(set(item.options)) == 4
        # A question that says what it asks for and quotes the row's own words.
        assert item.stem.startswith("Which of the following hormones has the ")
        assert item.stem.endswith('"?')
        described = item.stem.split(" has ", 1)[1]
        assert row[1].lower() in described or row[2].lower() in described
        for option in item.options:
            if option != item.key:
                other = next(r for r in HORMONES if r[0] == option)
                assert other[1].lower() not in described
                assert other[2].lower() not in described
        assert item.source_pages == (4,)
        assert item.support == row_line(*row)
        assert f'"{item.key}"' in item.explanation


def test_a_description_sharing_the_key_s_root_is_not_used() -> None:
    # The effect comes first and would be the description, but "erythrocyte" spells
    # "Erythropoietin": the row is described by its source instead.
    items = list(table_items(chunks(HORMONES, effect_first=True), seed=1, difficulty=3))
    (item,) = [item for item in items if item.key == "Erythropoietin"]
    assert "erythrocyte" not in item.stem
    assert 'has the source "interstitial cells of the kidney"?' in item.stem
    others = [item for item in items if item.key != "Erythropoietin"]
    assert others and all(" has the main effect " in item.stem for item in others)


def test_a_heading_that_names_the_entries_says_what_the_table_is_about() -> None:
    about = [
        SourceChunk(c.id, 1, c.ordinal, c.kind, c.text, 4, 4, "Glands › Hormones Acting on Kidney")
        for c in chunks(HORMONES)
    ]
    items = list(table_items(about, seed=1, difficulty=3))
    assert items and all(
        i.stem.startswith("Which of the following hormones acting on kidney has ") for i in items
    )


def test_a_column_the_text_never_discusses_gives_no_options() -> None:
    # Without prose naming the hormones, the column could be any values at all.
    unrelated = "The weather was fine. Nothing here names what the table lists at all."
    assert list(table_items(chunks(HORMONES, prose=unrelated), seed=1, difficulty=3)) == []


def test_too_few_rows_for_three_distractors_give_no_item() -> None:
    assert list(table_items(chunks(HORMONES[:3]), seed=1, difficulty=3)) == []


async def test_a_drug_chapter_s_tables_become_questions_about_its_drugs(
    library: Library, shared_data: Path, tmp_path: Path
) -> None:
    # The pages of OpenStax Microbiology ch. 14 on cell-wall and protein-synthesis
    # inhibitors: most of what they teach about each drug is in Tables 14.2 and 14.3.
    pdf = tmp_path / "inhibitors.pdf"
    pdf.write_bytes(
        pages_of(shared_data / "micro_ch14_antimicrobial_drugs.pdf", list(range(11, 19)))
    )
    await library.add(pdf)
    questions = await run_and_read(library, 10, seed=5)
    from_tables = [q for q in questions if q.flags[0] == "table"]
    assert len(from_tables) >= 3
    for question in from_tables:
        asked = re.match(r'^Which of the following ([\w -]+?) has the ([\w -]+) "', question.stem)
        assert asked is not None, question.stem
        assert "drug" in asked[1]


def test_a_row_saying_part_of_the_keys_description_is_no_distractor() -> None:
    # "Raises blood glucose" fits the description "raises blood glucose by breaking down
    # glycogen" too: the row that says only that never stands beside glucagon.
    rows = [
        *HORMONES,
        ("Cortisol", "Zona fasciculata of the adrenal cortex", "Raises blood glucose"),
    ]
    prose = PROSE + " Cortisol rises with stress."
    for seed in range(6):
        for item in table_items(chunks(rows, prose, effect_first=True), seed=seed, difficulty=3):
            if "breaking down glycogen" in item.stem:
                assert "Cortisol" not in item.options, item.options


def test_an_abbreviated_column_and_numbered_entries_ask_nothing() -> None:
    # "has the PCT ..." reads as nonsense; options "IX", "X" say nothing.
    abbreviated = [
        SourceChunk(c.id, 1, c.ordinal, c.kind, c.text.replace("Main Effect:", "PCT:"), 4, 4, "")
        for c in chunks(HORMONES)
    ]
    assert list(table_items(abbreviated, seed=1, difficulty=3)) == []
    assert list(table_items(chunks(HORMONES), seed=1, difficulty=3)), "the same table, in words"
    numerals = ["I", "II", "V", "IX", "X", "XII"]
    numbered = [(n, *row[1:]) for n, row in zip(numerals, HORMONES, strict=True)]
    prose = "Factors " + ", ".join(numerals) + " act in turn."
    assert list(table_items(chunks(numbered, prose), seed=1, difficulty=3)) == []


def test_an_artery_is_asked_among_arteries_not_veins_its_name_rules_out() -> None:
    vessels = [
        ("Radial artery", "Runs along the lateral forearm", "Supplies the thumb side of the hand"),
        ("Ulnar artery", "Runs along the medial forearm", "Supplies the little finger side"),
        ("Brachial artery", "Runs down the front of the arm", "Supplies the elbow and forearm"),
        ("Axillary artery", "Crosses the armpit", "Supplies the shoulder and chest wall"),
        ("Cephalic vein", "Runs up the lateral forearm", "Drains the thumb side of the hand"),
        ("Basilic vein", "Runs up the medial forearm", "Drains the little finger side"),
        (
            "Median cubital vein",
            "Crosses the front of the elbow",
            "Joins the two superficial veins",
        ),
    ]
    prose = "The radial artery, ulnar artery, brachial artery and axillary artery carry blood "
    prose += "out; the cephalic vein, basilic vein and median cubital vein bring it back."
    items = list(table_items(chunks(vessels, prose), seed=2, difficulty=3))
    assert items
    for item in items:
        kinds = {option.split()[-1] for option in item.options}
        assert len(kinds) == 1, item.options


def test_a_table_row_is_no_term_and_meaning_bullet() -> None:
    # Each row opens with "Hormone: ...", the shape of a "Term: meaning" bullet; the header
    # is no term, and the rest of the row no definition.
    rows = "\n".join(row_line(*row) for row in HORMONES)
    assert listed_pairs(rows) == []
    bullets = "\n".join(f"{row[0]}: {row[2]}" for row in HORMONES)
    assert {entry.term for entry in listed_pairs(bullets)} == {row[0] for row in HORMONES}


def test_a_plural_header_is_said_of_the_one_row_the_item_describes() -> None:
    plural = [
        SourceChunk(
            c.id, 1, c.ordinal, c.kind, c.text.replace("Main Effect:", "Effects:"), 4, 4, ""
        )
        for c in chunks(HORMONES, effect_first=True)
    ]
    items = list(table_items(plural, seed=1, difficulty=3))
    described = [item.stem for item in items if " effect" in item.stem]
    assert described and all(' has the effect "' in stem for stem in described), described


def test_two_rows_of_one_thing_never_stand_side_by_side() -> None:
    # "Erythropoietin (recombinant)" is erythropoietin again: offered beside it, both fit.
    rows = [
        *HORMONES,
        (
            "Erythropoietin (recombinant)",
            "Cultured hamster ovary cells",
            "Treats the anemia of kidney failure",
        ),
        ("Insulin and amylin", "Beta cells, released together", "Slow the emptying of the gut"),
    ]
    prose = PROSE + " Recombinant erythropoietin treats anemia; amylin slows the gut."
    seen = 0
    for seed in range(8):
        for item in table_items(chunks(rows, prose), seed=seed, difficulty=3):
            bare = {re.sub(r"\s*\(.*\)", "", option) for option in item.options}
            assert len(bare) == len(item.options), item.options
            key = item.options[item.correct_index]
            if key == "Insulin":
                seen += 1
                assert "Insulin and amylin" not in item.options, item.options
    assert seen


def test_the_last_name_of_a_listed_cell_loses_its_and() -> None:
    assert entries("Gastrin, secretin, and cholecystokinin") == [
        "Gastrin",
        "secretin",
        "cholecystokinin",
    ]


def test_a_cell_that_says_too_little_to_single_out_its_row_is_not_asked() -> None:
    vague = [*HORMONES[:5], ("Erythropoietin", "Kidney", "Role in blood")]
    items = list(table_items(chunks(vague), seed=1, difficulty=3))
    assert items
    assert not any("role in blood" in item.stem.lower() for item in items)


def test_table_distractors_share_the_keys_head_noun_when_there_are_enough() -> None:
    vessels = [
        ("Intercostal artery", "Thoracic aorta", "Supplies the muscles of the chest wall"),
        ("Bronchial artery", "Thoracic aorta", "Supplies oxygenated blood to the lungs"),
        ("Esophageal artery", "Thoracic aorta", "Supplies the esophagus along its length"),
        ("Phrenic artery", "Thoracic aorta", "Supplies the diaphragm from above it"),
        ("Inferior vena cava", "Right atrium", "Returns blood from the lower body"),
        ("Superior sagittal sinus", "Internal jugular vein", "Drains blood from the brain"),
    ]
    table = "\n".join(
        f"Vessel: {name}; Origin: {origin}; Description: {text}" for name, origin, text in vessels
    )
    source = [
        SourceChunk(1, 1, 0, ChunkKind.BODY, "The intercostal artery, bronchial artery, "
                    "esophageal artery and phrenic artery leave the thoracic aorta. The inferior "
                    "vena cava and the superior sagittal sinus return blood.", 3, 3,
                    "Vessels › Branches"),
        SourceChunk(2, 1, 1, ChunkKind.BODY, f"Table 3.1\n{table}", 4, 4, "Vessels › Branches"),
    ]  # fmt: skip
    items = [i for i in table_items(source, seed=2, difficulty=3) if i.key.endswith("artery")]
    assert items
    for item in items:
        assert all(option.endswith("artery") for option in item.options), item.options
