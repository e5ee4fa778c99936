"""Shared set-up for generation tests: a student scope with a real ingested PDF."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from core.ingest import ingest
from core.settings import Settings
from storage.db import Database
from storage.enums import Platform
from storage.files import FileStore
from storage.models import Material, Scope
from storage.repos.chats import personal_scope
from storage.repos.users import get_or_create_user
from storage.vector_index import VectorIndexes

EXCERPT = "ap2e_19-5_heart_development_excerpt.pdf"


@dataclass
class Library:
    """One student's scope with materials ingested through the real upload pipeline."""

    db: Database
    settings: Settings
    embedder: Any
    indexes: VectorIndexes
    scope: Scope
    user_id: int
    materials: dict[str, Material]

    async def add(self, pdf: Path) -> Material:
        data = await asyncio.to_thread(pdf.read_bytes)
        async with self.db.session() as session:
            material = await ingest(
                session,
                scope=self.scope,
                filename=pdf.name,
                data=data,
                uploaded_by=self.user_id,
                embedder=self.embedder,
                indexes=self.indexes,
                files=FileStore(self.settings.data_dir),
                max_bytes=self.settings.max_upload_bytes,
            )
        self.materials[pdf.name] = material
        return material


async def _library(db: Database, settings: Settings, embedder: Any) -> Library:
    async with db.session() as session:
        user = await get_or_create_user(session, Platform.CONSOLE, "student-1", "Ada")
        scope = await personal_scope(session, user)
    indexes = VectorIndexes(settings.data_dir, dim=embedder.dim)
    return Library(db, settings, embedder, indexes, scope, user.id, {})


@pytest.fixture
async def library(db: Database, settings: Settings, embedder: Any) -> Library:
    return await _library(db, settings, embedder)


@pytest.fixture
async def any_library(any_db: Database, settings: Settings, embedder: Any) -> Library:
    """The same, on SQLite and (when a server is configured) on PostgreSQL."""
    return await _library(any_db, settings, embedder)


@pytest.fixture
async def excerpt_library(library: Library, shared_data: Path) -> Library:
    await library.add(shared_data / EXCERPT)
    return library
