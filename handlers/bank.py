"""/bank [words]: the chat's question bank, paged, searchable, each question open-able, with
delete (after a confirm), retire and restore.

Buttons: `bk:<page>[:<search>]` a page (the search words ride along base64url-encoded, cut
to what fits a Telegram button), `bko:<id>` open one, `bkd:<id>` ask to delete,
`bkdy:<id>` delete, `bkr:<id>` retire, `bks:<id>` restore. Every id is looked up in this
chat's own scope only (core.bank); group changes need the uploader or an admin.
"""

from __future__ import annotations

import base64
import binascii

from core import bank
from core.buttons import Button, MalformedPayload, Payload, decode, encode
from core.study import LETTERS
from handlers.context import Turn
from handlers.types import Reply, Tone

# A search rides in a payload part (at most 32 characters): 24 bytes of base64url.
MAX_SEARCH_BYTES = 24
STEM_CHARS = 90


async def bank_command(turn: Turn) -> list[Reply]:
    """`/bank [words]`: page 1 of the bank, or of the questions matching every word."""
    words = [word for word in turn.incoming.args if word.strip()]
    return [await _page_reply(turn, words, 0)]


async def page_button(turn: Turn) -> list[Reply]:
    payload = decode(turn.incoming.payload)
    if len(payload.parts) not in (1, 2):
        raise MalformedPayload(reason="bk takes a page and maybe a search")
    words = _search_words(payload.parts[1]) if len(payload.parts) == 2 else []
    reply = await _page_reply(turn, words, payload.int_part(0))
    return [_over(turn, reply)]


async def open_button(turn: Turn) -> list[Reply]:
    opened = await bank.opened(
        turn.session, turn.scope, _question_id(decode(turn.incoming.payload)),
        user=turn.user, is_admin=turn.incoming.user.is_admin,
    )  # fmt: skip
    return [_over(turn, _opened_reply(opened))]


async def ask_delete(turn: Turn) -> list[Reply]:
    question_id = _question_id(decode(turn.incoming.payload))
    opened = await bank.opened(
        turn.session, turn.scope, question_id,
        user=turn.user, is_admin=turn.incoming.user.is_admin,
    )  # fmt: skip
    return [
        _over(
            turn,
            Reply(
                f"Delete this question for good? Its review cards go too; answers already "
                f"given stay in everyone's history.\n\n{_short(opened.entry.stem, 300)}",
                tone=Tone.WARNING,
                buttons=(
                    (
                        Button("Yes, delete", encode("bkdy", question_id)),
                        Button("Keep it", encode("bko", question_id)),
                    ),
                ),
            ),
        )
    ]


async def confirm_delete(turn: Turn) -> list[Reply]:
    stem = await bank.delete(
        turn.session, turn.scope, _question_id(decode(turn.incoming.payload)),
        user=turn.user, is_admin=turn.incoming.user.is_admin,
    )  # fmt: skip
    return [
        _over(
            turn,
            Reply(
                f"Deleted: {_short(stem, 120)}",
                buttons=((Button("Back to the bank", encode("bk", 0)),),),
            ),
        )
    ]


async def retire_button(turn: Turn) -> list[Reply]:
    question = await bank.retire(
        turn.session, turn.scope, _question_id(decode(turn.incoming.payload)),
        user=turn.user, is_admin=turn.incoming.user.is_admin, now=turn.now,
    )  # fmt: skip
    opened = await bank.opened(
        turn.session, turn.scope, question.id,
        user=turn.user, is_admin=turn.incoming.user.is_admin,
    )  # fmt: skip
    return [_over(turn, _opened_reply(opened, note="Retired: it will not be asked again."))]


async def restore_button(turn: Turn) -> list[Reply]:
    question = await bank.restore(
        turn.session, turn.scope, _question_id(decode(turn.incoming.payload)),
        user=turn.user, is_admin=turn.incoming.user.is_admin,
    )  # fmt: skip
    opened = await bank.opened(
        turn.session, turn.scope, question.id,
        user=turn.user, is_admin=turn.incoming.user.is_admin,
    )  # fmt: skip
    return [_over(turn, _opened_reply(opened, note="Restored: it is back in your quizzes."))]


