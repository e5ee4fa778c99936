"""docker-compose.yml, the Dockerfile and deploy/Caddyfile are kept correct by reading (there
is no Docker engine here): every Rounds service runs a real `python -m bot` mode, its
healthcheck a real command, every file it mounts exists, every Rounds variable it sets is a
setting, the proxy forwards the webhook path to the workers' listen port, and the Discord
shards are split with none missing or doubled."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from bot.__main__ import MODES
from core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
# Variables read by something other than Rounds: the postgres image.
FOREIGN_VARIABLES = {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB", "ROUNDS_PUBLIC_HOST"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def _entrypoint() -> list[str]:
    line = next(
        line for line in (ROOT / "Dockerfile").read_text().splitlines()
        if line.startswith("ENTRYPOINT")
    )  # fmt: skip
    entrypoint: list[str] = json.loads(line.removeprefix("ENTRYPOINT"))
    return entrypoint


def _ours(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services built from this repository's Dockerfile."""
    return {name: svc for name, svc in compose["services"].items() if svc.get("build") == "."}


def _expanded(value: object) -> str:
    """A value as compose interpolates it with nothing set: `${X:-default}` -> default."""
    return re.sub(r"\$\{\w+(?::?[-?]([^}]*))?\}", lambda m: m.group(1) or "", str(value))


def _setting_names() -> set[str]:
    names: set[str] = set()
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        names.update(
            str(choice) for choice in getattr(alias, "choices", []) if str(choice).isupper()
        )
    return names


def test_every_rounds_service_runs_a_real_mode_of_the_image(compose: dict[str, Any]) -> None:
    assert _entrypoint() == ["python", "-m", "bot"]
    ours = _ours(compose)
    assert set(ours) == {"bot1", "bot2", "worker"}
    for name, service in ours.items():
        [mode] = service["command"]
        assert mode in MODES and mode != "console", name
    assert {tuple(s["command"]) for s in ours.values()} == {("all",), ("worker",)}


def test_healthchecks_run_real_commands(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        check = service.get("healthcheck")
        if name in _ours(compose):
            test = check["test"]
            assert test[0] == "CMD" and test[1:4] == _entrypoint() and test[4] in MODES
            assert test[4] == "health"
        elif name == "postgres":
            env = service["environment"]
            words = shlex.split(check["test"][1])
            assert words[0] == "pg_isready"
            assert words[words.index("-U") + 1] == env["POSTGRES_USER"]
            assert words[words.index("-d") + 1] == env["POSTGRES_DB"]


def test_mounted_files_and_named_volumes_exist(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    for name, service in compose["services"].items():
        for mount in service.get("volumes", []):
            source = mount.split(":")[0]
            if source.startswith("."):
                assert (ROOT / source).is_file(), f"{name} mounts {source}"
            else:
                assert source in declared, f"{name} uses undeclared volume {source}"
        for needed in service.get("depends_on", []):
            assert needed in compose["services"], f"{name} depends on unknown {needed}"
    for directory in re.findall(r"^COPY (\w+) ", (ROOT / "Dockerfile").read_text(), re.M):
        assert (ROOT / directory).is_dir()


def test_every_variable_set_for_rounds_is_a_setting(compose: dict[str, Any]) -> None:
    known = _setting_names()
    for name, service in _ours(compose).items():
        unknown = set(service["environment"]) - known - FOREIGN_VARIABLES
        assert unknown == set(), f"{name} sets variables Rounds never reads: {unknown}"
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            **{key: _expanded(value) for key, value in service["environment"].items()
               if key in known},
        )  # fmt: skip
        assert settings.database_url.startswith("postgresql+asyncpg://")


def test_the_proxy_sends_the_webhook_path_to_every_bot_workers_listen_port(
    compose: dict[str, Any],
) -> None:
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    upstreams = re.search(r"reverse_proxy ([^{]+)\{", caddyfile)
    path = re.search(r"^\s*path (\S+)", caddyfile, re.M)
    assert upstreams and path
    bots = {name: s for name, s in _ours(compose).items() if s["command"] == ["all"]}
    expected = set()
    for name, service in bots.items():
        env = service["environment"]
        url = (
            env["ROUNDS_TELEGRAM_WEBHOOK_URL"]
            .replace("${ROUNDS_PUBLIC_HOST:-", "")
            .replace("}", "")
        )
        assert url.startswith("https://") and urlsplit(url).path == path.group(1)
        port = env["ROUNDS_TELEGRAM_WEBHOOK_LISTEN"].rpartition(":")[2]
        expected.add(f"{name}:{port}")
    assert set(upstreams.group(1).split()) == expected
    assert "lb_policy round_robin" in caddyfile


def test_the_discord_shards_are_split_between_the_bot_workers(compose: dict[str, Any]) -> None:
    shards: list[int] = []
    counts = set()
    for service in _ours(compose).values():
        env = service["environment"]
        if service["command"] == ["all"]:
            counts.add(int(env["ROUNDS_DISCORD_SHARD_COUNT"]))
            shards += [int(part) for part in str(env["ROUNDS_DISCORD_SHARD_IDS"]).split(",")]
    [count] = counts
    assert sorted(shards) == list(range(count))
