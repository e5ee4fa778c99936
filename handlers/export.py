"""/export [topic]: the chat's questions as an Anki package. In a group the deck of the
group's questions goes to the asking member's private chat, never into the group."""

from __future__ import annotations

from core import anki
from core.texts import export as texts
from handlers.context import Turn
from handlers.types import Reply, Tone


async def export_command(turn: Turn) -> list[Reply]:
    topic = " ".join(word for word in turn.incoming.args if word.strip())
    group_title = (turn.chat.title or "group") if turn.in_group else ""
    exported = await anki.export_scope(
        turn.session, turn.scope, topic=topic, chat_title=group_title,
        directory=anki.exports_dir(turn.services.settings.data_dir, turn.user.id),
    )  # fmt: skip
    if exported is None:
        text = texts.NOTHING_ON_TOPIC.format(topic=topic) if topic else texts.NOTHING_TO_EXPORT
        return [Reply(text, tone=Tone.WARNING)]
    path, count = exported
    text = texts.DECK_READY.format(
        count=count, s="" if count == 1 else "s",
        of_topic=f" on “{topic}”" if topic else "",
        of_group=f" of {group_title}" if group_title else "",
    )  # fmt: skip
    return [Reply(text, title=texts.TITLE, document=path, to_private=turn.in_group)]


COMMANDS = {"export": export_command}