# --- rendering -----------------------------------------------------------------------------


async def _page_reply(turn: Turn, words: list[str], number: int) -> Reply:
    shown = await bank.page(turn.session, turn.scope, words=words, number=number)
    whose = "The group's" if turn.in_group else "Your"
    matching = f" matching “{' '.join(words)}”" if words else ""
    if not shown.total:
        empty = f"No questions{matching}." if words else "No questions yet: send /quiz first."
        return Reply(empty, title="Question bank")
    lines = [
        f"{whose} {shown.total} question{'s' if shown.total != 1 else ''}{matching} · page "
        f"{shown.number + 1} of {shown.pages}"
    ]
    first = shown.number * bank.PAGE_SIZE + 1
    for n, entry in enumerate(shown.entries, start=first):
        lines += ["", f"{n}. {_short(entry.stem, STEM_CHARS)}", f"   {_facts(entry)}"]
    opens = tuple(
        Button(f"Open {n}", encode("bko", entry.question_id))
        for n, entry in enumerate(shown.entries, start=first)
    )
    search = _search_part(words)
    nav = []
    if shown.number > 0:
        nav.append(Button("‹ Previous", encode("bk", shown.number - 1, *search)))
    if shown.number + 1 < shown.pages:
        nav.append(Button("Next ›", encode("bk", shown.number + 1, *search)))
    rows = (opens, tuple(nav)) if nav else (opens,)
    return Reply("\n".join(lines), title="Question bank", buttons=rows)


def _facts(entry: bank.Entry) -> str:
    level = f"difficulty {entry.predicted}"
    if entry.observed is not None:
        level += f" (observed {entry.observed:.1f})"
    quality = "quality –" if entry.quality is None else f"quality {entry.quality:.2f}"
    topic = f"{entry.topic} · " if entry.topic else ""
    return f"{topic}{level} · {quality} · answered {entry.answered} · {entry.status}"


def _opened_reply(opened: bank.Opened, *, note: str = "") -> Reply:
    entry = opened.entry
    options = [
        f"{LETTERS[i]}. {text}" + (" ✓" if LETTERS[i] == opened.key_letter else "")
        for i, text in enumerate(opened.options)
    ]
    lines = [entry.stem, "", *options]
    if opened.explanation:
        lines += ["", opened.explanation]
    if opened.source:
        lines.append(f"Source: {opened.source}")
    lines += ["", _facts(entry)]
    if note:
        lines += ["", note]
    toggle = (
        Button("Restore", encode("bks", entry.question_id))
        if opened.retired
        else Button("Retire", encode("bkr", entry.question_id))
    )
    buttons = (
        (Button("Delete", encode("bkd", entry.question_id)), toggle),
        (Button("Back to the bank", encode("bk", 0)),),
    )
    return Reply("\n".join(lines), title="Question", buttons=buttons)


def _over(turn: Turn, reply: Reply) -> Reply:
    """Bank buttons redraw their own message rather than adding new ones."""
    if not turn.incoming.message_ref:
        return reply
    return Reply(reply.text, title=reply.title, tone=reply.tone, buttons=reply.buttons,
                 edit_of=turn.incoming.message_ref)  # fmt: skip


def _search_part(words: list[str]) -> tuple[str, ...]:
    if not words:
        return ()
    raw = " ".join(words).encode()[:MAX_SEARCH_BYTES]
    raw = raw.decode(errors="ignore").encode()  # never cut a character in half
    return (base64.urlsafe_b64encode(raw).decode().rstrip("="),)


def _search_words(part: str) -> list[str]:
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError) as error:
        raise MalformedPayload(reason="bad bank search") from error
    return raw.split()


def _question_id(payload: Payload) -> int:
    if len(payload.parts) != 1:
        raise MalformedPayload(reason=f"{payload.action} takes a question id")
    return payload.int_part(0)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


COMMANDS = {"bank": bank_command}
BUTTONS = {
    "bk": page_button,
    "bko": open_button,
    "bkd": ask_delete,
    "bkdy": confirm_delete,
    "bkr": retire_button,
    "bks": restore_button,
}
