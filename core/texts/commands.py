"""What Rounds says about itself: the welcome, the command menu of /help and platform
menus, and the replies when a command is unknown or something broke."""

from __future__ import annotations

WELCOME = (
    "Hi {name}! I'm Rounds, your study tutor.\n"
    "1. Send me a PDF of your notes or a textbook chapter.\n"
    "2. /quiz turns it into board-style questions that cite the page they came from.\n"
    "3. Tell me how sure you were; I schedule each question for review by spaced repetition "
    "and remind you when it's due.\n"
    "Send /help for every command."
)
WELCOME_TITLE = "Welcome to Rounds"
HELP_TITLE = "What I can do"

# Every command Rounds knows, in menu order, with the line /help and platform menus show.
COMMAND_CATALOGUE: tuple[tuple[str, str], ...] = (
    ("start", "Welcome and how Rounds works"),
    ("help", "What you can ask me"),
    ("upload", "Add a PDF (or just send one)"),
    ("materials", "Your PDFs: status, pages, questions"),
    ("topics", "Topics in your material"),
    ("quiz", "Quiz me: /quiz [topic] [n]"),
    ("review", "Review the cards due now"),
    ("skip", "Skip this question"),
    ("stop", "End the current quiz"),
    ("stats", "Progress, streak and XP"),
    ("weak", "Your weakest topics"),
    ("next", "What to study next"),
    ("history", "Your last answers"),
    ("bank", "Your questions: /bank [words]"),
    ("export", "Your questions as an Anki deck: /export [topic]"),
    ("settings", "Reminder time, time zone, goal, difficulty"),
    ("round", "Group quiz round: /round [topic] [n] [seconds]"),
    ("leaderboard", "Group standings: /leaderboard [week|all]"),
    ("stop_round", "Stop the group round"),
    ("forget_me", "Delete everything Rounds keeps about you"),
)

GENERIC_FAILURE = "Sorry, something went wrong on my side. Nothing was lost; please try again."
UNKNOWN_COMMAND = "I don't know /{command}. Send /help to see what I can do."
CANNOT_READ_DOCUMENTS = "I can't read documents yet."
SEE_HELP = "Send /help to see what I can do."
