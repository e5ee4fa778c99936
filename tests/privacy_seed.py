"""A member's private study, made distinctive so a test can scan group chats for any trace.

Every stem, option, topic, explanation and the file name carry markers no group material
has; `leaks(text)` names the markers a piece of text contains.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from handlers.router import Router
from handlers.types import Actor, ChatRef, EventKind, Incoming, Reply, SentMessage
from storage.db import Database
from storage.enums import ChatKind, MaterialStatus, Platform
from storage.models import Chunk, Material, Question
from storage.repos.chats import personal_scope
from storage.repos.users import get_or_create_user

PRIVATE_FILENAME = "zanzibar-private-notes.pdf"
PRIVATE_TOPIC = "Pheochromocytoma"
PRIVATE_MARKERS = (
    "zanzibar", PRIVATE_TOPIC.lower(), "privstem", "privopt", "privexplain", "privheading"
)  # fmt: skip


def leaks(text: str) -> list[str]:
    """The private markers that `text` contains (empty: nothing private in it)."""
    lowered = text.lower()
    return [marker for marker in PRIVATE_MARKERS if marker in lowered]


@dataclass
class PrivateStudent:
    """Drives the real router as a student in their private chat (what an adapter sends)."""

    router: Router
    clock: Callable[[], datetime]
    platform: Platform
    external_id: str
    chat_id: str

    def _incoming(self, kind: EventKind, **fields: object) -> Incoming:
        return Incoming(
            platform=self.platform, user=Actor(self.external_id, "Zoe"),
            chat=ChatRef(self.chat_id, ChatKind.PRIVATE), kind=kind,
            received_at=self.clock(), **fields,  # type: ignore[arg-type]
        )  # fmt: skip

    async def _sent(self, replies: list[Reply]) -> list[Reply]:
        for number, reply in enumerate(replies, start=1):
            if reply.track:
                await self.router.message_sent(SentMessage(reply.track, str(number), self.clock()))
        return replies

    async def say(self, command: str, *args: str) -> list[Reply]:
        incoming = self._incoming(EventKind.COMMAND, command=command, args=args)
        return await self._sent(await self.router.route(incoming))

    async def click(self, payload: str) -> list[Reply]:
        incoming = self._incoming(EventKind.BUTTON, payload=payload, message_ref="1")
        return await self._sent(await self.router.route(incoming))


def _button(replies: list[Reply], action: str) -> str:
    for reply in replies:
        for button in reply.flat_buttons:
            if button.payload.startswith(f"{action}:"):
                return button.payload
    raise AssertionError(f"no {action} button in {replies}")


async def seed_private_material(
    db: Database, *, platform: Platform, external_id: str, count: int = 6
) -> None:
    """The member's own PDF with `count` questions, in their personal scope only."""
    async with db.session() as session:
        user = await get_or_create_user(session, platform, external_id, "Zoe")
        scope = await personal_scope(session, user)
        material = Material(
            scope_id=scope.id, uploaded_by=user.id, filename=PRIVATE_FILENAME,
            title="Zanzibar notes", sha256="p" * 64, size_bytes=10,
            status=MaterialStatus.READY, pages=4,
        )  # fmt: skip
        session.add(material)
        await session.flush()
        chunk = Chunk(material_id=material.id, ordinal=0, page_start=2, page_end=2,
                      heading="Privheading adrenal", text="Privstem text")  # fmt: skip
        session.add(chunk)
        await session.flush()
        session.add_all(
            Question(
                scope_id=scope.id, material_id=material.id,
                stem=f"Privstem {i}: which adrenal tumour fits case {i}?",
                stem_hash=f"priv-{i}", options=[f"privopt {i}.{k}" for k in range(4)],
                correct_index=0, explanation=f"Privexplain {i}.", topic=PRIVATE_TOPIC,
                difficulty=3, source_chunk_ids=[chunk.id], source_pages=[2],
            )
            for i in range(count)
        )  # fmt: skip


async def study_privately(student: PrivateStudent, *, answers: int = 5) -> None:
    """Answers `answers` questions wrongly (weak topic, cards, history), leaving a quiz open."""
    replies = await student.say("quiz", str(answers + 1))
    for _ in range(answers):
        answer = _button(replies, "ans")
        # The last option shown is wrong unless the key happens to sit there; either way the
        # answer, card and history rows are what matter here.
        replies = await student.click(answer[: answer.rindex(":")] + ":3")
        replies = await student.click(_button(replies, "conf").rsplit(":", 1)[0] + ":1")
    assert any(reply.flat_buttons for reply in replies), "a question is left open"
