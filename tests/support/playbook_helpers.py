"""A valid playbook to start each test from, and a way to write playbooks to a directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def playbook(**changes: Any) -> dict[str, Any]:
    """A clean Czech playbook; ``changes`` replace its fields."""
    data: dict[str, Any] = {
        "name": "Card payments failing",
        "summary": "Customers cannot pay by card",
        "keywords": ["payment", "card"],
        "severity": "SEV1",
        "cadence": "20m",
        "language": "cs",
        "owner": "U0123ABCD",
        "review_by": "2027-03-01",
        "steps": ["Freeze payment deploys", "Page the payments on-call"],
        "compensation": "One month of service credit",
        "templates": {
            "cs": {
                "investigating": "Omlouváme se: od {started} u některých z vás neprocházejí "
                "platby kartou. Další zprávu pošleme do {next_update}.",
                "resolved": "Platby kartou znovu fungují. Omlouváme se za výpadek od {started}.",
            }
        },
    }
    data.update(changes)
    return data


def write(directory: Path, name: str, data: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
