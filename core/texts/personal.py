"""What a group sees when an answer is the student's own and goes to their private chat."""

from __future__ import annotations

# The one line a group sees instead of a personal answer.
POINTER = "/{command} is personal, so I answer it in our private chat, not here."
SENT_PRIVATELY = "I sent it to you in our private chat."
# Telegram lets a bot write to a user only after they started a private chat with it.
PRIVATE_CHAT_CLOSED = (
    "I can't message you privately yet. Open a private chat with me, press Start, then send "
    "/{command} here again."
)
# Discord: a server member may refuse direct messages from server members.
DM_CLOSED = (
    "/{command} is personal, and I could not send you a DM. Allow direct messages from "
    "server members (or open a DM with me) and send /{command} there."
)
DM_CLOSED_FOR_GROUP = (
    "I could not send you a DM. Allow direct messages from server members (or open a DM "
    "with me), then send /{command} here again."
)
IN_OUR_DMS = "{text} It is in our DMs: {link}"
