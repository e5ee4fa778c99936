"""The load test's study material: one shared chapter read once, and a database seeded with it.

`bench/load_seed.json` holds the offline generator's questions on the heart chapter and the
chunks they cite, made once through the real upload path (`python -m bench load --reseed`
rebuilds it), so a run starts in seconds instead of loading the embedder and writing questions.
The database gets a study group whose scope holds that material; each student gets the group's
questions in their own scope, because a private /quiz asks only from the student's own scope
(the group's scope is for /round). A student's scope holds no material of its own, so a quiz
never waits for questions to be written: the load is clicks, plus the uploads asked for.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from bench.corpus import shared_data_dir
from storage.db import Database
from storage.enums import ChatKind, MaterialStatus, Platform, ScopeKind
from storage.models import Chat, Chunk, Material, Question, Scope, User

SEED_FILE = Path(__file__).with_name("load_seed.json")
SEED_PDF = shared_data_dir() / "ap2e_ch19_heart.pdf"
SEED_QUESTIONS = 40
GROUP_ID = -100_777
# Enough unseen questions that nobody runs out within a bench run (a fast clicker answers
# about one question every few seconds).
QUESTIONS_PER_STUDENT = 60


async def build_seed_file(path: Path = SEED_FILE) -> dict[str, Any]:
    """Reads SEED_PDF and writes SEED_QUESTIONS through the real pipeline; stores the result."""
    from bench.eval import generate_for, open_library, upload

    with tempfile.TemporaryDirectory(prefix="rounds-load-seed-") as work:
        library = await open_library(Path(work))
        material = await upload(library, SEED_PDF)
        _, questions, _ = await generate_for(library, material.id, SEED_QUESTIONS, seed=20)
        async with library.db.session() as session:
            chunks = list(
                await session.scalars(
                    select(Chunk).where(Chunk.material_id == material.id).order_by(Chunk.ordinal)
                )
            )
        await library.db.dispose()
    cited = {i for q in questions for i in q.source_chunk_ids}
    chunks = [chunk for chunk in chunks if chunk.id in cited]  # the rest is never shown
    ordinal_of = {chunk.id: chunk.ordinal for chunk in chunks}
    seed = {
        "pdf": SEED_PDF.name,
        "material": {"filename": material.filename, "title": material.title,
                     "sha256": material.sha256, "size_bytes": material.size_bytes,
                     "pages": material.pages},
        "chunks": [{"ordinal": c.ordinal, "page_start": c.page_start, "page_end": c.page_end,
                    "heading": c.heading, "kind": c.kind.value, "text": c.text}
                   for c in chunks],
        "questions": [{"stem": q.stem, "stem_hash": q.stem_hash, "options": q.options,
                       "correct_index": q.correct_index, "explanation": q.explanation,
                       "topic": q.topic, "difficulty": q.difficulty,
                       "source_ordinals": [ordinal_of[i] for i in q.source_chunk_ids
                                           if i in ordinal_of],
                       "source_pages": q.source_pages}
                      for q in questions],
    }  # fmt: skip
    if not seed["questions"]:
        raise RuntimeError(f"the offline generator wrote no questions from {SEED_PDF.name}")
    text = json.dumps(seed, indent=1, ensure_ascii=False) + "\n"
    await asyncio.to_thread(path.write_text, text, encoding="utf-8")
    return seed


def load_seed_file(path: Path = SEED_FILE) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


async def seed_database(db: Database, seed: dict[str, Any], user_ids: list[int]) -> None:
    """The group with its material, and each Telegram user `user_ids` with the group's
    questions (QUESTIONS_PER_STUDENT, repeating the seed's) in their own scope."""
    async with db.session() as session:
        group = Chat(platform=Platform.TELEGRAM, external_id=str(GROUP_ID), kind=ChatKind.GROUP,
                     title="Cohort")  # fmt: skip
        session.add(group)
        await session.flush()
        group_scope = Scope(kind=ScopeKind.GROUP, chat_id=group.id)
        session.add(group_scope)
        await session.flush()
        material = Material(scope_id=group_scope.id, status=MaterialStatus.READY,
                            chunk_count=len(seed["chunks"]), **seed["material"])  # fmt: skip
        session.add(material)
        await session.flush()
        chunk_ids = {}
        for row in seed["chunks"]:
            chunk = Chunk(material_id=material.id, **row)
            session.add(chunk)
            await session.flush()
            chunk_ids[row["ordinal"]] = chunk.id
        users = await session.execute(
            insert(User).returning(User.id),
            [{"platform": Platform.TELEGRAM, "external_id": str(uid),
              "display_name": f"Student {uid}"} for uid in user_ids],
        )  # fmt: skip
        scopes = await session.execute(
            insert(Scope).returning(Scope.id),
            [{"kind": ScopeKind.USER, "user_id": user_id} for user_id in users.scalars()],
        )
        questions = seed["questions"]
        rows = []
        for scope_id in scopes.scalars():
            for i in range(QUESTIONS_PER_STUDENT):
                q = questions[i % len(questions)]
                rows.append({
                    "scope_id": scope_id, "material_id": material.id,
                    "stem": q["stem"], "stem_hash": f"{q['stem_hash'][:54]}-{i}",
                    "options": q["options"], "correct_index": q["correct_index"],
                    "explanation": q["explanation"], "topic": q["topic"],
                    "difficulty": q["difficulty"], "source_pages": q["source_pages"],
                    "source_chunk_ids": [chunk_ids[o] for o in q["source_ordinals"]],
                })  # fmt: skip
        for start in range(0, len(rows), 5_000):
            await session.execute(insert(Question), rows[start : start + 5_000])
