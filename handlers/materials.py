"""Uploads and the material list: a sent file (PDF, slides, Word, photo), /upload,
/materials (with delete), /topics.

Buttons: `matdel:<material_id>` asks to confirm a delete, `matok:<material_id>` deletes,
`matno:<material_id>` keeps. Every button re-checks that the material is in the clicking
chat's scope (and, in a group, that the clicker uploaded it or is an admin).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from core import limits
from core.buttons import Button, decode, encode
from core.embed import Embedder
from core.errors import RoundsError
from core.ingest import Ingested, delete_material, ingest_file
from core.readers.album import pack_pictures
from core.readers.formats import page_unit
from core.topics import Topic, topics_for_material
from core.upload_errors import TooLarge
from handlers.context import Services, Turn
from handlers.types import Document, Reply, Tone
from storage.enums import MaterialStatus
from storage.files import FileStore
from storage.models import Material
from storage.repos import materials as materials_repo
from storage.vector_index import VectorIndexes

# Topics listed per material; a long book gets "...and N more".
MAX_TOPICS_SHOWN = 40


class MaterialGone(RoundsError):
    user_message = "That material is not here any more. Send /materials to see what you have."


class NotYours(RoundsError):
    user_message = "Only the person who uploaded it or a group admin can delete that material."


class NoSuchMaterial(RoundsError):
    user_message = "There's no material with that number. Send /materials to see the list."


# What a chat platform says of a file Rounds reads as a picture (its bytes decide later).
PICTURE_MIME_TYPES = frozenset({"image/jpeg", "image/png"})
PICTURE_SUFFIXES = (".jpg", ".jpeg", ".png")


def is_picture(mime_type: str, filename: str = "") -> bool:
    """A file the platform calls a JPEG or PNG: it may join the pictures sent with it."""
    kind = mime_type.split(";")[0].strip().lower()
    return kind in PICTURE_MIME_TYPES or filename.lower().endswith(PICTURE_SUFFIXES)


@dataclass(frozen=True)
class PictureAlbum(Document):
    """Pictures of pages sent together (a Telegram album, one Discord message's attachments):
    one upload, one page per picture in the order sent. Its `read` packs them as one PDF; its
    `size` is its largest picture's, so each picture is held to the upload limit before any
    is downloaded (the packed pages are far smaller than the pictures together)."""

    pictures: tuple[Document, ...] = ()


def picture_album(pictures: Sequence[Document], *, name: str, max_megapixels: float) -> Document:
    """The pictures as one upload named `name` (a single picture stays itself)."""
    if len(pictures) == 1:
        return pictures[0]

    async def read() -> bytes:
        downloaded = [await picture.read() for picture in pictures]
        return await asyncio.to_thread(pack_pictures, downloaded, max_megapixels=max_megapixels)

    return PictureAlbum(
        filename=f"{name}.pdf", size=max(picture.size for picture in pictures), read=read,
        mime_type="application/pdf", pictures=tuple(pictures),
    )  # fmt: skip


def _materials_services(services: Services) -> tuple[Embedder, VectorIndexes, FileStore]:
    if services.embedder is None or services.indexes is None or services.files is None:
        raise RuntimeError("materials services are not configured (see bot/app.py)")
    return services.embedder, services.indexes, services.files


# --- upload --------------------------------------------------------------------------------


async def upload_document(turn: Turn) -> list[Reply]:
    """A file sent in the chat: checked, read, split, embedded; one reply when ready."""
    document = turn.incoming.document
    if document is None:
        return []
    embedder, indexes, files = _materials_services(turn.services)
    limit = turn.services.settings.max_upload_bytes
    if document.size > limit:  # refused before a single byte is downloaded
        raise TooLarge(size_bytes=document.size, max_bytes=limit)
    settings = turn.services.settings
    await limits.check_upload(
        turn.session, user_id=turn.user.id, size_bytes=document.size, settings=settings,
        now=turn.now,
    )  # fmt: skip
    # Reading and embedding a long PDF takes minutes. Whatever this event wrote so far (a
    # first-time user's row) is committed now, so SQLite's single write lock is not held
    # meanwhile; the material itself is still written all-or-nothing at the end.
    await turn.session.commit()
    if isinstance(document, PictureAlbum):
        await turn.incoming.progress(f"Got your {len(document.pictures)} pictures, reading them…")
    else:
        await turn.incoming.progress(f"Got {document.filename}, reading it…")
    data = await document.read()
    sha256 = hashlib.sha256(data).hexdigest()
    known = await materials_repo.find_by_sha(turn.session, turn.scope.id, sha256)
    ingested = await ingest_file(
        turn.session,
        scope=turn.scope,
        filename=document.filename,
        data=data,
        uploaded_by=turn.user.id,
        embedder=embedder,
        indexes=indexes,
        files=files,
        max_bytes=limit,
        progress=turn.incoming.progress,
        max_pages=settings.max_pdf_pages,
        extract_timeout_s=settings.pdf_extract_timeout_s,
        max_ocr_pages=settings.max_ocr_pages,
        ocr_timeout_s=settings.ocr_timeout_s,
        max_megapixels=settings.max_image_megapixels,
        now=turn.now,
        offload=turn.services.offload,
    )
    material = ingested.material
    if known is not None and known.id == material.id:
        return [
            Reply(
                f"You already sent this file: {_name(material)} ({_counts(material)}). "
                "Nothing new to add. Try /topics or /quiz.",
            )
        ]
    return [
        Reply(
            f"{_name(material)} is ready: {_counts(material)}.{_reading_notes(ingested)}\n"
            "Send /topics to see what's in it, or /quiz to start practising.",
            title="Material added",
            tone=Tone.GOOD,
        )
    ]


async def upload_help(turn: Turn) -> list[Reply]:
    """`/upload`: how to send a PDF (the file itself arrives as a document, not a command)."""
    limit = turn.services.settings.max_upload_mb
    return [
        Reply(
            "Send me a PDF, PowerPoint (.pptx) or Word (.docx) file, or a photo of a page: "
            f"attach it to a message in this chat (no command needed). Up to {limit} MB — "
            "lecture slides, notes, a textbook chapter. Scanned pages and photos are read "
            "with OCR (text recognition), which takes a few seconds a page.\n"
            "I'll read it, split it into passages that remember their page numbers, and "
            "then /quiz asks you questions that cite those pages.",
            title="Adding material",
        )
    ]


# --- /materials and delete -----------------------------------------------------------------


async def list_materials(turn: Turn) -> list[Reply]:
    """`/materials`: each material with status, pages, passages, questions and a delete
    button."""
    summaries = await materials_repo.materials_for_scope(turn.session, turn.scope.id)
    if not summaries:
        where = "this group" if turn.in_group else "you"
        return [Reply(f"No materials for {where} yet. Send a PDF to add one (see /upload).")]
    lines = []
    buttons = []
    for number, summary in enumerate(summaries, start=1):
        material = summary.material
        questions = summary.question_count
        lines.append(
            f"{number}. {_name(material)} — {_status(material)} · {_counts(material)} · "
            f"{questions} question{'s' if questions != 1 else ''}"
        )
        buttons.append((Button(f"Delete {number}", encode("matdel", material.id)),))
    lines.append("\n/topics N lists what material N covers.")
    return [Reply("\n".join(lines), title="Your materials", buttons=tuple(buttons))]


async def ask_delete(turn: Turn) -> list[Reply]:
    material = await _clicked_material(turn)
    summaries = await materials_repo.materials_for_scope(turn.session, turn.scope.id)
    questions = next((s.question_count for s in summaries if s.material.id == material.id), 0)
    consequence = (
        f" Its {questions} question{'s' if questions != 1 else ''} and their review cards go too."
        if questions
        else ""
    )
    return [
        Reply(
            f"Delete {_name(material)}?{consequence}",
            buttons=(
                (
                    Button("Yes, delete", encode("matok", material.id)),
                    Button("Keep it", encode("matno", material.id)),
                ),
            ),
            edit_of=turn.incoming.message_ref,
        )
    ]


async def confirm_delete(turn: Turn) -> list[Reply]:
    material = await _clicked_material(turn)
    _, indexes, files = _materials_services(turn.services)
    name = _name(material)
    await delete_material(turn.session, material=material, indexes=indexes, files=files)
    return [Reply(f"Deleted {name}.", tone=Tone.GOOD, edit_of=turn.incoming.message_ref)]


async def keep(turn: Turn) -> list[Reply]:
    material = await _clicked_material(turn, for_delete=False)
    return [Reply(f"Kept {_name(material)}.", edit_of=turn.incoming.message_ref)]


async def _clicked_material(turn: Turn, *, for_delete: bool = True) -> Material:
    """The material a button names, only if it is in this chat's scope (and deletable)."""
    material_id = decode(turn.incoming.payload).int_part(0)
    material = await materials_repo.material_in_scope(turn.session, turn.scope.id, material_id)
    if material is None:
        raise MaterialGone(reason="material not in scope")
    if (
        for_delete
        and turn.in_group
        and material.uploaded_by != turn.user.id
        and not turn.incoming.user.is_admin
    ):
        raise NotYours(reason="group material of another member")
    return material


# --- /topics -------------------------------------------------------------------------------


async def list_topics(turn: Turn) -> list[Reply]:
    """`/topics [material number]`: the sections (or key phrases) of one or all materials."""
    summaries = await materials_repo.materials_for_scope(turn.session, turn.scope.id)
    materials = [summary.material for summary in summaries]
    if not materials:
        return [Reply("Nothing to list yet: send a PDF first (see /upload).")]
    chosen = list(enumerate(materials, start=1))
    if turn.incoming.args:
        try:
            number = int(turn.incoming.args[0])
        except ValueError:
            raise NoSuchMaterial(reason="not a number") from None
        if not 1 <= number <= len(materials):
            raise NoSuchMaterial(reason="out of range")
        chosen = [(number, materials[number - 1])]
    replies = []
    for number, material in chosen:
        if material.status is not MaterialStatus.READY:
            continue
        topics = await topics_for_material(turn.session, material.id)
        replies.append(_topics_reply(number, material, topics, single=len(chosen) == 1))
    return replies or [Reply("None of your materials is ready yet.")]


def _topics_reply(number: int, material: Material, topics: list[Topic], *, single: bool) -> Reply:
    shown = topics if single else [t for t in topics if t.level == 1] or topics
    unit = page_unit(material.filename)
    where = "p." if unit == "page" else unit
    lines = [
        f"{'   ' if topic.level > 1 else ''}• {topic.title} ({where} {topic.page})"
        for topic in shown[:MAX_TOPICS_SHOWN]
    ]
    if len(shown) > MAX_TOPICS_SHOWN:
        lines.append(f"…and {len(shown) - MAX_TOPICS_SHOWN} more")
    if not lines:
        lines.append("I couldn't find headings or key phrases in it.")
    else:
        example = shown[0].query
        lines.append(f"\nPractise one with /quiz {example}")
        if not single:
            lines.append(f"/topics {number} shows every subsection.")
    return Reply("\n".join(lines), title=f"{number}. {_name(material)}")


# --- wording -------------------------------------------------------------------------------


def _name(material: Material) -> str:
    return material.title or material.filename


def _counts(material: Material) -> str:
    pages, chunks, unit = material.pages, material.chunk_count, page_unit(material.filename)
    return (
        f"{pages} {unit}{'s' if pages != 1 else ''}, {chunks} passage{'s' if chunks != 1 else ''}"
    )


def _reading_notes(ingested: Ingested) -> str:
    """What OCR did, and which pages it could not read (left out), for the ready message."""
    notes = []
    read, unread = len(ingested.ocr_pages), ingested.unreadable_pages
    if read and ingested.material.pages > 1:
        notes.append(f"{read} scanned page{'s' if read != 1 else ''} read with OCR.")
    if unread:
        listed = ", ".join(str(page) for page in unread[:10]) + ("…" if len(unread) > 10 else "")
        notes.append(
            f"{len(unread)} page{'s' if len(unread) != 1 else ''} I couldn't read "
            f"{'were' if len(unread) != 1 else 'was'} skipped (p. {listed})."
        )
    return " " + " ".join(notes) if notes else ""


def _status(material: Material) -> str:
    return {
        MaterialStatus.READY: "ready",
        MaterialStatus.PROCESSING: "still processing",
        MaterialStatus.FAILED: "failed",
    }[material.status]


COMMANDS = {"upload": upload_help, "materials": list_materials, "topics": list_topics}
BUTTONS = {"matdel": ask_delete, "matok": confirm_delete, "matno": keep}
DOCUMENT = upload_document
