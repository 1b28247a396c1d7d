"""Slack's published facts, carried in this repository (tests/slack_reference, whose
SOURCES.md names where each file comes from): method specs for checking outgoing calls and
the double's answers, and payload examples for checking what the driver sends."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

REFERENCE = Path(__file__).resolve().parents[1] / "slack_reference"


@cache
def method_spec(method: str) -> dict[str, Any]:
    """Slack's documented spec of one Web API method (arguments, errors, examples)."""
    path = REFERENCE / "methods" / f"{method}.json"
    assert path.exists(), (
        f"{method}: no spec in {REFERENCE / 'methods'}; copy Slack's (see SOURCES.md there)"
    )
    return dict(json.loads(path.read_text()))


def payload_text(name: str) -> str:
    """A request body exactly as Slack sends it (e.g. a form-encoded slash command)."""
    return (REFERENCE / "payloads" / name).read_text()


def payload_example(name: str) -> dict[str, Any]:
    """A JSON payload example from Slack or its SDKs' test suites."""
    return dict(json.loads(payload_text(name)))


# slack-sdk adds the workspace's team_id to every call made with a per-request client (org-wide
# installs need it), and Slack accepts it on every method.
SDK_ADDED_ARGS = frozenset({"team_id"})


def call_problems(method: str, args: dict[str, Any]) -> list[str]:
    """Arguments the spec does not know, and required ones that are missing."""
    spec = method_spec(method)["args"]
    known = set(spec.get("properties", {})) | SDK_ADDED_ARGS
    problems = [f"{method}: unknown argument {name!r}" for name in args if name not in known]
    problems += [
        f"{method}: missing required {name!r}"
        for name in spec.get("required", [])
        if name != "token" and name not in args
    ]
    return problems
