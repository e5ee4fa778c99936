"""The flaw detectors scored against a human grader (part of `make eval`).

Every item of ../shared/data/quality/ was graded by a person to NBME item-writing standards
and marked with rubric codes F1-F9. Each validation rule stands for one or more codes
(`validate.FLAW_CODES`); an item is predicted invalid when any rule fails. Reported: per
code precision and recall against the human marks, recall on the invalid items, the share
of human-valid items accepted (with and without the no-fill-in-the-blank policy), and every
item where the rules and the reader disagree, written to results/detector_disagreements.jsonl
for reading. The rules see what they would see in a run: the item and the material it came
from (its PDF, ingested through the real upload path).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

CODES = ("F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9")
GRADED_FILES = ("graded_items.jsonl", "graded_items_clinical.jsonl")


async def material_context(library: Any, material_id: int) -> Any:
    """The FlawContext a run on this material would validate with."""
    from core.generate.pipeline import SOURCE_KINDS, flaw_context_of, source_of
    from storage.enums import ChunkKind
    from storage.repos import runs as run_repo

    async with library.db.session() as session:
        rows = await run_repo.source_chunks(session, library.scope.id, material_ids=[material_id])
    chunks = [source_of(c) for c in rows if c.kind in SOURCE_KINDS]
    review = [c.text for c in rows if c.kind is ChunkKind.REVIEW_QUESTIONS]
    return flaw_context_of(chunks, review)


async def predicted_codes(
    item: dict[str, Any], context: Any, embedder: Any
) -> dict[str, list[str]]:
    """Code -> the rules that saw it, for one item of the graded set's shape."""
    from core.generate.schema import DraftItem
    from core.generate.validate import FLAW_CODES, SOURCE_RULES, ValidationContext, failed_rules

    options = tuple(item["options"])
    await context.lexicon.guess_unknown(options, embedder)
    draft = DraftItem(item["stem"], options, "ABCDE".index(item["answer"]))
    validation = ValidationContext(require_explanation=False, require_source=False, flaws=context)
    found: dict[str, list[str]] = {}
    for rule in failed_rules(draft, validation):
        if rule in SOURCE_RULES:
            continue
        for code in FLAW_CODES.get(rule, ("other",)):
            found.setdefault(code, []).append(rule)
    return found


async def judged_items(
    library: Any, materials: dict[str, int], items: list[dict[str, Any]]
) -> AsyncIterator[tuple[dict[str, Any], dict[str, list[str]]]]:
    """(item, code -> rules) for every item whose PDF is in the library, each judged in its
    own material's context (read once per PDF)."""
    contexts: dict[str, Any] = {}
    for item in items:
        pdf = item["pdf"]
        if pdf not in materials:
            continue
        if pdf not in contexts:
            contexts[pdf] = await material_context(library, materials[pdf])
        yield item, await predicted_codes(item, contexts[pdf], library.embedder)


def _ratio(hit: int, total: int) -> float | None:
    return round(hit / total, 3) if total else None


async def evaluate_detectors(
    library: Any, materials: dict[str, int], data: Path
) -> dict[str, Any]:
    """Scores every rule against the human grades of the shared quality set."""
    from core.generate.validate import POLICY_RULES

    items: list[dict[str, Any]] = []
    for name in GRADED_FILES:
        path = data / "quality" / name
        if path.exists():
            items += [json.loads(x) for x in path.read_text("utf-8").splitlines() if x.strip()]
    true_pos: Counter[str] = Counter()
    false_pos: Counter[str] = Counter()
    false_neg: Counter[str] = Counter()
    invalid = invalid_caught = valid = valid_kept = valid_kept_with_policy = 0
    disagreements = []
    async for item, found in judged_items(library, materials, items):
        pdf = item["pdf"]
        flaw_rules = {r for rules in found.values() for r in rules} - POLICY_RULES
        human = set(item["flaws"])
        for code in CODES:
            seen = code in found and bool(set(found[code]) - POLICY_RULES)
            true_pos[code] += seen and code in human
            false_pos[code] += seen and code not in human
            false_neg[code] += code in human and not seen
        if item["valid"]:
            valid += 1
            valid_kept += not flaw_rules
            valid_kept_with_policy += not found
        else:
            invalid += 1
            invalid_caught += bool(found)
        predicted = sorted(c for c, rules in found.items() if set(rules) - POLICY_RULES)
        if set(predicted) != human:
            disagreements.append(
                {
                    "pdf": pdf,
                    "stem": item["stem"],
                    "options": item["options"],
                    "answer": item["answer"],
                    "human": sorted(human),
                    "rules": predicted,
                    "rules_by_code": found,
                    "human_note": item["note"],
                }
            )
    per_code = {
        code: {
            "precision": _ratio(true_pos[code], true_pos[code] + false_pos[code]),
            "recall": _ratio(true_pos[code], true_pos[code] + false_neg[code]),
            "human": true_pos[code] + false_neg[code],
            "detected": true_pos[code] + false_pos[code],
        }
        for code in CODES
    }
    out = Path(__file__).with_name("results") / "detector_disagreements.jsonl"
    out.parent.mkdir(exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        for row in disagreements:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return {
        "items": invalid + valid,
        "per_code": per_code,
        "invalid_recall": _ratio(invalid_caught, invalid),
        "valid_accepted_by_flaw_rules": _ratio(valid_kept, valid),
        "valid_accepted_with_question_policy": _ratio(valid_kept_with_policy, valid),
        "disagreements": len(disagreements),
    }


async def flaw_rates(
    library: Any, materials: dict[str, int], items: list[dict[str, Any]]
) -> dict[str, Any]:
    """Share of items each code's rules reject, for items in the eval_items.jsonl shape."""
    counts: Counter[str] = Counter()
    flagged = judged = 0
    async for _, found in judged_items(library, materials, items):
        judged += 1
        flagged += bool(found)
        counts.update(found.keys())
    return {
        "items": judged,
        "flagged_share": _ratio(flagged, judged),
        "per_code": {code: _ratio(counts[code], judged) for code in sorted(counts)},
    }
