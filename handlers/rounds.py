"""Group rounds in the chat: /round, /leaderboard, /stop_round and the answer buttons.

The timed part (posting, closing, the final board) runs in scheduler/rounds.py; these
handlers start and stop rounds and record answers. Rounds only use the group's own
material (the group scope), never a member's private PDFs.
"""

from __future__ import annotations

from core import limits, round_service, rounds, study
from core.buttons import MalformedPayload, decode
from core.errors import RoundsError
from core.generate import generate
from core.round_service import GroupOnly, Outgoing
from handlers import generation
from handlers.context import Services, Turn
from handlers.types import Reply, Tone
from storage.models import Chat, GenerationRun, User

NO_TIMERS = (
    "Rounds need the timer service, which is not running in this mode. "
    "Run Rounds on Telegram or Discord (python -m bot telegram | discord | all)."
)


class UnknownPeriod(RoundsError):
    user_message = "Use /leaderboard week (the past 7 days) or /leaderboard all."


async def start_round(turn: Turn) -> list[Reply]:
    """`/round [topic] [n] [seconds]`: a countdown now; the timers post the questions."""
    if not turn.in_group:
        raise GroupOnly()
    request = rounds.parse_round_request(turn.incoming.args)
    timers = turn.services.round_timers
    if timers is None:
        return [Reply(NO_TIMERS, tone=Tone.WARNING)]
    if turn.services.jobs is not None:
        missing = await round_service.round_shortfall(
            turn.session, chat=turn.chat, scope_id=turn.scope.id, request=request
        )
        if missing and await study.has_material(turn.session, turn.scope.id):
            return [await _write_then_start(turn, request, missing)]
        top_up = None
    else:
        top_up = _top_up(turn, request.topic)
    started = await round_service.start_round(
        turn.session,
        chat=turn.chat,
        scope_id=turn.scope.id,
        starter=turn.user,
        request=request,
        now=turn.now,
        top_up=top_up,
    )
    timers.wake(started.round.id, started.first_step_at)
    return [Reply(started.text, title="Quiz round")]


async def _write_then_start(turn: Turn, request: rounds.RoundRequest, missing: int) -> Reply:
    """The group lacks questions: they are written in the background, then the round starts.
    The starter's question limit applies (the group's questions cost the same)."""
    allowance = await limits.question_allowance(
        turn.session, user_id=turn.user.id, settings=turn.services.settings, now=turn.now
    )
    if allowance.questions <= 0:
        raise allowance.refusal(now=turn.now)
    wanted = {"topic": request.topic, "questions": request.questions, "seconds": request.seconds}
    return await generation.start(
        turn, topic=request.topic, n=min(missing, allowance.questions), difficulty=3,
        triggered_by="round", follow_up={"round": wanted}, what="the round",
    )  # fmt: skip


async def after_generation(
    services: Services, row: GenerationRun, error: RoundsError | None
) -> list[Reply]:
    """A finished run for a round: the round starts with what the group now has."""
    timers = services.round_timers
    wanted = row.follow_up.get("round", {})
    request = rounds.RoundRequest(
        topic=str(wanted.get("topic", "")),
        questions=int(wanted.get("questions", rounds.DEFAULT_QUESTIONS)),
        seconds=int(wanted.get("seconds", rounds.DEFAULT_SECONDS)),
    )
    if timers is None or row.chat_id is None:
        return []
    async with services.db.session() as session:
        chat = await session.get(Chat, row.chat_id)
        starter = await session.get(User, row.requested_by) if row.requested_by else None
        if chat is None or starter is None:
            return []
        started = await round_service.start_round(
            session, chat=chat, scope_id=row.scope_id, starter=starter, request=request,
            now=services.clock(),
        )  # fmt: skip
    timers.wake(started.round.id, started.first_step_at)
    return [Reply(started.text, title="Quiz round")]


def _top_up(turn: Turn, topic: str) -> round_service.QuestionTopUp | None:
    """Writes `n` more questions into the group scope with the question generator."""
    services = turn.services
    embedder = getattr(services, "embedder", None)
    indexes = getattr(services, "indexes", None)
    if embedder is None or indexes is None:
        return None

    async def top_up(n: int) -> object:
        await turn.incoming.progress("Writing questions for the round…")
        return await generate(
            turn.session,
            scope_id=turn.scope.id,
            topic=topic or None,
            n=n,
            embedder=embedder,
            indexes=indexes,
            settings=services.settings,
            requested_by=turn.user.id,
        )

    return top_up


async def stop_round(turn: Turn) -> list[Reply]:
    """`/stop_round`: the starter or a chat admin ends the round; answers so far count."""
    if not turn.in_group:
        raise GroupOnly()
    # Admin status is the platform's, asked afresh for this command (never a stored flag).
    _, outgoing = await round_service.stop_in_chat(
        turn.session,
        chat=turn.chat,
        user=turn.user,
        is_admin=turn.incoming.user.is_admin,
        now=turn.now,
    )
    return [_reply(message) for message in outgoing]


async def leaderboard(turn: Turn) -> list[Reply]:
    """`/leaderboard [week|all]`: the group's standings (default: the past 7 days)."""
    if not turn.in_group:
        raise GroupOnly("Leaderboards belong to group chats: try /leaderboard in your group.")
    period = (turn.incoming.args[0] if turn.incoming.args else "week").lower()
    if period not in round_service.LEADERBOARD_PERIODS:
        raise UnknownPeriod(reason="unknown leaderboard period")  # never log what was typed
    text = await round_service.leaderboard(
        turn.session, chat=turn.chat, period=period, now=turn.now
    )
    return [Reply(text)]


async def answer(turn: Turn) -> list[Reply]:
    """`ra:<token>:<i>`: a member's answer; the first tap counts, the result comes at close."""
    payload = decode(turn.incoming.payload)
    if len(payload.parts) != 2:
        raise MalformedPayload(reason="round answer needs token and option")
    answered = await round_service.record_answer(
        turn.session,
        token=payload.parts[0],
        shown_index=payload.int_part(1),
        user=turn.user,
        chat=turn.chat,
        now=turn.now,
    )
    # A toast, not an alert: it must not get in the way of the next question.
    return [
        Reply(f"Locked in: {answered.letter}. The answer shows when time is up.", ephemeral=True)
    ]


def _reply(message: Outgoing) -> Reply:
    # A closed question edits its own message in place; the standings are a new message.
    buttons = message.buttons
    if message.is_edit and message.edit_ref:
        return Reply(message.text, edit_of=message.edit_ref, buttons=buttons)
    return Reply(message.text, buttons=buttons)


COMMANDS = {"round": start_round, "stop_round": stop_round, "leaderboard": leaderboard}
BUTTONS = {rounds.ANSWER_ACTION: answer}
