"""/export: the Anki deck of a chat's questions."""

from __future__ import annotations

NOTHING_TO_EXPORT = (
    "There are no questions to export yet. Send a PDF and /quiz to write some, then /export."
)
NOTHING_ON_TOPIC = (
    "No questions match “{topic}”. Send /topics to see the topics, or /export for all of them."
)
TITLE = "Your Anki deck"
DECK_READY = (
    "{count} question{s}{of_topic}{of_group}. Import it in Anki (File > Import); importing a "
    "later export updates these cards instead of adding copies."
)
