"""Question-quality evaluation (`make eval` = `python -m bench.eval [N]`).

0. Scores the flaw rules against the human-graded items of ../shared/data/quality/ (per
   code precision and recall, see bench/detectors.py), runs today's rules over the first
   offline generator's items (results/eval_items_offline_v1.jsonl: the flaw rates "before"),
   and asks each PDF for one `/quiz 20` (delivered / requested, application-level items).
1. Generates N items per PDF in ../shared/data with the configured generator (offline
   unless ROUNDS_LLM_MODEL is set) through the real pipeline: upload -> generate.
   Reports items/s, the pass rate of every validation rule over all candidates, duplicate
   rates, the share of stored items whose key the cited chunk supports, the key position
   spread (chi-square) and how often the key is the longest option, and writes every item
   to bench/results/eval_items.jsonl for reading.
2. Runs the same validators (minus those that need an explanation or a source chunk) on
   the reference sets in ../shared/data/questions/: real board items must nearly all pass.
3. Checks the semantic-duplicate threshold on the reference stems: distinct real items
   must not look like duplicates.

Writes bench/results/eval.json. Test material: OpenStax (CC BY 4.0), MedQA (MIT).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from scipy.stats import chisquare
from sqlalchemy import select

from bench.corpus import shared_data_dir

RESULTS_DIR = Path(__file__).with_name("results")
SHARED_DATA = shared_data_dir()
PDFS = (
    "ap2e_19-5_heart_development_excerpt.pdf",
    "ap2e_ch19_heart.pdf",
    "micro_ch14_antimicrobial_drugs.pdf",
    "micro_ch24_digestive_infections.pdf",
    "ap2e_selected_chapters_benchmark.pdf",
)
# What `/quiz 20` asks for: delivered / requested is reported per PDF.
QUIZ_SIZE = 20
REFERENCE_SETS = ("medqa_usmle_sample_200.jsonl", "openstax_review_questions.jsonl")
# Items asked per PDF; enough over the four PDFs for a key-position test on ~500 items.
DEFAULT_N = 200


@dataclass
class Library:
    """A throwaway database with one student's scope, filled through the real upload path."""

    db: Any
    settings: Any
    embedder: Any
    indexes: Any
    files: Any
    scope: Any
    user_id: int


async def open_library(data_dir: Path, settings: Any | None = None) -> Library:
    from core.embed import embedder_for
    from core.settings import Settings
    from storage.db import Database
    from storage.enums import Platform
    from storage.files import FileStore
    from storage.repos.chats import personal_scope
    from storage.repos.users import get_or_create_user
    from storage.vector_index import VectorIndexes

    base = settings or Settings()
    settings = base.model_copy(update={"data_dir": data_dir, "database_url_override": ""})
    db = Database(settings.database_url)
    await db.migrate()
    embedder = embedder_for(settings)
    async with db.session() as session:
        user = await get_or_create_user(session, Platform.CONSOLE, "eval", "Eval")
        scope = await personal_scope(session, user)
    indexes = VectorIndexes(data_dir, dim=embedder.dim)
    return Library(db, settings, embedder, indexes, FileStore(data_dir), scope, user.id)


async def upload(library: Library, pdf: Path) -> Any:
    from core.ingest import ingest

    data = await asyncio.to_thread(pdf.read_bytes)
    async with library.db.session() as session:
        return await ingest(
            session,
            scope=library.scope,
            filename=pdf.name,
            data=data,
            uploaded_by=library.user_id,
            embedder=library.embedder,
            indexes=library.indexes,
            files=library.files,
            max_bytes=library.settings.max_upload_bytes,
        )


async def generate_for(
    library: Library, material_id: int, n: int, *, seed: int, difficulty: int = 3
) -> tuple[Any, list[Any], float]:
    """(run row, stored questions, seconds) for one generate() call on one material."""
    from core.generate import GenerationError, generate
    from storage.models import Question

    started = time.perf_counter()
    try:
        async with library.db.session() as session:
            run = await generate(
                session,
                scope_id=library.scope.id,
                material_id=material_id,
                n=n,
                difficulty=difficulty,
                embedder=library.embedder,
                indexes=library.indexes,
                settings=library.settings,
                requested_by=library.user_id,
                seed=seed,
            )
            questions = list(
                await session.scalars(select(Question).where(Question.run_id == run.id))
            )
    except GenerationError as error:
        return error.run, [], time.perf_counter() - started
    return run, questions, time.perf_counter() - started


