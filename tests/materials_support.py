"""Helpers for the materials tests: tiny PDFs built in code, page slices of the corpus,
two small Embedder implementations, and a look at everything an upload can leave behind."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
from sqlalchemy import func, select

from core.embed import normalise_rows
from core.settings import Settings
from storage.db import Database
from storage.enums import Platform
from storage.files import FileStore
from storage.models import Chunk, Material, Scope
from storage.repos.chats import personal_scope
from storage.repos.users import get_or_create_user
from storage.vector_index import INDEX_DIR_NAME, VectorIndexes

EXCERPT = "ap2e_19-5_heart_development_excerpt.pdf"
# A whole chapter: enough clean key-term questions for any seed (the 4-page excerpt has
# eleven terms, most named after their own definitions, so it writes only a few).
CHAPTER = "ap2e_ch19_heart.pdf"
HEART = "ap2e_ch19_heart.pdf"


def text_pdf(pages: Sequence[Sequence[str]], *, size: float = 11) -> bytes:
    """A valid PDF whose pages show the given ASCII lines in Helvetica (one line each)."""
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"",  # the page tree, filled in below
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    kids = []
    for lines in pages:
        ops = [f"BT /F1 {size} Tf 14 TL 72 720 Td".encode()]
        for line in lines:
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(f"({escaped}) Tj T*".encode("latin-1"))
        ops.append(b"ET")
        stream = b"\n".join(ops)
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        content = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % content
        )
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % kid for kid in kids),
        len(kids),
    )
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    size = len(objects) + 1
    out.write(b"trailer << /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref))
    return out.getvalue()


def slice_pdf(path: Path, page_numbers: Sequence[int]) -> bytes:
    """A new PDF holding the given 1-based pages of `path` (its outline is not carried)."""
    source = pdfium.PdfDocument(path)
    target = pdfium.PdfDocument.new()
    try:
        target.import_pages(source, [number - 1 for number in page_numbers])
        buffer = io.BytesIO()
        target.save(buffer)
        return buffer.getvalue()
    finally:
        target.close()
        source.close()


_WORD = re.compile(r"[a-z0-9]+")


class HashingEmbedder:
    """A model-free Embedder: hashed bag of words, so texts sharing words are similar.

    Fast and deterministic, for tests where the meaning of a match does not matter.
    """

    name = "hashing"
    dim = 384

    def __init__(self) -> None:
        self.calls = 0

    def embed_sync(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=4).digest()
                out[row, int.from_bytes(digest, "little") % self.dim] += 1.0
        return normalise_rows(out)

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        return self.embed_sync(texts)


class EmbedderCrashed(RuntimeError):
    pass


class ExplodingEmbedder(HashingEmbedder):
    """Embeds `good_calls` batches, then fails like a model running out of memory."""

    def __init__(self, good_calls: int = 0) -> None:
        super().__init__()
        self.good_calls = good_calls

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        if self.calls >= self.good_calls:
            raise EmbedderCrashed("simulated crash while embedding")
        return await super().embed(texts)


@dataclass(frozen=True)
class Leftovers:
    """Everything an upload can leave behind."""

    materials: int
    chunks: int
    stored_files: int
    index_files: int
    vectors: int

    @property
    def nothing(self) -> bool:
        return self == Leftovers(0, 0, 0, 0, 0)


async def leftovers(db: Database, settings: Settings, scope_id: int) -> Leftovers:
    """Rows, uploaded files, index files and vectors (as a fresh process would see them)."""
    index_dir = settings.data_dir / INDEX_DIR_NAME
    index_files = len(list(index_dir.glob("*"))) if index_dir.exists() else 0
    async with db.session() as session:
        materials = await session.scalar(select(func.count(Material.id)))
        chunks = await session.scalar(select(func.count(Chunk.id)))
        fresh = VectorIndexes(settings.data_dir, dim=384)
        vectors = len(await fresh.get(session, scope_id))
    return Leftovers(
        materials=int(materials or 0),
        chunks=int(chunks or 0),
        stored_files=len(FileStore(settings.data_dir).all_files()),
        index_files=index_files,
        vectors=vectors,
    )


async def student_scope(
    db: Database, external_id: str = "ada", platform: Platform = Platform.CONSOLE
) -> Scope:
    """A student's personal scope, committed."""
    async with db.session() as session:
        user = await get_or_create_user(session, platform, external_id, external_id)
        return await personal_scope(session, user)
