"""Settings come from the environment, with the documented names, and secrets stay secret."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from core.settings import Settings

SECRETS = {
    "TELEGRAM_BOT_TOKEN": "123456:telegram-secret-token",
    "DISCORD_BOT_TOKEN": "discord-secret-token",
    "OPENAI_API_KEY": "sk-openai-secret-key",
}


def test_documented_environment_names_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("ROUNDS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ROUNDS_MAX_UPLOAD_MB", "7")
    monkeypatch.setenv("ROUNDS_LLM_MODEL", "openai:some-model")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://127.0.0.1:9/bot")
    monkeypatch.setenv("TELEGRAM_FILE_BASE_URL", "http://127.0.0.1:9/file/bot")
    monkeypatch.setenv("DISCORD_API_BASE_URL", "http://127.0.0.1:9/api/v10")
    monkeypatch.setenv("DISCORD_GATEWAY_URL", "ws://127.0.0.1:9/gateway")
    monkeypatch.setenv("ROUNDS_LOG_LEVEL", "debug")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.data_dir == tmp_path
    assert settings.max_upload_bytes == 7 * 1024 * 1024
    assert settings.llm_model == "openai:some-model"
    assert settings.openai_base_url == "http://127.0.0.1:9/v1"
    assert settings.telegram_api_base_url.endswith("/bot")
    assert settings.telegram_file_base_url.endswith("/file/bot")
    assert settings.discord_api_base_url.endswith("/api/v10")
    assert settings.discord_gateway_url.startswith("ws://")
    assert settings.log_level_number == logging.DEBUG
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path.resolve() / 'rounds.db'}"


def test_database_url_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROUNDS_DATABASE_URL", "postgresql+asyncpg://u@h/db")
    assert Settings(_env_file=None).database_url == "postgresql+asyncpg://u@h/db"  # type: ignore[call-arg]


def test_defaults_without_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ROUNDS_DATA_DIR", "ROUNDS_MAX_UPLOAD_MB", "ROUNDS_LLM_MODEL", *SECRETS):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.data_dir == Path("var")
    assert settings.max_upload_mb == 20
    assert settings.llm_model == ""
    assert settings.telegram_bot_token is None


def test_the_arbiter_follows_the_llm_model_unless_named_or_switched_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("ROUNDS_ARBITER_MODEL", "ROUNDS_ARBITER_THRESHOLD", "ROUNDS_PROMPT_VERSION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("ROUNDS_LLM_MODEL", raising=False)
    assert Settings(_env_file=None).arbiter_model_name == ""  # type: ignore[call-arg]
    monkeypatch.setenv("ROUNDS_LLM_MODEL", "openai:writer")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (settings.arbiter_model_name, settings.arbiter_threshold) == ("openai:writer", 4.0)
    assert (settings.arbiter_timeout_s, settings.prompt_version) == (20.0, "mcq_v2")
    monkeypatch.setenv("ROUNDS_ARBITER_MODEL", "openai:cheap-judge")
    assert Settings(_env_file=None).arbiter_model_name == "openai:cheap-judge"  # type: ignore[call-arg]
    monkeypatch.setenv("ROUNDS_ARBITER_MODEL", "off")
    assert Settings(_env_file=None).arbiter_model_name == ""  # type: ignore[call-arg]
    monkeypatch.setenv("ROUNDS_ARBITER_THRESHOLD", "6")
    with pytest.raises(ValueError):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_secrets_never_appear_in_repr_str_dump_or_logs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.telegram_bot_token is not None
    assert settings.telegram_bot_token.get_secret_value() == SECRETS["TELEGRAM_BOT_TOKEN"]
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("rounds.test").info("settings: %s / %r", settings, settings)
    rendered = [repr(settings), str(settings), str(settings.model_dump()), caplog.text]
    for text in rendered:
        for secret in SECRETS.values():
            assert secret not in text


def test_the_database_password_never_appears_in_repr_or_dumps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = "postgresql+asyncpg://rounds:Pg-Secret-Pass-77@db.internal:5432/rounds"
    monkeypatch.setenv("ROUNDS_DATABASE_URL", url)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.database_url == url  # what the engine gets
    for text in (repr(settings), str(settings), str(settings.model_dump())):
        assert "Pg-Secret-Pass-77" not in text
    assert "Pg-Secret-Pass-77" in settings.secret_values()  # so log redaction knows it
