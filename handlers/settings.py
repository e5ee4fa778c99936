"""/settings: reminder time, time zone, reminders on/off, weekly digest, streak nudge, daily
goal, difficulty and the card scheduler — as buttons, or typed: `/settings tz Asia/Kolkata`,
`/settings reminder 7:30`, `/settings goal 20`, `/settings difficulty auto`, `/settings pause`,
`/settings scheduler fsrs`, `/settings retention 0.9`.

Button payloads: `set:<key>[:<value>]`; they change only the clicking student's settings.
"""

from __future__ import annotations

import re
from zoneinfo import available_timezones

from core import study
from core.buttons import Button, MalformedPayload, decode, encode
from core.errors import RoundsError
from core.fsrs_scheduler import MAX_RETENTION, MIN_RETENTION
from core.scheduling import reschedule_all
from handlers.context import Turn
from handlers.types import Reply, Tone
from storage.enums import SchedulerKind
from storage.models import User

GOAL_CHOICES = (5, 10, 20, 30)
MAX_GOAL = 200
USAGE = (
    "Change with the buttons, or type:\n"
    "/settings reminder 7:30  (24-hour, or 7pm)\n"
    "/settings tz Europe/Berlin\n"
    "/settings goal 20\n"
    "/settings difficulty auto  (or 1-5)\n"
    "/settings pause | resume\n"
    "/settings scheduler sm2|fsrs · /settings retention 0.90  (FSRS, 0.80-0.97)\n"
    "/settings digest on|off · /settings nudge on|off"
)
_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$", re.IGNORECASE)
_ON = {"on", "yes", "true", "1"}
_OFF = {"off", "no", "false", "0"}


class BadSetting(RoundsError):
    user_message = "I didn't understand that setting.\n" + USAGE


async def settings_command(turn: Turn) -> list[Reply]:
    args = [a for a in turn.incoming.args if a.strip()]
    if not args:
        return [panel(turn.user)]
    key, values = args[0].lower(), args[1:]
    saved = await _apply_and_reschedule(turn, key, " ".join(values))
    return [panel(turn.user, saved=saved)]


async def settings_button(turn: Turn) -> list[Reply]:
    payload = decode(turn.incoming.payload)
    if not 1 <= len(payload.parts) <= 2:
        raise MalformedPayload(reason="set takes a key and maybe a value")
    key = payload.parts[0]
    value = payload.parts[1] if len(payload.parts) == 2 else ""
    try:
        saved = await _apply_and_reschedule(turn, key, value)
    except BadSetting as error:
        raise MalformedPayload(reason=f"bad settings button {key}") from error
    return [panel(turn.user, saved=saved, edit_of=turn.incoming.message_ref)]


async def _apply_and_reschedule(turn: Turn, key: str, value: str) -> str:
    """`apply`, then, when the scheduler or its retention changed, every card rescheduled by
    replaying the student's attempt log (history itself is never rewritten)."""
    user = turn.user
    before = (user.scheduler, user.desired_retention)
    saved = apply(user, key, value)
    if (user.scheduler, user.desired_retention) != before:
        cards = await reschedule_all(turn.session, user, tz=study.user_zone(user))
        if cards:
            saved += f"; {cards} card{'' if cards == 1 else 's'} rescheduled from your answers"
    return saved


def apply(user: User, key: str, value: str) -> str:
    """Changes one setting of `user`; returns what was saved, for the confirmation line."""
    value = value.strip()
    match key:
        case "tz" | "timezone" | "zone" | "time_zone":
            user.tz = parse_zone(value)
            return f"time zone {user.tz}"
        case "reminder" | "remind" | "time" | "hour" | "rem":
            user.reminder_hour, user.reminder_minute = parse_time(value)
            user.reminders_paused = False
            return f"reminder at {user.reminder_hour:02d}:{user.reminder_minute:02d}"
        case "pause":
            user.reminders_paused = True
            return "reminders paused"
        case "resume":
            user.reminders_paused = False
            return "reminders on"
        case "digest" | "weekly":
            user.weekly_digest = parse_switch(value)
            return f"weekly digest {'on' if user.weekly_digest else 'off'}"
        case "nudge" | "streak":
            user.streak_nudge = parse_switch(value)
            return f"streak nudge {'on' if user.streak_nudge else 'off'}"
        case "goal":
            user.daily_goal = parse_goal(value)
            return f"daily goal {user.daily_goal}"
        case "difficulty" | "diff" | "level":
            user.difficulty = parse_difficulty(value)
            return f"difficulty {user.difficulty or 'adaptive'}"
        case "scheduler" | "algorithm" | "srs":
            user.scheduler = parse_scheduler(value)
            return f"scheduler {SCHEDULER_NAMES[user.scheduler]}"
        case "retention":
            user.desired_retention = parse_retention(value)
            return f"FSRS target retention {user.desired_retention:.0%}"
    raise BadSetting()