def _level(question: Any) -> str:
    flags = question.flags or []
    return "application" if "application" in flags else "recall"


def _item_record(pdf: str, question: Any, supported: bool) -> dict[str, Any]:
    return {
        "pdf": pdf,
        "kind": (question.flags or [""])[0],
        "level": _level(question),
        "topic": question.topic,
        "difficulty": question.difficulty,
        "stem": question.stem,
        "options": question.options,
        "answer": "ABCDE"[question.correct_index],
        "explanation": question.explanation,
        "source_pages": question.source_pages,
        "key_supported_by_cited_chunk": supported,
    }


async def _supported(library: Library, question: Any) -> bool:
    """Re-checks a stored item: does the cited chunk support its key (lexically)?"""
    from core.generate.schema import DraftItem
    from core.generate.validate import SOURCE_SUPPORTS_KEY, ValidationContext, failed_rules
    from storage.models import Chunk

    async with library.db.session() as session:
        chunks = await session.scalars(
            select(Chunk).where(Chunk.id.in_(list(question.source_chunk_ids)))
        )
        texts = {c.id: c.text for c in chunks}
    draft = DraftItem(
        question.stem,
        tuple(question.options),
        question.correct_index,
        question.explanation,
        tuple(question.source_chunk_ids),
    )
    return SOURCE_SUPPORTS_KEY not in failed_rules(draft, ValidationContext(chunk_texts=texts))


async def evaluate_generation(
    library: Library, materials: dict[str, int], n: int
) -> dict[str, Any]:
    from core.generate.pipeline import MAX_QUESTIONS_PER_RUN

    totals: Counter[str] = Counter()
    rejected: Counter[str] = Counter()
    seconds = 0.0
    positions: list[int] = []
    longest_key = 0
    chance_longest = 0.0
    supported = 0
    per_pdf: dict[str, Any] = {}
    records: list[dict[str, Any]] = []
    for name, material_id in materials.items():
        questions = []
        runs = []
        took = 0.0
        # A run writes at most MAX_QUESTIONS_PER_RUN; further runs (new seeds) ask about
        # facts not asked yet, until N are in or a run finds nothing new.
        while len(questions) < n:
            want = min(MAX_QUESTIONS_PER_RUN, n - len(questions))
            run, more, seconds_taken = await generate_for(
                library, material_id, want, seed=2024 + len(runs)
            )
            took += seconds_taken
            if run is not None:
                runs.append(run)
            questions += more
            if not more:
                break
        seconds += took
        for run in runs:
            for field in ("requested", "generated", "parse_failures", "inserted", "api_calls"):
                totals[field] += getattr(run, field)
            totals["exact_duplicates"] += run.exact_duplicates
            totals["semantic_duplicates"] += run.semantic_duplicates
            rejected.update(run.rejected_by_rule or {})
        for question in questions:
            ok = await _supported(library, question)
            supported += ok
            positions.append(question.correct_index)
            lengths = [len(o) for o in question.options]
            longest_key += lengths[question.correct_index] == max(lengths)
            chance_longest += 1 / len(question.options)
            records.append(_item_record(name, question, ok))
        per_pdf[name] = {
            "inserted": len(questions),
            "runs": len(runs),
            "seconds": round(took, 2),
            "statuses": [str(r.status) for r in runs],
            "application_share": round(
                sum(_level(q) == "application" for q in questions) / len(questions), 3
            )
            if questions
            else 0.0,
        }
    from core.generate.validate import FLAW_CODES, RULES

    candidates = max(1, totals["generated"] - totals["parse_failures"])
    counts = [positions.count(p) for p in range(max(positions, default=0) + 1)]
    stored = len(positions)
    RESULTS_DIR.mkdir(exist_ok=True)
    with (RESULTS_DIR / "eval_items.jsonl").open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return {
        "generator": "llm" if library.settings.llm_model else "offline",
        "model": library.settings.llm_model or "offline",
        "per_pdf": per_pdf,
        "requested": totals["requested"],
        "candidates": candidates,
        "inserted": stored,
        "seconds": round(seconds, 2),
        "items_per_second": round(stored / seconds, 2) if seconds else 0.0,
        "parse_failures": totals["parse_failures"],
        "api_calls": totals["api_calls"],
        "rule_pass_rate": {
            rule: round(1 - rejected.get(rule, 0) / candidates, 4) for rule in RULES
        },
        # Share of candidates each rubric code's rules turned away (an item may count twice).
        "candidate_flaw_rate": {
            code: round(
                sum(rejected.get(r, 0) for r, codes in FLAW_CODES.items() if code in codes)
                / candidates,
                4,
            )
            for code in sorted({c for codes in FLAW_CODES.values() for c in codes})
        },
        # Candidates that broke no rule (stored, or dropped only as duplicates).
        "validation_pass_rate": round(
            (stored + totals["exact_duplicates"] + totals["semantic_duplicates"]) / candidates, 4
        ),
        "exact_duplicate_rate": round(totals["exact_duplicates"] / candidates, 4),
        "semantic_duplicate_rate": round(totals["semantic_duplicates"] / candidates, 4),
        "key_supported_share": round(supported / stored, 4) if stored else 0.0,
        "key_positions": counts,
        "key_position_chi2_p": round(float(chisquare(counts).pvalue), 4) if stored else None,
        "key_is_longest_share": round(longest_key / stored, 4) if stored else 0.0,
        "key_is_longest_by_chance": round(chance_longest / stored, 4) if stored else 0.0,
    }


