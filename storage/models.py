"""The whole schema as SQLAlchemy 2.0 typed declarative models.

ON DELETE choices, deliberately:
- a user, chat or scope going away takes everything it owns with it (CASCADE);
- deleting a material removes its chunks, its questions and, through them, the cards of
  those questions (CASCADE) — a student who deletes a PDF does not want reviews of it;
- attempts are history: they keep their topic and outcome when a question is deleted
  (question_id SET NULL), so streaks, XP and stats never change retroactively.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.enums import (
    AttemptSource,
    CardStatus,
    ChatKind,
    ChunkKind,
    DeliveryKind,
    DeliveryState,
    ItemState,
    MaterialStatus,
    Platform,
    ReportReason,
    RetiredBecause,
    RoundState,
    RunStatus,
    SchedulerKind,
    ScopeKind,
    SessionKind,
    SessionState,
)
from storage.types import UTCDateTime, str_enum, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 (SQLAlchemy reads it as a class attribute)
        datetime: UTCDateTime(),
        dict[str, Any]: sa.JSON(),
        list[Any]: sa.JSON(),
    }


def _fk(target: str, ondelete: str) -> sa.ForeignKey:
    return sa.ForeignKey(target, ondelete=ondelete)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (sa.UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[Platform] = mapped_column(str_enum(Platform))
    external_id: Mapped[str] = mapped_column(sa.String(64))
    display_name: Mapped[str] = mapped_column(sa.String(128), default="")
    # Where reminders go: a Telegram chat id, a Discord DM channel id; empty until known.
    notify_address: Mapped[str] = mapped_column(sa.String(64), default="")
    tz: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    reminder_hour: Mapped[int] = mapped_column(sa.SmallInteger, default=19)
    reminder_minute: Mapped[int] = mapped_column(sa.SmallInteger, default=0)
    reminders_paused: Mapped[bool] = mapped_column(default=False)
    weekly_digest: Mapped[bool] = mapped_column(default=False)
    streak_nudge: Mapped[bool] = mapped_column(default=False)
    unreachable: Mapped[bool] = mapped_column(default=False)
    daily_goal: Mapped[int] = mapped_column(sa.SmallInteger, default=10)
    # None = adaptive; 1-5 pins the difficulty of new questions.
    difficulty: Mapped[int | None] = mapped_column(sa.SmallInteger, default=None)
    xp: Mapped[int] = mapped_column(default=0)
    level: Mapped[int] = mapped_column(sa.SmallInteger, default=1)
    streak: Mapped[int] = mapped_column(default=0)
    best_streak: Mapped[int] = mapped_column(default=0)
    last_study_day: Mapped[date | None] = mapped_column(sa.Date, default=None)
    # ISO week ("2026-W47") in which the weekly streak freeze was spent, if any.
    freeze_used_week: Mapped[str] = mapped_column(sa.String(10), default="")
    # The student's card scheduler (/settings scheduler) and FSRS's target recall.
    scheduler: Mapped[SchedulerKind] = mapped_column(
        str_enum(SchedulerKind), default=SchedulerKind.SM2, server_default="sm2"
    )
    desired_retention: Mapped[float] = mapped_column(default=0.9, server_default="0.9")
    # FSRS parameters fitted from this student's own reviews (None = the package defaults),
    # and how many reviews the fit saw.
    fsrs_parameters: Mapped[list[Any] | None] = mapped_column(sa.JSON(), default=None)
    fsrs_fitted_reviews: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Chat(Base):
    __tablename__ = "chats"
    __table_args__ = (sa.UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[Platform] = mapped_column(str_enum(Platform))
    external_id: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[ChatKind] = mapped_column(str_enum(ChatKind))
    title: Mapped[str] = mapped_column(sa.String(256), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Membership(Base):
    __tablename__ = "memberships"

    user_id: Mapped[int] = mapped_column(_fk("users.id", "CASCADE"), primary_key=True)
    chat_id: Mapped[int] = mapped_column(_fk("chats.id", "CASCADE"), primary_key=True)
    is_admin: Mapped[bool] = mapped_column(default=False)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)


class Scope(Base):
    """Whose material and questions: one student (user_id) or one group chat (chat_id)."""

    __tablename__ = "scopes"
    __table_args__ = (
        sa.CheckConstraint("(user_id IS NULL) <> (chat_id IS NULL)", name="exactly_one_owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ScopeKind] = mapped_column(str_enum(ScopeKind))
    user_id: Mapped[int | None] = mapped_column(_fk("users.id", "CASCADE"), unique=True)
    chat_id: Mapped[int | None] = mapped_column(_fk("chats.id", "CASCADE"), unique=True)
    # Bumped on every change to the scope's chunks; a process whose cached FAISS index has
    # an older version rebuilds it from the stored embeddings.
    index_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Material(Base):
    __tablename__ = "materials"
    __table_args__ = (sa.UniqueConstraint("scope_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope_id: Mapped[int] = mapped_column(_fk("scopes.id", "CASCADE"), index=True)
    uploaded_by: Mapped[int | None] = mapped_column(_fk("users.id", "SET NULL"))
    filename: Mapped[str] = mapped_column(sa.String(255))
    title: Mapped[str] = mapped_column(sa.String(255), default="")
    sha256: Mapped[str] = mapped_column(sa.String(64))
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    status: Mapped[MaterialStatus] = mapped_column(
        str_enum(MaterialStatus), default=MaterialStatus.PROCESSING
    )
    pages: Mapped[int] = mapped_column(default=0)
    chunk_count: Mapped[int] = mapped_column(default=0)
    # Storage-relative path of the uploaded file inside the data dir.
    file_path: Mapped[str] = mapped_column(sa.String(512), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    chunks: Mapped[list[Chunk]] = relationship(
        back_populates="material", cascade="all, delete-orphan", passive_deletes=True
    )


class Chunk(Base):
    __tablename__ = "chunks"
    __table_args__ = (sa.UniqueConstraint("material_id", "ordinal"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    material_id: Mapped[int] = mapped_column(_fk("materials.id", "CASCADE"), index=True)
    ordinal: Mapped[int] = mapped_column()
    page_start: Mapped[int] = mapped_column()
    page_end: Mapped[int] = mapped_column()
    heading: Mapped[str] = mapped_column(sa.String(255), default="")
    kind: Mapped[ChunkKind] = mapped_column(str_enum(ChunkKind), default=ChunkKind.BODY)
    text: Mapped[str] = mapped_column(sa.Text)
    # float32 little-endian bytes: the system of record the FAISS cache is rebuilt from.
    embedding: Mapped[bytes | None] = mapped_column(sa.LargeBinary, default=None)

    material: Mapped[Material] = relationship(back_populates="chunks")


class GenerationRun(Base):
    __tablename__ = "generation_runs"
    __table_args__ = (
        sa.Index("ix_generation_runs_requested_by_created", "requested_by", "created_at"),
        sa.Index("ix_generation_runs_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scope_id: Mapped[int] = mapped_column(_fk("scopes.id", "CASCADE"), index=True)
    material_id: Mapped[int | None] = mapped_column(_fk("materials.id", "SET NULL"))
    requested_by: Mapped[int | None] = mapped_column(_fk("users.id", "SET NULL"))
    topic: Mapped[str] = mapped_column(sa.String(255), default="")
    difficulty: Mapped[int] = mapped_column(sa.SmallInteger, default=3)
    status: Mapped[RunStatus] = mapped_column(str_enum(RunStatus), default=RunStatus.RUNNING)
    generator: Mapped[str] = mapped_column(sa.String(32), default="")
    provider: Mapped[str] = mapped_column(sa.String(64), default="")
    model: Mapped[str] = mapped_column(sa.String(128), default="")
    prompt_version: Mapped[str] = mapped_column(sa.String(64), default="")
    requested: Mapped[int] = mapped_column(default=0)
    generated: Mapped[int] = mapped_column(default=0)
    parse_failures: Mapped[int] = mapped_column(default=0)
    # {"rule_name": count} for every validation rule that rejected at least one item.
    rejected_by_rule: Mapped[dict[str, Any]] = mapped_column(default=dict)
    exact_duplicates: Mapped[int] = mapped_column(default=0)
    semantic_duplicates: Mapped[int] = mapped_column(default=0)
    inserted: Mapped[int] = mapped_column(default=0)
    api_calls: Mapped[int] = mapped_column(default=0)
    duration_ms: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(sa.Text, default="")
    # The LLM arbiter that judged this run's items ("" / None when none did): its rejections
    # are counted in rejected_by_rule as "arbiter" and "arbiter:<flaw code>".
    arbiter_model: Mapped[str] = mapped_column(sa.String(128), default="", server_default="")
    arbiter_prompt_version: Mapped[str] = mapped_column(
        sa.String(64), default="", server_default=""
    )
    arbiter_threshold: Mapped[float | None] = mapped_column(default=None)
    arbiter_judged: Mapped[int] = mapped_column(default=0, server_default="0")
    # Why some items were judged by the rules alone (a time-out, an unreadable verdict).
    arbiter_error: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)
    # What asked for the questions: quiz, round, review or bank (the runs report groups by it).
    triggered_by: Mapped[str] = mapped_column(sa.String(16), default="")
    # A background run reports to this chat, editing its status message (status_ref).
    chat_id: Mapped[int | None] = mapped_column(_fk("chats.id", "SET NULL"))
    status_ref: Mapped[str] = mapped_column(sa.String(64), default="")
    # The process running it and when that process last said it was alive: a `running` run
    # whose heartbeat is stale was left by a dead process (core/generation_jobs.py).
    worker: Mapped[str] = mapped_column(sa.String(64), default="")
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)
    # What to do with the questions once written, e.g. {"quiz": 10, "exact_topic": false}.
    follow_up: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Question(Base):
    __tablename__ = "questions"
    __table_args__ = (
        sa.UniqueConstraint("scope_id", "stem_hash"),
        sa.Index("ix_questions_scope_topic", "scope_id", "topic"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scope_id: Mapped[int] = mapped_column(_fk("scopes.id", "CASCADE"))
    material_id: Mapped[int | None] = mapped_column(_fk("materials.id", "CASCADE"), index=True)
    run_id: Mapped[int | None] = mapped_column(_fk("generation_runs.id", "SET NULL"))
    stem: Mapped[str] = mapped_column(sa.Text)
    # Normalised-stem hash: exact duplicates are refused by the database itself.
    stem_hash: Mapped[str] = mapped_column(sa.String(64))
    options: Mapped[list[Any]] = mapped_column()
    correct_index: Mapped[int] = mapped_column(sa.SmallInteger)
    explanation: Mapped[str] = mapped_column(sa.Text, default="")
    topic: Mapped[str] = mapped_column(sa.String(255), default="")
    difficulty: Mapped[int] = mapped_column(sa.SmallInteger, default=3)
    source_chunk_ids: Mapped[list[Any]] = mapped_column(default=list)
    source_pages: Mapped[list[Any]] = mapped_column(default=list)
    prompt_version: Mapped[str] = mapped_column(sa.String(64), default="")
    model: Mapped[str] = mapped_column(sa.String(128), default="")
    quality: Mapped[float | None] = mapped_column(default=None)
    flags: Mapped[list[Any]] = mapped_column(default=list)
    times_answered: Mapped[int] = mapped_column(default=0)
    times_correct: Mapped[int] = mapped_column(default=0)
    # 1-5 from how students actually did (core/quality.py), once enough of them answered;
    # `difficulty` stays the generator's prediction, so the two can be compared.
    observed_difficulty: Mapped[float | None] = mapped_column(default=None)
    # Out of circulation (never posed again, cards suspended) since then, and why.
    retired_at: Mapped[datetime | None] = mapped_column(default=None)
    retired_because: Mapped[RetiredBecause | None] = mapped_column(
        str_enum(RetiredBecause), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class QuestionReport(Base):
    """One student's "Report a problem" on one question (at most one each)."""

    __tablename__ = "question_reports"
    __table_args__ = (sa.UniqueConstraint("question_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(_fk("questions.id", "CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(_fk("users.id", "CASCADE"))
    reason: Mapped[ReportReason] = mapped_column(str_enum(ReportReason))
    created_at: Mapped[datetime] = mapped_column()
    # When the reporter heard that the question was retired (they are told once).
    told_retired_at: Mapped[datetime | None] = mapped_column(default=None)


class Card(Base):
    """One student's SM-2 state for one question."""

    __tablename__ = "cards"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "question_id"),
        sa.Index("ix_cards_user_due", "user_id", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(_fk("users.id", "CASCADE"))
    question_id: Mapped[int] = mapped_column(_fk("questions.id", "CASCADE"), index=True)
    ease_factor: Mapped[float] = mapped_column(default=2.5)
    interval_days: Mapped[int] = mapped_column(default=0)
    repetitions: Mapped[int] = mapped_column(default=0)
    lapses: Mapped[int] = mapped_column(default=0)
    status: Mapped[CardStatus] = mapped_column(str_enum(CardStatus), default=CardStatus.NEW)
    due_at: Mapped[datetime] = mapped_column()
    last_reviewed_at: Mapped[datetime | None] = mapped_column(default=None)
    # FSRS's memory state; None until FSRS schedules the card.
    stability: Mapped[float | None] = mapped_column(default=None)
    difficulty: Mapped[float | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class QuizSession(Base):
    """A private quiz or review in progress; its rows are the live state (no Redis)."""

    __tablename__ = "quiz_sessions"
    __table_args__ = (sa.Index("ix_quiz_sessions_user_state", "user_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(_fk("users.id", "CASCADE"))
    chat_id: Mapped[int | None] = mapped_column(_fk("chats.id", "SET NULL"))
    scope_id: Mapped[int] = mapped_column(_fk("scopes.id", "CASCADE"))
    kind: Mapped[SessionKind] = mapped_column(str_enum(SessionKind))
    state: Mapped[SessionState] = mapped_column(
        str_enum(SessionState), default=SessionState.ACTIVE
    )
    topic: Mapped[str] = mapped_column(sa.String(255), default="")
    # The ordered plan of question ids; `position` is the index of the current one.
    plan: Mapped[list[Any]] = mapped_column(default=list)
    position: Mapped[int] = mapped_column(default=0)
    correct: Mapped[int] = mapped_column(default=0)
    answered: Mapped[int] = mapped_column(default=0)
    xp_gained: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class QuizItem(Base):
    """One question as shown to one student; its token is what the buttons carry."""

    __tablename__ = "quiz_items"
    __table_args__ = (sa.UniqueConstraint("session_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(_fk("quiz_sessions.id", "CASCADE"))
    question_id: Mapped[int | None] = mapped_column(_fk("questions.id", "SET NULL"))
    position: Mapped[int] = mapped_column()
    token: Mapped[str] = mapped_column(sa.String(24), unique=True)
    state: Mapped[ItemState] = mapped_column(str_enum(ItemState), default=ItemState.ASKED)
    # The option order as shown (indexes into the question's options).
    option_order: Mapped[list[Any]] = mapped_column(default=list)
    message_ref: Mapped[str] = mapped_column(sa.String(64), default="")
    sent_at: Mapped[datetime] = mapped_column()
    choice: Mapped[int | None] = mapped_column(sa.SmallInteger, default=None)
    time_ms: Mapped[int | None] = mapped_column(default=None)
    answered_at: Mapped[datetime | None] = mapped_column(default=None)


class Attempt(Base):
    """Append-only log of answers; the repository offers no update or delete of one row."""

    __tablename__ = "attempts"
    __table_args__ = (sa.Index("ix_attempts_user_answered", "user_id", "answered_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(_fk("users.id", "CASCADE"))
    question_id: Mapped[int | None] = mapped_column(_fk("questions.id", "SET NULL"), index=True)
    session_id: Mapped[int | None] = mapped_column(_fk("quiz_sessions.id", "SET NULL"))
    round_id: Mapped[int | None] = mapped_column(_fk("group_rounds.id", "SET NULL"))
    source: Mapped[AttemptSource] = mapped_column(str_enum(AttemptSource))
    topic: Mapped[str] = mapped_column(sa.String(255), default="")
    difficulty: Mapped[int] = mapped_column(sa.SmallInteger, default=3)
    choice: Mapped[int] = mapped_column(sa.SmallInteger)
    correct: Mapped[bool] = mapped_column()
    confidence: Mapped[int | None] = mapped_column(sa.SmallInteger, default=None)
    time_ms: Mapped[int] = mapped_column()
    quality: Mapped[int] = mapped_column(sa.SmallInteger)
    xp: Mapped[int] = mapped_column(default=0)
    answered_at: Mapped[datetime] = mapped_column()
    # The scheduler that judged this answer, the days since the card's previous review and
    # the recall it predicted for them (None on a first sighting): the retention panel.
    scheduler: Mapped[SchedulerKind | None] = mapped_column(str_enum(SchedulerKind), default=None)
    elapsed_days: Mapped[float | None] = mapped_column(default=None)
    predicted_recall: Mapped[float | None] = mapped_column(default=None)


class GroupRound(Base):
    __tablename__ = "group_rounds"
    __table_args__ = (sa.Index("ix_group_rounds_chat_state", "chat_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(_fk("chats.id", "CASCADE"))
    scope_id: Mapped[int] = mapped_column(_fk("scopes.id", "CASCADE"))
    started_by: Mapped[int | None] = mapped_column(_fk("users.id", "SET NULL"))
    topic: Mapped[str] = mapped_column(sa.String(255), default="")
    question_count: Mapped[int] = mapped_column(sa.SmallInteger)
    seconds_per_question: Mapped[int] = mapped_column(sa.SmallInteger)
    state: Mapped[RoundState] = mapped_column(str_enum(RoundState), default=RoundState.COUNTDOWN)
    plan: Mapped[list[Any]] = mapped_column(default=list)
    position: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class RoundItem(Base):
    """One question of a group round as posted in the chat."""

    __tablename__ = "round_items"
    __table_args__ = (sa.UniqueConstraint("round_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(_fk("group_rounds.id", "CASCADE"))
    question_id: Mapped[int | None] = mapped_column(_fk("questions.id", "SET NULL"))
    position: Mapped[int] = mapped_column()
    token: Mapped[str] = mapped_column(sa.String(24), unique=True)
    option_order: Mapped[list[Any]] = mapped_column(default=list)
    message_ref: Mapped[str] = mapped_column(sa.String(64), default="")
    posted_at: Mapped[datetime] = mapped_column()
    closes_at: Mapped[datetime] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column(default=None)


class RoundAnswer(Base):
    __tablename__ = "round_answers"
    __table_args__ = (sa.UniqueConstraint("round_item_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_item_id: Mapped[int] = mapped_column(_fk("round_items.id", "CASCADE"))
    user_id: Mapped[int] = mapped_column(_fk("users.id", "CASCADE"), index=True)
    choice: Mapped[int] = mapped_column(sa.SmallInteger)
    correct: Mapped[bool] = mapped_column()
    time_ms: Mapped[int] = mapped_column()
    score: Mapped[int] = mapped_column(default=0)
    answered_at: Mapped[datetime] = mapped_column()


class Delivery(Base):
    """A push to one user, claimed before sending so a day's reminder goes out once."""

    __tablename__ = "deliveries"
    __table_args__ = (sa.UniqueConstraint("user_id", "kind", "local_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(_fk("users.id", "CASCADE"))
    kind: Mapped[DeliveryKind] = mapped_column(str_enum(DeliveryKind, length=24))
    local_day: Mapped[date] = mapped_column(sa.Date)
    state: Mapped[DeliveryState] = mapped_column(
        str_enum(DeliveryState), default=DeliveryState.CLAIMED
    )
    attempts: Mapped[int] = mapped_column(default=0)
    due_count: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(sa.Text, default="")
    claimed_at: Mapped[datetime] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column(default=None)


class TelegramUpdate(Base):
    """The webhook inbox: an update stored by whichever worker got the POST, processed once,
    in update_id order within its chat (storage/repos/telegram_inbox.py)."""

    __tablename__ = "telegram_updates"
    __table_args__ = (sa.Index("ix_telegram_updates_chat_update", "chat_id", "update_id"),)

    # Telegram's own id: unique, so a redelivered or twice-routed update is stored once.
    update_id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(sa.BigInteger)
    # The Update JSON until it is processed, then dropped: a student's words are not kept.
    payload: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    received_at: Mapped[datetime] = mapped_column()
    claimed_by: Mapped[str] = mapped_column(sa.String(64), default="")
    claimed_until: Mapped[datetime | None] = mapped_column(default=None)
    processed_at: Mapped[datetime | None] = mapped_column(default=None)
