"""Anki export: a chat's questions as an .apkg package (genanki) whose note, deck and note
type ids are derived from Rounds' own ids, so importing a second export updates the notes
already in Anki instead of adding copies."""

from __future__ import annotations

import asyncio
import hashlib
import html
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import genanki
from sqlalchemy.ext.asyncio import AsyncSession

from core.study import LETTERS, source_line
from storage.models import Question, Scope
from storage.repos.questions import questions_for_export

DECK_ROOT = "Rounds"
# Anki matches an imported note to an existing one by guid, and a note type by its id; both
# must stay the same across exports (and releases) or Anki would import duplicates.
GUID_NAMESPACE = "rounds-question"
MODEL_ID = 1_607_392_318
MODEL_NAME = "Rounds multiple choice"
FIELDS = ("Stem", "Options", "Answer", "Explanation", "Source")
FRONT = "<div class=stem>{{Stem}}</div><div class=options>{{Options}}</div>"
BACK = (
    "{{FrontSide}}<hr id=answer><div class=answer>{{Answer}}</div>"
    "<div class=explanation>{{Explanation}}</div><div class=source>{{Source}}</div>"
)
CSS = (
    ".card { font-family: sans-serif; font-size: 18px; text-align: left; }\n"
    ".options { margin-top: 1em; }\n.answer { font-weight: bold; }\n"
    ".explanation { margin-top: 1em; }\n.source { margin-top: 1em; font-size: 14px; color: #666; }"
)
# Anki's generator ids live in [2^30, 2^31), the range genanki recommends for random ids.
_ID_FLOOR = 1 << 30


@dataclass(frozen=True)
class ExportedQuestion:
    """One question as it becomes one Anki note."""

    question_id: int
    stem: str
    options: tuple[str, ...]
    key_index: int
    explanation: str
    source: str
    topic: str


def note_guid(question_id: int) -> str:
    """The note's guid: the same for the same question in every export."""
    return str(genanki.guid_for(GUID_NAMESPACE, question_id))


def deck_id(scope_id: int, topic: str) -> int:
    """A stable deck id per chat scope and topic (empty topic: the whole bank)."""
    digest = hashlib.sha256(f"rounds-deck:{scope_id}:{topic.strip().lower()}".encode()).digest()
    return _ID_FLOOR + int.from_bytes(digest[:4], "big") % _ID_FLOOR


def topic_tag(topic: str) -> str:
    """Anki tags are single words: spaces become underscores ("Heart Development" ->
    "Heart_Development")."""
    return re.sub(r"\s+", "_", topic.strip())


MODEL = genanki.Model(
    MODEL_ID,
    MODEL_NAME,
    fields=[{"name": name} for name in FIELDS],
    templates=[{"name": "Question", "qfmt": FRONT, "afmt": BACK}],
    css=CSS,
)


def _note(question: ExportedQuestion) -> genanki.Note:
    escape = html.escape
    options = "<br>".join(
        f"{LETTERS[i]}. {escape(option)}" for i, option in enumerate(question.options)
    )
    key = f"{LETTERS[question.key_index]}. {escape(question.options[question.key_index])}"
    source = f"Source: {escape(question.source)}" if question.source else ""
    tag = topic_tag(question.topic)
    return genanki.Note(
        model=MODEL,
        fields=[escape(question.stem), options, key, escape(question.explanation), source],
        tags=[tag] if tag else [],
        guid=note_guid(question.question_id),
    )


def write_package(
    questions: Sequence[ExportedQuestion], path: Path, *, deck_name: str, deck: int
) -> Path:
    """Writes the .apkg atomically (temp file, then rename); returns `path`."""
    anki_deck = genanki.Deck(deck, deck_name)
    for question in questions:
        anki_deck.add_note(_note(question))
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".apkg.part")
    try:
        genanki.Package(anki_deck).write_to_file(str(partial))
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def exports_dir(data_dir: Path, user_id: int) -> Path:
    """Where one student's exported decks are written inside the data dir."""
    return data_dir / "exports" / str(user_id)


def deck_name(chat_title: str, topic: str) -> str:
    """ "Rounds", "Rounds::Cardio group", "Rounds::Cardio group::heart": Anki's `::` nests."""
    parts = [DECK_ROOT, *(part.replace("::", ":") for part in (chat_title, topic) if part)]
    return "::".join(parts)


def file_name(topic: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", topic).strip("-").lower()[:40]
    return f"rounds-{slug}.apkg" if slug else "rounds.apkg"


async def _exported(session: AsyncSession, question: Question) -> ExportedQuestion:
    return ExportedQuestion(
        question_id=question.id,
        stem=question.stem,
        options=tuple(str(option) for option in question.options),
        key_index=question.correct_index,
        explanation=question.explanation,
        source=await source_line(session, question),
        topic=question.topic,
    )


async def export_scope(
    session: AsyncSession, scope: Scope, *, topic: str, directory: Path, chat_title: str = ""
) -> tuple[Path, int] | None:
    """The scope's questions in circulation (of `topic`, when given) as an .apkg in
    `directory`, and how many notes it holds; None when there is nothing to export."""
    questions = await questions_for_export(session, scope.id, topic)
    if not questions:
        return None
    exported = [await _exported(session, question) for question in questions]
    path = await asyncio.to_thread(
        write_package, exported, directory / file_name(topic),
        deck_name=deck_name(chat_title, topic), deck=deck_id(scope.id, topic),
    )  # fmt: skip
    return path, len(exported)
