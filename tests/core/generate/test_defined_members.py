"""A glossary that calls one term a kind of another ("B cells: lymphocytes that ...") makes
the two one answer: offered together, the group is right wherever its member is. The
chapter is written for these tests, not taken from the shared PDFs."""

from __future__ import annotations

from typing import Any

from core.generate.facts import DEFINITION
from core.generate.offline import OfflineRequest, offline_items
from tests.core.generate.test_named_kinds import chapter_of, vectors_of

GLOSSARY = (
    "basophils leukocytes with granules that release histamine in allergic reactions\n"
    "B cells lymphocytes that mature in the marrow and become antibody-secreting cells\n"
    "eosinophils leukocytes with granules that attack parasitic worms\n"
    "lymphocytes leukocytes with a large round nucleus and a thin rim of cytoplasm\n"
    "monocytes leukocytes with a kidney-shaped nucleus that become macrophages\n"
    "neutrophils leukocytes with a lobed nucleus that engulf bacteria first\n"
    "NK cells lymphocytes that kill infected cells without prior sensitisation\n"
    "T cells lymphocytes that mature in the thymus and direct or kill other cells\n"
)
BODY = (
    "Neutrophils arrive first at an infection. Eosinophils fight worms, basophils release "
    "histamine, and monocytes leave the blood to become macrophages. Among lymphocytes, "
    "B cells make antibodies. T cells mature in the thymus. NK cells kill without priming."
)
MEMBERS = {"B cells", "NK cells", "T cells"}


async def test_a_group_is_never_offered_beside_a_member_the_glossary_puts_in_it(
    embedder: Any,
) -> None:
    material = chapter_of(BODY, GLOSSARY, "White Blood Cells")
    names = ("basophils", "B cells", "eosinophils", "lymphocytes", "monocytes", "neutrophils",
             "NK cells", "T cells")  # fmt: skip
    named = {
        line[len(name) + 1 :]: name
        for line in GLOSSARY.splitlines()
        for name in names
        if line.startswith(f"{name} ")
    }
    vectors = await vectors_of(material, embedder)
    checked = 0
    for seed in range(4):
        for item in offline_items(material, vectors, OfflineRequest(seed=seed)):
            offered = (
                {named[o] for o in item.options} if item.kind == DEFINITION else set(item.options)
            )
            if offered & MEMBERS:
                checked += 1
                assert "lymphocytes" not in offered, (item.stem, item.options)
    assert checked >= 2


CLOTTING = (
    "anticoagulant substance such as heparin that opposes coagulation\n"
    "fibrinogen plasma protein made by the liver that becomes the fibrin mesh of a clot\n"
    "plasmin enzyme that breaks down the fibrin of a clot\n"
    "prothrombin plasma protein made by the liver that becomes thrombin\n"
    "thrombin enzyme that turns fibrinogen into fibrin\n"
    "tissue factor protein released by damaged tissue that starts the extrinsic pathway\n"
    "transferrin plasma protein that carries iron in the blood\n"
)
CLOTTING_BODY = (
    "Thrombin turns fibrinogen into fibrin, and plasmin later breaks the clot down. The liver "
    "makes prothrombin and fibrinogen. Heparin, an anticoagulant, opposes coagulation. "
    "Transferrin carries iron, and tissue factor starts the extrinsic pathway."
)


async def test_a_class_defined_by_its_examples_is_no_distractor(embedder: Any) -> None:
    material = chapter_of(CLOTTING_BODY, CLOTTING, "Hemostasis")
    vectors = await vectors_of(material, embedder)
    anticoagulant = CLOTTING.splitlines()[0].removeprefix("anticoagulant ")
    offered = 0
    for seed in range(4):
        for item in offline_items(material, vectors, OfflineRequest(seed=seed)):
            key = item.options[item.correct_index]
            offered += 1
            if key not in ("anticoagulant", anticoagulant):
                assert "anticoagulant" not in item.options, (item.stem, item.options)
                assert anticoagulant not in item.options, (item.stem, item.options)
    assert offered >= 4
