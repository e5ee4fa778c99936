"""A student sends PDFs, lists them, reads their topics and deletes them — through the router,
as every chat adapter does. Bad files get one clear message and leave nothing behind."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.buttons import encode
from core.embed import Embedder
from core.settings import Settings
from handlers.context import Services
from handlers.router import Router
from handlers.types import Actor, ChatRef, Document, EventKind, Incoming, Reply, Tone
from storage.db import Database
from storage.enums import ChatKind, Platform
from storage.files import FileStore
from storage.vector_index import VectorIndexes
from tests.materials_support import EXCERPT, HashingEmbedder, leftovers, text_pdf

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Chat:
    """One person in one chat (private, or a group), talking to the router like an adapter."""

    router: Router
    user: str = "ada"
    chat: str = "ada"
    kind: ChatKind = ChatKind.PRIVATE
    admin: bool = False
    notes: list[str] = field(default_factory=list)
    downloads: int = 0

    def _incoming(self, kind: EventKind, **fields: object) -> Incoming:
        async def progress(text: str) -> None:
            self.notes.append(text)

        return Incoming(
            platform=Platform.TELEGRAM, user=Actor(self.user, self.user.title(), self.admin),
            chat=ChatRef(self.chat, self.kind, "Study group"), kind=kind, received_at=NOW,
            progress=progress, **fields,  # type: ignore[arg-type]
        )  # fmt: skip

    async def say(self, line: str) -> list[Reply]:
        command, *args = line.lstrip("/").split()
        incoming = self._incoming(EventKind.COMMAND, command=command, args=tuple(args))
        return await self.router.route(incoming)

    async def click(self, payload: str) -> list[Reply]:
        incoming = self._incoming(EventKind.BUTTON, payload=payload, message_ref="77")
        return await self.router.route(incoming)

    async def send(self, name: str, data: bytes, *, size: int | None = None) -> list[Reply]:
        async def read() -> bytes:
            self.downloads += 1
            return data

        document = Document(filename=name, size=len(data) if size is None else size, read=read)
        return await self.router.route(self._incoming(EventKind.DOCUMENT, document=document))


@dataclass
class Rig:
    settings: Settings
    db: Database
    router: Router

    def person(self, user: str = "ada", **fields: object) -> Chat:
        return Chat(self.router, user=user, chat=str(fields.pop("chat", user)), **fields)  # type: ignore[arg-type]

    async def scope_id(self, user: str = "ada") -> int:
        from tests.materials_support import student_scope

        return (await student_scope(self.db, user, Platform.TELEGRAM)).id


def make_rig(settings: Settings, db: Database, embedder: Embedder) -> Rig:
    services = Services(
        settings=settings,
        db=db,
        clock=lambda: NOW,
        embedder=embedder,
        indexes=VectorIndexes(settings.data_dir, dim=embedder.dim),
        files=FileStore(settings.data_dir),
    )
    return Rig(settings, db, Router(services))


@pytest.fixture
def rig(settings: Settings, db: Database, embedder: Embedder) -> Rig:
    return make_rig(settings, db, embedder)


@pytest.fixture
def quick_rig(settings: Settings, db: Database) -> Rig:
    """The same wiring with a model-free embedder, for flows where meaning is not tested."""
    return make_rig(settings, db, HashingEmbedder())


async def test_a_sent_pdf_becomes_ready_with_pages_and_passages(
    rig: Rig, shared_data: Path
) -> None:
    ada = rig.person()
    (reply,) = await ada.send("heart.pdf", (shared_data / EXCERPT).read_bytes())
    assert reply.tone is Tone.GOOD
    assert "Section 19.5: Development of the Heart is ready: 4 pages, 11 passages" in reply.text
    assert ada.notes[0] == "Got heart.pdf, reading it…"
    assert "Reading page 1/4…" in ada.notes
    # The same file again is recognised, not added twice.
    (again,) = await ada.send("copy.pdf", (shared_data / EXCERPT).read_bytes())
    assert again.text.startswith("You already sent this file:")
    left = await leftovers(rig.db, rig.settings, await rig.scope_id())
    assert (left.materials, left.stored_files, left.vectors) == (1, 1, 11)


def few_words_pdf() -> bytes:
    return text_pdf([["Hello there, just a title page."]])


BAD_FILES = [
    ("empty_zero_bytes.pdf", "That file is empty (0 bytes)."),
    ("encrypted_password_secret.pdf", "That PDF is password protected, so I can't read it. "
     "Please remove the password"),
    ("truncated_half.pdf", "I couldn't open that PDF: it looks damaged or incomplete"),
    ("zero_pages.pdf", "That PDF has no pages."),
]  # fmt: skip


@pytest.mark.parametrize(("name", "message"), BAD_FILES)
async def test_a_bad_file_gets_one_clear_message_and_leaves_nothing(
    quick_rig: Rig, shared_data: Path, name: str, message: str
) -> None:
    ada = quick_rig.person()
    (reply,) = await ada.send(name, (shared_data / "bad" / name).read_bytes())
    assert reply.text.startswith(message)
    assert reply.tone is Tone.WARNING
    assert (await leftovers(quick_rig.db, quick_rig.settings, await quick_rig.scope_id())).nothing


async def test_a_pdf_of_a_few_words_is_refused_and_leaves_nothing(quick_rig: Rig) -> None:
    ada = quick_rig.person()
    (reply,) = await ada.send("title.pdf", few_words_pdf())
    assert reply.text.startswith("That PDF has only 6 words of text, too little to make questions")
    assert (await leftovers(quick_rig.db, quick_rig.settings, await quick_rig.scope_id())).nothing


async def test_an_oversized_pdf_is_refused_before_it_is_downloaded(
    quick_rig: Rig, shared_data: Path, tmp_path: Path
) -> None:
    big = tmp_path / "oversized.pdf"
    script = shared_data / "bad" / "make_oversized.py"
    await asyncio.to_thread(
        subprocess.run, [sys.executable, str(script), str(big), "--mb", "21"], check=True
    )
    data = big.read_bytes()
    assert len(data) > quick_rig.settings.max_upload_bytes
    ada = quick_rig.person()
    (reply,) = await ada.send("lecture.pdf", data)
    assert reply.text.startswith("That file is 21 MB, and I can take files up to 20 MB.")
    assert ada.downloads == 0
    assert (await leftovers(quick_rig.db, quick_rig.settings, await quick_rig.scope_id())).nothing


async def test_owner_password_only_pdf_is_accepted(quick_rig: Rig, shared_data: Path) -> None:
    name = "encrypted_owner_only_opens_without_password.pdf"
    (reply,) = await quick_rig.person().send(name, (shared_data / "bad" / name).read_bytes())
    assert "is ready: 4 pages" in reply.text


async def test_upload_without_a_file_explains_how(quick_rig: Rig) -> None:
    (reply,) = await quick_rig.person().say("/upload")
    assert "Send me a PDF, PowerPoint (.pptx) or Word (.docx) file, or a photo" in reply.text
    assert "Up to 20 MB" in reply.text


async def test_materials_lists_each_with_counts_and_deletes_after_confirming(
    quick_rig: Rig, shared_data: Path
) -> None:
    ada = quick_rig.person()
    assert (await ada.say("/materials"))[0].text.startswith("No materials for you yet.")
    await ada.send("heart.pdf", (shared_data / EXCERPT).read_bytes())
    (listing,) = await ada.say("/materials")
    assert (
        "1. Anatomy and Physiology 2e — Section 19.5: Development of the Heart — ready · "
        "4 pages, 11 passages · 0 questions"
    ) in listing.text
    (delete,) = listing.flat_buttons
    assert delete.label == "Delete 1"

    (confirm,) = await ada.click(delete.payload)
    assert confirm.text.startswith("Delete Anatomy and Physiology 2e")
    assert confirm.edit_of == "77"
    yes, keep = confirm.flat_buttons
    (kept,) = await ada.click(keep.payload)
    assert kept.text.startswith("Kept ")
    assert (
        await leftovers(quick_rig.db, quick_rig.settings, await quick_rig.scope_id())
    ).materials

    (done,) = await ada.click(yes.payload)
    assert done.text.startswith("Deleted Anatomy and Physiology 2e")
    assert (await leftovers(quick_rig.db, quick_rig.settings, await quick_rig.scope_id())).nothing
    (stale,) = await ada.click(yes.payload)
    assert stale.text.startswith("That material is not here any more.")


async def test_nobody_can_delete_another_students_material(
    quick_rig: Rig, shared_data: Path
) -> None:
    await quick_rig.person().send("heart.pdf", (shared_data / EXCERPT).read_bytes())
    (listing,) = await quick_rig.person().say("/materials")
    forged = listing.flat_buttons[0].payload.replace("matdel", "matok")
    (refused,) = await quick_rig.person("eve").click(forged)
    assert refused.text.startswith("That material is not here any more.")
    assert refused.is_alert
    left = await leftovers(quick_rig.db, quick_rig.settings, await quick_rig.scope_id())
    assert left.materials == 1 and left.stored_files == 1


async def test_in_a_group_only_the_uploader_or_an_admin_deletes(
    quick_rig: Rig, shared_data: Path
) -> None:
    group = {"chat": "-100500", "kind": ChatKind.GROUP}
    ada = quick_rig.person("ada", **group)
    (ready,) = await ada.send("heart.pdf", (shared_data / EXCERPT).read_bytes())
    assert "is ready" in ready.text
    (listing,) = await quick_rig.person("bo", **group).say("/materials")
    material_id = int(listing.flat_buttons[0].payload.split(":")[1])
    (refused,) = await quick_rig.person("bo", **group).click(encode("matok", material_id))
    assert refused.text.startswith("Only the person who uploaded it or a group admin")
    (done,) = await quick_rig.person("cy", admin=True, **group).click(encode("matok", material_id))
    assert done.text.startswith("Deleted ")
    # The group's material was never in Ada's own scope, and is gone from the group's.
    (mine,) = await ada.say("/materials")
    assert mine.text.startswith("No materials for this group yet.")


async def test_topics_lists_the_sections_of_a_material(quick_rig: Rig, shared_data: Path) -> None:
    ada = quick_rig.person()
    assert (await ada.say("/topics"))[0].text.startswith("Nothing to list yet")
    await ada.send("heart.pdf", (shared_data / EXCERPT).read_bytes())
    (topics,) = await ada.say("/topics 1")
    assert topics.title.startswith("1. Anatomy and Physiology 2e")
    assert "• 19.5 Development of the Heart (p. 1)" in topics.text
    assert "/quiz Development of the Heart" in topics.text
    assert "Review Questions" not in topics.text and "Key Terms" not in topics.text
    (wrong,) = await ada.say("/topics 7")
    assert wrong.text.startswith("There's no material with that number.")


async def test_uploads_past_the_daily_limit_are_refused_with_when_and_download_nothing(
    settings: Settings, db: Database, shared_data: Path
) -> None:
    rig = make_rig(settings.model_copy(update={"max_uploads_per_day": 1}), db, HashingEmbedder())
    ada = rig.person()
    (first,) = await ada.send("heart.pdf", (shared_data / EXCERPT).read_bytes())
    assert first.tone is Tone.GOOD
    downloads = ada.downloads
    (refused,) = await ada.send("notes.pdf", text_pdf([["The nephron filters plasma."] * 40]))
    assert refused.text == (
        "You have reached your limit of 1 upload a day. You can send the next PDF in 24 hours."
    )
    assert ada.downloads == downloads, "refused before the download"


async def test_an_upload_past_the_stored_megabytes_is_refused_and_says_what_to_do(
    settings: Settings, db: Database, shared_data: Path
) -> None:
    rig = make_rig(settings.model_copy(update={"max_stored_mb": 1}), db, HashingEmbedder())
    ada = rig.person()
    (refused,) = await ada.send("big.pdf", b"%PDF-1.7", size=2 * 1024 * 1024)
    assert "of your 1 MB" in refused.text and "/materials" in refused.text
    assert ada.downloads == 0
