"""Process-wide logging: secrets are blanked and logged exceptions carry no message text."""

from __future__ import annotations

import io
import logging

from pydantic import SecretStr

from bot.app import SecretRedactor
from core.settings import Settings
from storage.db import Database

TOKEN = "987654:telegram-token-for-the-redactor"
PASSWORD = "Pg-Secret-Pass-77"
DIAGNOSIS = "my secret diagnosis"


def _captured_logger() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        telegram_bot_token=SecretStr(TOKEN),
        database_url_override=SecretStr(f"postgresql+asyncpg://u:{PASSWORD}@h/db"),
    )
    handler.addFilter(SecretRedactor(settings.secret_values()))
    logger = logging.getLogger("rounds.test.redaction")
    logger.handlers, logger.propagate = [handler], False
    return logger, stream


def test_secrets_are_blanked_and_exception_text_is_withheld() -> None:
    logger, stream = _captured_logger()
    logger.warning("calling https://api.telegram.org/bot%s/getMe", TOKEN)
    try:
        try:
            raise ValueError(f"student wrote: {DIAGNOSIS}")
        except ValueError as inner:
            raise RuntimeError(f"failed with {PASSWORD} and {TOKEN}") from inner
    except RuntimeError:
        logger.exception("handler failed")
    text = stream.getvalue()
    assert "<secret>/getMe" in text
    assert TOKEN not in text and PASSWORD not in text
    assert DIAGNOSIS not in text
    assert "builtins.RuntimeError (text withheld)" in text
    assert "builtins.ValueError (text withheld)" in text


async def test_sql_errors_carry_no_parameters(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text as sql
    from sqlalchemy.exc import SQLAlchemyError

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        async with db.session() as session:
            await session.execute(sql("CREATE TABLE t (x INTEGER NOT NULL UNIQUE)"))
            await session.execute(sql("INSERT INTO t VALUES (:x)"), {"x": 424242})
            await session.execute(sql("INSERT INTO t VALUES (:x)"), {"x": 424242})
    except SQLAlchemyError as error:
        assert "424242" not in str(error)
    else:
        raise AssertionError("the duplicate insert should fail")
    finally:
        await db.dispose()
    assert PASSWORD not in repr(Database(f"postgresql+asyncpg://u:{PASSWORD}@h/db"))
