"""The deep-link parameter that carries a personal command from a group to the private chat."""

from __future__ import annotations

import base64
import re

from handlers.personal import MAX_START_PARAMETER, parse_start_parameter, start_parameter


def _crafted(text: str) -> str:
    return "p-" + base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_a_personal_command_round_trips_within_telegrams_limits() -> None:
    for command, args in (("quiz", ("heart", "valves", "5")), ("history", ()), ("forget_me", ())):
        parameter = start_parameter(command, args)
        assert len(parameter) <= MAX_START_PARAMETER
        assert re.fullmatch(r"[A-Za-z0-9_\-]+", parameter)
        assert parse_start_parameter(parameter) == (command, args)


def test_arguments_that_do_not_fit_are_dropped() -> None:
    parameter = start_parameter("quiz", ("cardiovascular",) * 10)
    assert parse_start_parameter(parameter) == ("quiz", ())


def test_a_link_replays_only_personal_commands_and_never_a_settings_change() -> None:
    assert parse_start_parameter(_crafted("round heart 5")) is None
    assert parse_start_parameter(_crafted("settings pause")) == ("settings", ())
    assert parse_start_parameter(start_parameter("settings", ("pause",))) == ("settings", ())
    for junk in ("", "p-", "p-!!!", "hello", "p-" + "A" * 70):
        assert parse_start_parameter(junk) is None
