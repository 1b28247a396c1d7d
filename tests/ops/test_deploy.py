"""What a Docker engine would run, checked without one (CI has none): the Dockerfile's
steps, its entry point and healthcheck commands, .dockerignore, and the app manifests (one
per mode, each valid by Slack's own manifest schema)."""

from __future__ import annotations

import asyncio
import json
import re
import shlex
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings

from bot.runtime.app import BOT_SCOPES
from bot.runtime.process import EVENTS_PATH
from tests.support.harness import Harness
from tests.support.slack_spec import REFERENCE

ROOT = Path(__file__).resolve().parents[2]
MODES = ("http.yml", "socket-mode.yml")
MANIFESTS = sorted((ROOT / "manifests").iterdir())
MANIFEST_SCHEMA = json.loads((REFERENCE / "manifest-schema-v1.json").read_text())
# Slack tells the app it was removed from a workspace with these (app events: no scope).
UNINSTALL_EVENTS = {"app_uninstalled", "tokens_revoked"}


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    steps = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            steps.append((word.upper(), rest.strip()))
    return steps


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    return steps[last_from:]


def exec_form(argument: str) -> list[str]:
    argument = argument.removeprefix("CMD").strip()
    return list(json.loads(argument)) if argument.startswith("[") else shlex.split(argument)


def test_the_image_runs_amends_serve_as_a_non_root_user() -> None:
    stage = final_stage()
    users = [rest for word, rest in stage if word == "USER"]
    assert users and users[-1] not in ("root", "0"), "the final stage drops root"
    cmd = exec_form(next(rest for word, rest in reversed(stage) if word == "CMD"))
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert cmd == ["amends", "serve"] and scripts["amends"] == "bot.cli:main"
    env = " ".join(rest for word, rest in stage if word == "ENV")
    assert "PORT=3000" in env and "DATABASE_URL=" in env
    assert "EXPOSE" in dict(stage) and dict(stage)["EXPOSE"] == "3000"


def test_every_copied_path_exists_and_the_packages_are_all_copied() -> None:
    copied = set()
    for word, rest in instructions():
        if word == "COPY" and not rest.startswith("--from"):
            *sources, _ = rest.split()
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: no such path"
                copied.add(source)
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    wanted = {pattern.rstrip("*") for pattern in packages["packages"]["find"]["include"]}
    assert wanted <= copied


async def test_the_healthcheck_command_exists_and_reflects_health(harness: Harness) -> None:
    stage = final_stage()
    check = next(rest for word, rest in stage if word == "HEALTHCHECK")
    command = exec_form(check[check.index("CMD") :])
    assert command[0] == "amends"
    healthy = await run_cli(command[1:], harness.runtime.port)
    assert healthy[0] == 0, healthy[2]
    assert json.loads(healthy[1])["ok"] is True
    dead = await run_cli(command[1:], 9)
    assert dead[0] == 1 and "no answer" in dead[2]


async def run_cli(args: list[str], port: int | None) -> tuple[int, str, str]:
    """``amends <args>`` in a child process (the bot keeps serving in this one)."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        env={"PORT": str(port), "PATH": "/usr/bin:/bin"},
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(child.communicate(), 60)
    return int(child.returncode or 0), out.decode(), err.decode()


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".env", ".venv", ".git", "*.db"} <= ignored


def load_manifest(path: Path) -> dict[str, Any]:
    return dict(yaml.safe_load(path.read_text()))


def without_urls(node: Any) -> Any:
    """The manifest with every URL and the Socket Mode switch left out."""
    if isinstance(node, dict):
        dropped = {"url", "request_url", "redirect_urls", "socket_mode_enabled"}
        return {k: without_urls(v) for k, v in node.items() if k not in dropped}
    if isinstance(node, list):
        return [without_urls(item) for item in node]
    return node


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda path: path.name)
def test_every_manifest_is_valid_by_slacks_own_manifest_schema(path: Path) -> None:
    manifest = load_manifest(path)
    assert manifest["_metadata"]["major_version"] == 1, "the schema kept is v1"
    validator = Draft7Validator(MANIFEST_SCHEMA, format_checker=Draft7Validator.FORMAT_CHECKER)
    problems = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(manifest)]
    assert not problems, problems


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda path: path.name)
def test_every_manifest_asks_for_the_bots_scopes_and_hears_of_uninstalls(path: Path) -> None:
    manifest = load_manifest(path)
    assert tuple(manifest["oauth_config"]["scopes"]["bot"]) == BOT_SCOPES
    assert "user" not in manifest["oauth_config"]["scopes"]
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert set(events) >= UNINSTALL_EVENTS
    slacks = {e["name"] for e in json.loads((REFERENCE / "events.json").read_text())}
    assert set(events) <= slacks, "every subscribed event is one Slack lists"


def test_there_is_one_manifest_per_mode_and_they_differ_only_in_how_slack_reaches_us() -> None:
    assert [path.name for path in MANIFESTS] == ["http.yml", "socket-mode.yml"]
    http, socket = (load_manifest(ROOT / "manifests" / name) for name in MODES)
    assert without_urls(http) == without_urls(socket)


def test_the_http_manifest_sends_commands_clicks_and_events_to_the_bots_url() -> None:
    manifest = load_manifest(ROOT / "manifests" / "http.yml")
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is False, "with Socket Mode on Slack ignores URLs"
    urls = [command["url"] for command in manifest["features"]["slash_commands"]]
    urls += [settings["interactivity"]["request_url"]]
    urls += [settings["event_subscriptions"]["request_url"]]
    assert len(urls) == 3 and all(url == f"https://amends.example.com{EVENTS_PATH}" for url in urls)
    bolt = AsyncOAuthSettings(client_id="1.2", client_secret="s", scopes=list(BOT_SCOPES))
    redirect = f"https://amends.example.com{bolt.redirect_uri_path}"
    assert manifest["oauth_config"]["redirect_urls"] == [redirect]


def test_the_socket_mode_manifest_turns_socket_mode_on_and_names_no_url() -> None:
    manifest = load_manifest(ROOT / "manifests" / "socket-mode.yml")
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert "://" not in json.dumps(manifest), "Slack reaches a Socket Mode app by no URL"
