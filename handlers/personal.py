"""What is personal in a group chat, and the deep-link parameter that carries it to private.

In a group Rounds answers only from the group's own scope. A personal command (a student's
progress, reviews, settings, private quiz, deletion) gets a one-line pointer in the group
instead; the adapter turns the pointer's `open_private` parameter into a way to the private
chat (Telegram: a t.me/<bot>?start=<parameter> button; Discord: the command is run in the
student's DMs and the pointer is an ephemeral reply), and the content is produced only there.
"""

from __future__ import annotations

import base64
import binascii
import re

from core.texts import personal as texts

# Commands whose answer is the student's own: never rendered in a group chat.
PERSONAL_COMMANDS = frozenset(
    {"quiz", "review", "skip", "stop", "stats", "weak", "next", "history", "settings",
     "forget_me"}
)  # fmt: skip
# Buttons that act on a student's own study or account: refused when pressed in a group.
PERSONAL_BUTTONS = frozenset({"ans", "conf", "qt", "rv", "fm", "fmno", "set"})
# Only these carry their arguments through a link: anyone can post a link, so one must never
# change a student's settings (`/settings pause`) when they merely open it.
REPLAYED_WITH_ARGS = frozenset({"quiz"})
# Telegram's /start parameter: at most 64 characters of A-Z a-z 0-9 _ -.
MAX_START_PARAMETER = 64
_START_PREFIX = "p-"
_START_ALPHABET = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


def start_parameter(command: str, args: tuple[str, ...] = ()) -> str:
    """`/quiz heart 5` -> a /start parameter that replays it; arguments that do not fit the
    64 characters, or of a command not in REPLAYED_WITH_ARGS, are dropped (the student can
    retype them in the private chat)."""
    if command not in REPLAYED_WITH_ARGS:
        args = ()
    for words in ((command, *args), (command,)):
        raw = " ".join(words).encode()
        encoded = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        parameter = _START_PREFIX + encoded
        if len(parameter) <= MAX_START_PARAMETER:
            return parameter
    raise ValueError(f"command {command!r} does not fit a start parameter")


def parse_start_parameter(parameter: str) -> tuple[str, tuple[str, ...]] | None:
    """The personal command a /start parameter names, or None for anything else."""
    if not parameter.startswith(_START_PREFIX) or not _START_ALPHABET.match(parameter):
        return None
    encoded = parameter.removeprefix(_START_PREFIX)
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    command, *args = raw.split(" ") or [""]
    if command not in PERSONAL_COMMANDS:
        return None  # a link can only ever replay a personal command, nothing else
    if command not in REPLAYED_WITH_ARGS:
        return command, ()
    return command, tuple(arg for arg in args if arg)


def pointer_text(command: str) -> str:
    """The one line a group sees instead of a personal answer."""
    return texts.POINTER.format(command=command)
