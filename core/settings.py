"""Runtime configuration, read from environment variables (and `.env`) only."""

from __future__ import annotations

import logging
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

# Telegram's Bot API refuses getFile above 20 MB, so a larger default would only move the error.
DEFAULT_MAX_UPLOAD_MB = 20
# The arbiter scores an item 1-5 (5 ready for a board-prep student, 4 acceptable with at most
# a cosmetic issue, 3 or less has an item-writing flaw of data/quality/README.md). Only items
# a strict reviewer would accept pass: every listed flaw caps the score at 3.
DEFAULT_ARBITER_THRESHOLD = 4.0
# The arbiter is optional: a slow judge must not hold the student's questions for long.
DEFAULT_ARBITER_TIMEOUT_S = 20.0
DEFAULT_MAX_QUESTIONS_PER_HOUR = 60
DEFAULT_MAX_QUESTIONS_PER_DAY = 300
DEFAULT_MAX_UPLOADS_PER_DAY = 10
DEFAULT_MAX_STORED_MB = 200
DEFAULT_MAX_GENERATION_JOBS = 2
DEFAULT_MAX_LLM_CALLS = 4
# Worker processes for CPU-heavy work: one leaves the other core of a 2-core host to clicks.
DEFAULT_CPU_WORKERS = 1
# A 1,500-page PDF is a whole textbook; one page of text reads in milliseconds.
DEFAULT_MAX_PDF_PAGES = 1500
DEFAULT_PDF_EXTRACT_TIMEOUT_S = 120.0
# OCR reads a scanned page in 5-20 s on two cores: 100 pages is a long handout, 15 minutes
# its ceiling. A phone photo is 12-50 megapixels; more is a decompression bomb.
DEFAULT_MAX_OCR_PAGES = 100
DEFAULT_OCR_TIMEOUT_S = 900.0
DEFAULT_MAX_IMAGE_MEGAPIXELS = 60.0
DEFAULT_APPROVAL_ALERT_MARGIN = 0.15
# One of the ports Telegram delivers webhooks to; behind a proxy any port does.
DEFAULT_WEBHOOK_PORT = 8443


def _env(name: str) -> AliasChoices:
    return AliasChoices(name, name.lower())