def evaluate_references() -> dict[str, Any]:
    from core.generate.schema import DraftItem
    from core.generate.validate import RULES, SOURCE_RULES, ValidationContext, failed_rules

    context = ValidationContext(require_explanation=False, require_source=False)
    report: dict[str, Any] = {}
    for name in REFERENCE_SETS:
        path = SHARED_DATA / "questions" / name
        if not path.exists():
            continue
        items = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
        failed: Counter[str] = Counter()
        passed = 0
        examples: dict[str, str] = {}
        for raw in items:
            draft = DraftItem(raw["stem"], tuple(raw["options"]), raw["answer_index"])
            rules = [r for r in failed_rules(draft, context) if r not in SOURCE_RULES]
            failed.update(rules)
            passed += not rules
            for rule in rules:
                examples.setdefault(rule, raw["stem"][-120:])
        report[name] = {
            "items": len(items),
            "pass_rate": round(passed / len(items), 4),
            "rule_pass_rate": {
                rule: round(1 - failed.get(rule, 0) / len(items), 4)
                for rule in RULES
                if rule not in SOURCE_RULES
            },
            "failed_by_rule": dict(failed),
            "example_failures": examples,
        }
    return report


async def evaluate_duplicate_threshold() -> dict[str, Any]:
    """How many distinct reference stems the semantic-duplicate check would wrongly join."""
    import numpy as np

    from core.embed import embedder_for
    from core.generate.dedupe import SEMANTIC_DUPLICATE
    from core.settings import Settings

    stems: list[str] = []
    for name in REFERENCE_SETS:
        path = SHARED_DATA / "questions" / name
        if path.exists():
            stems += [json.loads(x)["stem"] for x in path.read_text("utf-8").splitlines() if x]
    vectors = await embedder_for(Settings()).embed(stems)
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -1.0)
    nearest = similarity.max(axis=1)
    return {
        "threshold": SEMANTIC_DUPLICATE,
        "stems": len(stems),
        "share_flagged_as_duplicate": round(float((nearest >= SEMANTIC_DUPLICATE).mean()), 4),
        "nearest_neighbour_p99": round(float(np.quantile(nearest, 0.99)), 4),
    }