def parse_zone(value: str) -> str:
    """An IANA zone name, matched case-insensitively ('asia/kolkata' -> 'Asia/Kolkata')."""
    name = value.strip().replace(" ", "_")
    zones = available_timezones()
    if name in zones:
        return name
    matches = sorted(zone for zone in zones if zone.casefold() == name.casefold())
    if matches:
        return matches[0]
    raise BadSetting(
        f"I don't know the time zone {value!r}. Use an IANA name such as Europe/Berlin, "
        "America/New_York or Asia/Kolkata."
    )


def parse_time(value: str) -> tuple[int, int]:
    match = _TIME.match(value.strip())
    if match:
        hour, minute = int(match[1]), int(match[2] or 0)
        twelve_hour = bool(match[3])
        if twelve_hour and 1 <= hour <= 12:
            hour = hour % 12 + (12 if match[3].lower() == "pm" else 0)
        elif twelve_hour:
            hour = -1  # "13pm"
        if 0 <= hour <= 23 and 0 <= minute <= 59:
            return hour, minute
    raise BadSetting(f"{value!r} is not a time of day. Try /settings reminder 7:30 or 19:00.")


def parse_switch(value: str) -> bool:
    lowered = value.lower()
    if lowered in _ON:
        return True
    if lowered in _OFF:
        return False
    raise BadSetting("Say on or off, e.g. /settings digest on.")


def parse_goal(value: str) -> int:
    if value.isdigit() and 1 <= int(value) <= MAX_GOAL:
        return int(value)
    raise BadSetting(f"A daily goal is a number of questions from 1 to {MAX_GOAL}.")


def parse_difficulty(value: str) -> int | None:
    lowered = value.lower()
    if lowered in {"auto", "adaptive", "a"}:
        return None
    if lowered.isdigit() and 1 <= int(lowered) <= 5:
        return int(lowered)
    raise BadSetting("Difficulty is auto (adapts to you) or a number from 1 (easy) to 5 (hard).")


SCHEDULER_NAMES = {SchedulerKind.SM2: "SM-2", SchedulerKind.FSRS: "FSRS"}


def parse_scheduler(value: str) -> SchedulerKind:
    lowered = value.lower().replace("-", "")
    for kind in SchedulerKind:
        if lowered == kind.value:
            return kind
    raise BadSetting(
        "The scheduler is sm2 (the classic, the default) or fsrs (fewer reviews for the same "
        "recall), e.g. /settings scheduler fsrs. Your answers are kept either way."
    )


def parse_retention(value: str) -> float:
    """A target recall as 0.90 or 90%."""
    text = value.strip().rstrip("%")
    try:
        number = float(text)
    except ValueError:
        number = -1.0
    if number > 1:
        number /= 100  # "90" or "90%"
    if MIN_RETENTION <= number <= MAX_RETENTION:
        return round(number, 3)
    raise BadSetting(
        f"Retention is the share of cards you want to still know when they come back, from "
        f"{MIN_RETENTION:.2f} to {MAX_RETENTION:.2f} (e.g. /settings retention 0.90). Higher "
        "means more reviews."
    )


def panel(user: User, *, saved: str = "", edit_of: str = "") -> Reply:
    """The student's settings with buttons for the common changes."""
    reminders = "paused" if user.reminders_paused else "on"
    difficulty = f"fixed at {user.difficulty}" if user.difficulty else "adaptive"
    lines = [
        f"Daily reminder: {user.reminder_hour:02d}:{user.reminder_minute:02d} ({reminders})",
        f"Time zone: {study.user_zone(user).key}",
        f"Daily goal: {user.daily_goal} questions",
        f"Difficulty: {difficulty}",
        f"Weekly digest: {'on' if user.weekly_digest else 'off'}",
        f"Streak nudge: {'on' if user.streak_nudge else 'off'}",
        f"Scheduler: {SCHEDULER_NAMES[user.scheduler]}"
        + (
            f" (target retention {user.desired_retention:.0%})"
            if user.scheduler is SchedulerKind.FSRS
            else ""
        ),
        "",
        USAGE,
    ]
    if saved:
        lines.insert(0, f"Saved: {saved}.\n")
    toggles = (
        Button("Resume reminders", encode("set", "resume"))
        if user.reminders_paused
        else Button("Pause reminders", encode("set", "pause")),
        Button(
            f"Digest {'off' if user.weekly_digest else 'on'}",
            encode("set", "digest", "off" if user.weekly_digest else "on"),
        ),
        Button(
            f"Nudge {'off' if user.streak_nudge else 'on'}",
            encode("set", "nudge", "off" if user.streak_nudge else "on"),
        ),
    )
    levels = (
        Button("Auto", encode("set", "diff", "auto")),
        *(Button(f"Level {n}", encode("set", "diff", n)) for n in range(1, 6)),
    )
    goals = tuple(Button(f"Goal {n}", encode("set", "goal", n)) for n in GOAL_CHOICES)
    return Reply(
        "\n".join(lines),
        title="Settings",
        tone=Tone.GOOD if saved else Tone.NEUTRAL,
        buttons=(toggles, levels[:3], levels[3:], goals),
        edit_of=edit_of,
    )


COMMANDS = {"settings": settings_command}
BUTTONS = {"set": settings_button}