class Settings(BaseSettings):
    """Every knob Rounds has; names are a contract shared with tests, docs and deployments."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    data_dir: Path = Field(Path("var"), validation_alias=_env("ROUNDS_DATA_DIR"))
    # A secret: a PostgreSQL URL carries the password (never in repr, dumps or logs).
    database_url_override: SecretStr = Field(
        SecretStr(""), validation_alias=_env("ROUNDS_DATABASE_URL")
    )
    max_upload_mb: int = Field(
        DEFAULT_MAX_UPLOAD_MB, ge=1, validation_alias=_env("ROUNDS_MAX_UPLOAD_MB")
    )
    # Per-student limits (cost control); each message says which one was hit and when it
    # frees up. Windows slide: an hour or a day back from now.
    max_questions_per_hour: int = Field(
        DEFAULT_MAX_QUESTIONS_PER_HOUR,
        ge=0,
        validation_alias=_env("ROUNDS_MAX_QUESTIONS_PER_HOUR"),
    )
    max_questions_per_day: int = Field(
        DEFAULT_MAX_QUESTIONS_PER_DAY, ge=0, validation_alias=_env("ROUNDS_MAX_QUESTIONS_PER_DAY")
    )
    max_uploads_per_day: int = Field(
        DEFAULT_MAX_UPLOADS_PER_DAY, ge=0, validation_alias=_env("ROUNDS_MAX_UPLOADS_PER_DAY")
    )
    max_stored_mb: int = Field(
        DEFAULT_MAX_STORED_MB, ge=1, validation_alias=_env("ROUNDS_MAX_STORED_MB")
    )
    # On PostgreSQL: whether a bot process also works the generation job queue; false leaves
    # it to `python -m bot worker`, so question writing never competes with clicks.
    jobs_in_bot: bool = Field(True, validation_alias=_env("ROUNDS_JOBS_IN_BOT"))
    # Per process: generation jobs running at once (the rest queue) and LLM calls in flight.
    max_generation_jobs: int = Field(
        DEFAULT_MAX_GENERATION_JOBS, ge=1, validation_alias=_env("ROUNDS_MAX_GENERATION_JOBS")
    )
    max_llm_calls: int = Field(
        DEFAULT_MAX_LLM_CALLS, ge=1, validation_alias=_env("ROUNDS_MAX_LLM_CALLS")
    )
    # Worker processes for the offline generator and for reading and embedding uploads (the
    # bot process keeps its GIL for the clicks); 0 runs that work in the bot's own threads.
    cpu_workers: int = Field(
        DEFAULT_CPU_WORKERS, ge=0, validation_alias=_env("ROUNDS_CPU_WORKERS")
    )
    # PDFs: more pages, or a longer read, is refused (a 100,000-page or decompression bomb).
    max_pdf_pages: int = Field(
        DEFAULT_MAX_PDF_PAGES, ge=1, validation_alias=_env("ROUNDS_MAX_PDF_PAGES")
    )
    pdf_extract_timeout_s: float = Field(
        DEFAULT_PDF_EXTRACT_TIMEOUT_S, gt=0, validation_alias=_env("ROUNDS_PDF_EXTRACT_TIMEOUT_S")
    )
    # Scanned pages (OCR) and photos: more pages, a longer read or a larger picture is refused.
    max_ocr_pages: int = Field(
        DEFAULT_MAX_OCR_PAGES, ge=1, validation_alias=_env("ROUNDS_MAX_OCR_PAGES")
    )
    ocr_timeout_s: float = Field(
        DEFAULT_OCR_TIMEOUT_S, gt=0, validation_alias=_env("ROUNDS_OCR_TIMEOUT_S")
    )
    max_image_megapixels: float = Field(
        DEFAULT_MAX_IMAGE_MEGAPIXELS, gt=0, validation_alias=_env("ROUNDS_MAX_IMAGE_MEGAPIXELS")
    )
    # The runs report warns when the last day's approval rate is this many points under
    # the 7-day rate.
    approval_alert_margin: float = Field(
        DEFAULT_APPROVAL_ALERT_MARGIN,
        ge=0,
        le=1,
        validation_alias=_env("ROUNDS_APPROVAL_ALERT_MARGIN"),
    )
    log_level: str = Field("INFO", validation_alias=_env("ROUNDS_LOG_LEVEL"))
    embed_model: str = Field("minilm", validation_alias=_env("ROUNDS_EMBED_MODEL"))
    # Threads the embedding model may use; 0 = all cores but one, so that while a textbook
    # is embedded one core still answers clicks (bench contention: 3 failed clicks -> 0).
    embed_threads: int = Field(0, ge=0, validation_alias=_env("ROUNDS_EMBED_THREADS"))

    llm_model: str = Field("", validation_alias=_env("ROUNDS_LLM_MODEL"))
    llm_timeout_s: float = Field(60.0, gt=0, validation_alias=_env("ROUNDS_LLM_TIMEOUT_S"))
    # "mcq_v2" (default) or "mcq_v1": the file in core/generate/prompts the LLM is asked with.
    prompt_version: Literal["mcq_v1", "mcq_v2"] = Field(
        "mcq_v2", validation_alias=_env("ROUNDS_PROMPT_VERSION")
    )
    # Empty = the generator's own model; "off" = no arbiter (items judged by rules alone).
    arbiter_model: str = Field("", validation_alias=_env("ROUNDS_ARBITER_MODEL"))
    arbiter_threshold: float = Field(
        DEFAULT_ARBITER_THRESHOLD, ge=1, le=5, validation_alias=_env("ROUNDS_ARBITER_THRESHOLD")
    )
    arbiter_timeout_s: float = Field(
        DEFAULT_ARBITER_TIMEOUT_S, gt=0, validation_alias=_env("ROUNDS_ARBITER_TIMEOUT_S")
    )
    openai_api_key: SecretStr | None = Field(None, validation_alias=_env("OPENAI_API_KEY"))
    openai_base_url: str = Field("", validation_alias=_env("OPENAI_BASE_URL"))

    telegram_bot_token: SecretStr | None = Field(None, validation_alias=_env("TELEGRAM_BOT_TOKEN"))
    # The library behind `python -m bot telegram`: python-telegram-bot or aiogram 3.
    telegram_runtime: Literal["ptb", "aiogram"] = Field(
        "ptb", validation_alias=_env("ROUNDS_TELEGRAM_RUNTIME")
    )
    telegram_api_base_url: str = Field(
        "https://api.telegram.org/bot", validation_alias=_env("TELEGRAM_API_BASE_URL")
    )
    telegram_file_base_url: str = Field(
        "https://api.telegram.org/file/bot", validation_alias=_env("TELEGRAM_FILE_BASE_URL")
    )
    telegram_webhook_url: str = Field("", validation_alias=_env("ROUNDS_TELEGRAM_WEBHOOK_URL"))
    telegram_webhook_secret: SecretStr | None = Field(
        None, validation_alias=_env("ROUNDS_TELEGRAM_WEBHOOK_SECRET")
    )
    # host:port the webhook server of this worker listens on; the public URL above sits
    # behind a proxy that spreads the POSTs over the workers.
    telegram_webhook_listen: str = Field(
        f"0.0.0.0:{DEFAULT_WEBHOOK_PORT}", validation_alias=_env("ROUNDS_TELEGRAM_WEBHOOK_LISTEN")
    )

    discord_bot_token: SecretStr | None = Field(None, validation_alias=_env("DISCORD_BOT_TOKEN"))
    discord_api_base_url: str = Field(
        "https://discord.com/api/v10", validation_alias=_env("DISCORD_API_BASE_URL")
    )
    discord_gateway_url: str = Field("", validation_alias=_env("DISCORD_GATEWAY_URL"))
    discord_guild_id: int | None = Field(None, validation_alias=_env("ROUNDS_DISCORD_GUILD_ID"))
    # Sharding: how many shards the bot has in all, and which of them this process connects
    # ("0,1"; empty = all). Unset count = Discord's recommendation.
    discord_shard_count: int | None = Field(
        None, ge=1, validation_alias=_env("ROUNDS_DISCORD_SHARD_COUNT")
    )
    discord_shard_ids_text: str = Field("", validation_alias=_env("ROUNDS_DISCORD_SHARD_IDS"))

    # Telegram sends an album's pictures as separate messages a moment apart: the album is
    # complete (and read as one material) once none has come for this many seconds.
    album_quiet_s: float = Field(1.5, gt=0, le=30, validation_alias=_env("ROUNDS_ALBUM_QUIET_S"))

    # Incoming events per user and per chat: a burst, then a steady rate (0 turns a limit
    # off). A student answering a quiz sends about two events per question, a few seconds
    # apart; a busy study group of a dozen members stays well inside the chat limit. Each
    # admitted event may cost a reply, and Telegram lets a bot send ~30 messages a second
    # in all: a burst well under that keeps one flooder from eating everyone's budget.
    rate_user_burst: int = Field(10, ge=0, validation_alias=_env("ROUNDS_RATE_USER_BURST"))
    rate_user_per_minute: int = Field(
        60, ge=0, validation_alias=_env("ROUNDS_RATE_USER_PER_MINUTE")
    )
    rate_chat_burst: int = Field(30, ge=0, validation_alias=_env("ROUNDS_RATE_CHAT_BURST"))
    rate_chat_per_minute: int = Field(
        120, ge=0, validation_alias=_env("ROUNDS_RATE_CHAT_PER_MINUTE")
    )

    @cached_property
    def database_url(self) -> str:
        """The configured URL, or an SQLite file inside the data dir."""
        override = self.database_url_override
        # model_copy(update=...) skips validation, so a plain string may sit here too.
        raw = override.get_secret_value() if isinstance(override, SecretStr) else override
        if raw:
            return raw
        return f"sqlite+aiosqlite:///{(self.data_dir / 'rounds.db').resolve()}"

    def secret_values(self) -> list[str]:
        """Every secret this configuration holds, for log redaction (longest first)."""
        values = [
            secret.get_secret_value()
            for secret in (
                self.telegram_bot_token,
                self.discord_bot_token,
                self.openai_api_key,
                self.telegram_webhook_secret,
            )
            if secret is not None
        ]
        password = make_url(self.database_url).password if "://" in self.database_url else None
        if password:
            values.append(str(password))
        return sorted({value for value in values if len(value) >= 4}, key=len, reverse=True)

    @property
    def arbiter_model_name(self) -> str:
        """The model the arbiter calls; "" when there is no arbiter (off, or no LLM at all)."""
        name = self.arbiter_model.strip()
        if name.lower() in ("off", "none", "0", "false"):
            return ""
        return name or self.llm_model.strip()

    @property
    def discord_shard_ids(self) -> list[int] | None:
        """ROUNDS_DISCORD_SHARD_IDS as a list; None = every shard of the count."""
        ids = [
            int(part) for part in self.discord_shard_ids_text.replace(" ", "").split(",") if part
        ]
        return ids or None

    @model_validator(mode="after")
    def _shards_fit(self) -> Settings:
        ids = self.discord_shard_ids
        if ids is not None:
            count = self.discord_shard_count
            if count is None:
                raise ValueError("ROUNDS_DISCORD_SHARD_IDS needs ROUNDS_DISCORD_SHARD_COUNT")
            if any(not 0 <= shard < count for shard in ids):
                raise ValueError(
                    "ROUNDS_DISCORD_SHARD_IDS must be below ROUNDS_DISCORD_SHARD_COUNT"
                )
        return self

    @property
    def telegram_webhook_address(self) -> tuple[str, int]:
        """ROUNDS_TELEGRAM_WEBHOOK_LISTEN as (host, port); a bare host listens on 8443."""
        host, colon, port = self.telegram_webhook_listen.strip().rpartition(":")
        if not colon or not port.isdigit():
            return self.telegram_webhook_listen.strip() or "0.0.0.0", DEFAULT_WEBHOOK_PORT
        return host.strip("[]") or "0.0.0.0", int(port)

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def log_level_number(self) -> int:
        return logging.getLevelName(self.log_level.upper()) if self.log_level else logging.INFO
