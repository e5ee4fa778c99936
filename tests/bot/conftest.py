"""Telegram end-to-end modules marked `telegram_runtimes` run every test once per Telegram
library (ROUNDS_TELEGRAM_RUNTIME), against the same fake Bot API with the same assertions."""

from __future__ import annotations

import pytest

from core.settings import Settings
from tests.bot.telegram_harness import TELEGRAM_RUNTIMES


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marked = metafunc.definition.get_closest_marker("telegram_runtimes") is not None
    chosen = any(
        "telegram_runtime" in str(mark.args[0])
        for mark in metafunc.definition.iter_markers("parametrize")
    )  # a test that names its own runtimes (a slow one may not need every combination)
    if marked and not chosen and "telegram_runtime" in metafunc.fixturenames:
        metafunc.parametrize("telegram_runtime", TELEGRAM_RUNTIMES)


@pytest.fixture
def telegram_runtime() -> str:
    """The runtime of an unmarked test: the default."""
    return "ptb"


@pytest.fixture
def settings(settings: Settings, telegram_runtime: str) -> Settings:
    return settings.model_copy(update={"telegram_runtime": telegram_runtime})
