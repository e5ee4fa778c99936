"""/forget_me: delete the student and everything Rounds keeps about them, after a confirm button.

What goes and what stays is core.account's contract: everything of the student's own goes
(rows, stored PDFs, vectors, index file, charts, private chat rows); material they shared in
a group chat stays with the group, its link to them cleared.

Buttons: `fm:<user_id>:<issued minute>` confirms (only for that student, for CONFIRM_MINUTES),
`fmno` cancels. Files go once the deletion commits; a rolled-back deletion keeps everything.
"""

from __future__ import annotations

from datetime import UTC, datetime

from core.account import forget_student
from core.buttons import Button, MalformedPayload, decode, encode
from core.errors import RoundsError
from handlers.context import Turn
from handlers.types import Reply, Tone
from storage.repos.users import holdings_of

CONFIRM_MINUTES = 10


class NotYourConfirmation(RoundsError):
    user_message = "This button is not for you. Send /forget_me to delete your own data."


class ConfirmationExpired(RoundsError):
    user_message = "That confirmation has expired. Send /forget_me again if you still want to."


async def forget_me(turn: Turn) -> list[Reply]:
    kept = await holdings_of(turn.session, turn.user.id)
    materials, cards, answers = kept.materials, kept.cards, kept.answers
    minute = _minute(turn.now)
    return [
        Reply(
            "This deletes everything Rounds keeps about you: "
            f"{materials} PDF{'s' if materials != 1 else ''} with their questions, "
            f"{cards} review card{'s' if cards != 1 else ''}, "
            f"{answers} answer{'s' if answers != 1 else ''}, your XP, streak and settings.\n"
            "It cannot be undone.",
            title="Delete everything?",
            tone=Tone.WARNING,
            buttons=(
                (
                    Button("Yes, delete everything", encode("fm", turn.user.id, minute)),
                    Button("Cancel", encode("fmno")),
                ),
            ),
        )
    ]


async def confirm(turn: Turn) -> list[Reply]:
    payload = decode(turn.incoming.payload)
    if len(payload.parts) != 2:
        raise MalformedPayload(reason="fm takes a user id and a minute")
    user_id, issued = payload.int_part(0), payload.int_part(1)
    if user_id != turn.user.id:
        raise NotYourConfirmation()
    if not 0 <= _minute(turn.now) - issued <= CONFIRM_MINUTES:
        raise ConfirmationExpired()
    await _delete_everything(turn)
    # Committed here rather than by the router: the erasure has to reach the disk now (files
    # go on commit; SQLite's WAL is then checkpointed so no old page keeps the student).
    await turn.session.commit()
    await turn.services.db.flush_erasures()
    return [
        Reply(
            "Done. Everything Rounds kept about you is gone. If you write again, you start fresh.",
            title="Deleted",
            tone=Tone.GOOD,
            edit_of=turn.incoming.message_ref,
        )
    ]


async def cancel(turn: Turn) -> list[Reply]:
    if decode(turn.incoming.payload).parts:
        raise MalformedPayload(reason="fmno takes no parts")
    return [Reply("Nothing was deleted.", edit_of=turn.incoming.message_ref)]


async def _delete_everything(turn: Turn) -> None:
    services = turn.services
    await forget_student(
        turn.session,
        turn.user,
        data_dir=services.settings.data_dir,
        indexes=services.indexes,
        files=services.files,
    )


def _minute(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp() // 60)


COMMANDS = {"forget_me": forget_me}
BUTTONS = {"fm": confirm, "fmno": cancel}
