"""Closed sets the schema stores; values are the strings written to the database."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Platform(StrEnum):
    CONSOLE = "console"
    TELEGRAM = "telegram"
    DISCORD = "discord"


class ChatKind(StrEnum):
    PRIVATE = "private"
    GROUP = "group"


class ScopeKind(StrEnum):
    """Whose material it is: one student's, or one group chat's."""

    USER = "user"
    GROUP = "group"


class MaterialStatus(StrEnum):
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class ChunkKind(StrEnum):
    """What part of a document a chunk is; review questions are never generation sources."""

    BODY = "body"
    KEY_TERMS = "key_terms"
    REVIEW_QUESTIONS = "review_questions"
    SUMMARY = "summary"


class CardStatus(StrEnum):
    NEW = "new"
    LEARNING = "learning"
    REVIEW = "review"
    SUSPENDED = "suspended"


class SchedulerKind(StrEnum):
    """Which algorithm schedules a student's cards."""

    SM2 = "sm2"
    FSRS = "fsrs"


class ReportReason(StrEnum):
    """Why a student reported a question (the reason buttons of "Report a problem")."""

    WRONG_KEY = "key"
    SEVERAL_RIGHT = "multi"
    UNCLEAR = "unclear"
    NOT_IN_MATERIAL = "notmat"
    DUPLICATE = "dup"
    OTHER = "other"


class RetiredBecause(StrEnum):
    """Why a question left circulation (it stays stored: its history and cards remain)."""

    REPORTS = "reports"
    LOW_QUALITY = "quality"
    BY_OWNER = "owner"  # retired by hand from /bank


class Confidence(IntEnum):
    GUESSING = 1
    UNSURE = 2
    FAIRLY_SURE = 3
    SURE = 4
    CERTAIN = 5


class SessionKind(StrEnum):
    QUIZ = "quiz"
    REVIEW = "review"


class SessionState(StrEnum):
    ACTIVE = "active"
    FINISHED = "finished"
    STOPPED = "stopped"


class ItemState(StrEnum):
    """A question shown in a session: asked -> answered (awaiting confidence) -> revealed."""

    ASKED = "asked"
    ANSWERED = "answered"
    REVEALED = "revealed"
    SKIPPED = "skipped"


class AttemptSource(StrEnum):
    QUIZ = "quiz"
    REVIEW = "review"
    ROUND = "round"


class RoundState(StrEnum):
    COUNTDOWN = "countdown"
    RUNNING = "running"
    FINISHED = "finished"
    STOPPED = "stopped"


class DeliveryKind(StrEnum):
    DUE_REVIEWS = "due_reviews"
    WEEKLY_DIGEST = "weekly_digest"
    STREAK_AT_RISK = "streak_at_risk"


class DeliveryState(StrEnum):
    CLAIMED = "claimed"
    SENT = "sent"
    FAILED = "failed"


class RunStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    PARTIAL = "partial"
    FAILED = "failed"
