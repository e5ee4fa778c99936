"""The "Report a problem" button on every reveal, and the reasons it asks for.

Buttons: `rp:<q|r>:<token>` (the reveal's button: `q` a private quiz or review item, `r` a
group round question) and `rpw:<q|r>:<token>:<reason>` (one reason button). Both check,
server-side, that the clicking student answered that very question (core.circulation).

Reporting never touches the quiz in progress: the next question was already sent with the
reveal. In a group the reasons and the thanks go to the student's private chat; the group
sees nothing of it (a press there gets only a short notice only the presser sees).
"""

from __future__ import annotations

import logging

from core import circulation
from core.buttons import Button, MalformedPayload, Payload, decode, encode
from core.circulation import REASON_LABELS, ReportSource
from core.texts.reports import REPORT_LABEL
from handlers.context import Services, Turn
from handlers.types import Reply, Tone
from storage.enums import ReportReason
from storage.models import Question, User

log = logging.getLogger(__name__)

PICK_REASON = "What is wrong with this question?"
SENT_PRIVATELY = "I sent the report options to our private chat."
OPEN_PRIVATE_FIRST = (
    "To report it, open a private chat with me and send /start, then press Report again."
)


def report_button(source: ReportSource, token: str) -> Button:
    return Button(REPORT_LABEL, encode("rp", source.value, token))


def reason_reply(source: ReportSource, token: str, stem: str) -> Reply:
    buttons = [
        Button(label, encode("rpw", source.value, token, reason.value))
        for reason, label in REASON_LABELS.items()
    ]
    rows = tuple(tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2))
    return Reply(f"{PICK_REASON}\n\n{_short(stem, 300)}", title="Report a problem", buttons=rows)


async def report_button_pressed(turn: Turn) -> list[Reply]:
    source, token = _source_and_token(decode(turn.incoming.payload), parts=2)
    question = await circulation.reported_question(
        turn.session, user=turn.user, source=source, token=token
    )
    picker = reason_reply(source, token, question.stem)
    if not turn.in_group:
        return [picker]
    # Never in the group: the reasons go to the student's private chat.
    if not await _post_privately(turn.services, turn.user, [picker]):
        return [Reply(OPEN_PRIVATE_FIRST, tone=Tone.WARNING, is_alert=True, ephemeral=True)]
    return [Reply(SENT_PRIVATELY, ephemeral=True)]


async def reason_pressed(turn: Turn) -> list[Reply]:
    payload = decode(turn.incoming.payload)
    source, token = _source_and_token(payload, parts=3)
    try:
        reason = ReportReason(payload.parts[2])
    except ValueError as error:
        raise MalformedPayload(reason="unknown report reason") from error
    question = await circulation.reported_question(
        turn.session, user=turn.user, source=source, token=token
    )
    outcome = await circulation.report(
        turn.session, user=turn.user, question=question, reason=reason, now=turn.now
    )
    for other in outcome.others_to_tell:
        told = await _post_privately(turn.services, other, [_retired_notice(question)])
        if told:
            await circulation.mark_told(turn.session, question, other, turn.now)
    if not outcome.recorded:
        text = "You have reported this question already; one report each counts. Thank you!"
    elif outcome.retired_now:
        text = (
            f"Thank you! Reported as “{REASON_LABELS[reason]}”. Your report retired this "
            "question: it will not be asked again."
        )
    elif outcome.was_retired:
        text = "Thank you! This question was already retired; it will not be asked again."
    else:
        text = (
            f"Thank you! Reported as “{REASON_LABELS[reason]}”. It helps keep the questions right."
        )
    thanks = Reply(text, tone=Tone.GOOD)
    if turn.in_group:
        if await _post_privately(turn.services, turn.user, [thanks]):
            return [Reply("Thanks, your report is in.", ephemeral=True)]
        return [Reply("Thanks, your report is in.", ephemeral=True, is_alert=True)]
    return [Reply(thanks.text, tone=thanks.tone, edit_of=turn.incoming.message_ref)]


def _retired_notice(question: Question) -> Reply:
    return Reply(
        f"A question you reported was retired after students' reports, so it will not be "
        f"asked again. Thank you!\n\n{_short(question.stem, 300)}",
        tone=Tone.GOOD,
    )


async def _post_privately(services: Services, user: User, replies: list[Reply]) -> bool:
    outbox = services.outboxes.get(user.platform)
    if outbox is None or not user.notify_address:
        return False
    try:
        await outbox.post(user.notify_address, replies)
    except Exception:  # a blocked bot or a closed DM: the report itself still counts
        log.warning("private message to user %s failed", user.id, exc_info=True)
        return False
    return True


def _source_and_token(payload: Payload, *, parts: int) -> tuple[ReportSource, str]:
    if len(payload.parts) != parts:
        raise MalformedPayload(reason=f"{payload.action} takes {parts} parts")
    try:
        return ReportSource(payload.parts[0]), payload.parts[1]
    except ValueError as error:
        raise MalformedPayload(reason="unknown report source") from error


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


BUTTONS = {"rp": report_button_pressed, "rpw": reason_pressed}