def _print_detectors(console: Console, report: dict[str, Any]) -> None:
    detectors = report["detectors"]
    table = Table(title=f"Flaw rules vs the human grader ({detectors['items']} graded items)")
    for column in ("code", "precision", "recall", "human", "detected"):
        table.add_column(column)
    for code, row in detectors["per_code"].items():
        if row["human"] or row["detected"]:
            table.add_row(
                code, *(str(row[k]) for k in ("precision", "recall", "human", "detected"))
            )
    console.print(table)
    console.print(
        f"Invalid items caught: {detectors['invalid_recall']}; human-valid items accepted: "
        f"{detectors['valid_accepted_by_flaw_rules']} by the flaw rules, "
        f"{detectors['valid_accepted_with_question_policy']} with the no-blank policy; "
        f"{detectors['disagreements']} disagreements in results/detector_disagreements.jsonl"
    )
    before = report["offline_v1_items_flaw_rates"]
    console.print(
        f"offline_v1 items (eval_items_offline_v1.jsonl) through today's rules: {before}"
    )
    console.print(f"/quiz {QUIZ_SIZE} per PDF: {report['quiz_20']}")


def _print(report: dict[str, Any]) -> None:
    console = Console()
    _print_detectors(console, report)
    generation = report["generation"]
    table = Table(title=f"Generated items ({generation['generator']}: {generation['model']})")
    table.add_column("metric")
    table.add_column("value")
    for key in (
        "inserted",
        "candidates",
        "items_per_second",
        "validation_pass_rate",
        "exact_duplicate_rate",
        "semantic_duplicate_rate",
        "key_supported_share",
        "key_positions",
        "key_position_chi2_p",
        "key_is_longest_share",
        "key_is_longest_by_chance",
    ):
        table.add_row(key, str(generation[key]))
    for rule, rate in generation["rule_pass_rate"].items():
        table.add_row(f"pass: {rule}", f"{rate:.1%}")
    for code, rate in generation["candidate_flaw_rate"].items():
        table.add_row(f"candidates rejected for {code}", f"{rate:.1%}")
    console.print(table)
    references = Table(title="Reference sets through the same validators")
    for column in ("set", "items", "pass rate", "failed by rule"):
        references.add_column(column)
    for name, data in report["references"].items():
        references.add_row(
            name, str(data["items"]), f"{data['pass_rate']:.1%}", str(data["failed_by_rule"])
        )
    console.print(references)
    console.print(f"Semantic-duplicate threshold on reference stems: {report['duplicates']}")
    console.print(f"Items written to {RESULTS_DIR / 'eval_items.jsonl'}")


async def quiz_deliveries(library: Library, materials: dict[str, int]) -> dict[str, Any]:
    """Delivered / requested for one `/quiz 20` on each PDF, on a fresh scope."""
    found = {}
    for name, material_id in materials.items():
        run, questions, seconds = await generate_for(library, material_id, QUIZ_SIZE, seed=99)
        found[name] = {
            "requested": QUIZ_SIZE,
            "delivered": len(questions),
            "application": sum(_level(q) == "application" for q in questions),
            "seconds": round(seconds, 2),
            "note": run.error if run is not None else "",
        }
    return found


async def evaluate_all(n: int, work: Path) -> dict[str, Any]:
    from bench.detectors import evaluate_detectors, flaw_rates

    library = await open_library(work)
    materials: dict[str, int] = {}
    for name in PDFS:
        if (SHARED_DATA / name).exists():
            materials[name] = (await upload(library, SHARED_DATA / name)).id
    # The items of the first offline generator (offline_v1), from which the graded set was
    # drawn: today's rules over them are the flaw rates "before".
    previous = RESULTS_DIR / "eval_items_offline_v1.jsonl"
    before_items = (
        [json.loads(x) for x in previous.read_text("utf-8").splitlines() if x.strip()]
        if previous.exists()
        else []
    )
    report: dict[str, Any] = {
        "detectors": await evaluate_detectors(library, materials, SHARED_DATA),
        "offline_v1_items_flaw_rates": await flaw_rates(library, materials, before_items),
        "quiz_20": await quiz_deliveries(library, materials),
        "generation": await evaluate_generation(library, materials, n),
    }
    await library.db.dispose()
    return report


def main(argv: list[str]) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    n = int(argv[0]) if argv else DEFAULT_N
    with tempfile.TemporaryDirectory(prefix="rounds-eval-") as work:
        measured = asyncio.run(evaluate_all(n, Path(work)))
    report = {
        "n_per_pdf": n,
        **measured,
        "references": evaluate_references(),
        "duplicates": asyncio.run(evaluate_duplicate_threshold()),
    }
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "eval.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    _print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
