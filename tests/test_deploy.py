"""What a Docker engine would run, checked without one (CI has none): the Dockerfile's
steps, its entry point and healthcheck commands, .dockerignore, and the app manifest."""

from __future__ import annotations

import asyncio
import json
import re
import shlex
import sys
import tomllib
from pathlib import Path

from bot.app import BOT_SCOPES
from bot.runtime import EVENTS_PATH
from tests.conftest import Harness

ROOT = Path(__file__).resolve().parents[1]


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


def test_the_manifest_matches_what_the_bot_asks_for_and_serves() -> None:
    manifest = (ROOT / "slack-app-manifest.yml").read_text()
    bot_scopes = manifest.split("    bot:\n", 1)[1].split("settings:", 1)[0]
    assert tuple(re.findall(r"^\s+- (\S+)$", bot_scopes, re.M)) == BOT_SCOPES
    urls = re.findall(r"(?:url|request_url): (\S+)", manifest)
    assert urls and all(url.endswith(EVENTS_PATH) for url in urls)
    assert "/slack/oauth_redirect" in manifest and "socket_mode_enabled: true" in manifest
