"""Slack's published method specs (../shared/slack/methods), for checking outgoing calls."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any


def _find_shared() -> Path:
    """``shared/slack`` beside the checkout (or AMENDS_SLACK_SHARED)."""
    if os.environ.get("AMENDS_SLACK_SHARED"):
        return Path(os.environ["AMENDS_SLACK_SHARED"])
    for parent in Path(__file__).resolve().parents[1:]:
        candidate = parent / "shared" / "slack"
        if (candidate / "methods").is_dir():
            return candidate
    raise RuntimeError(
        "Slack's specs (shared/slack) are not beside this checkout; "
        "set AMENDS_SLACK_SHARED to their folder"
    )


SHARED = _find_shared()


@cache
def method_spec(method: str) -> dict[str, Any]:
    path = SHARED / "methods" / f"{method}.json"
    assert path.exists(), f"{method} is not a Slack Web API method in {SHARED}"
    return dict(json.loads(path.read_text()))


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
