"""Which way the imports point: the house rules of the layout, read from the source.

``bot/runtime/`` wires the process together and may import anything; nothing below it
imports it back. The lifecycle (``bot/incidents/``) speaks neither HTTP nor the process;
``messages/`` are pure builders that may read the rules; ``storage/`` knows only itself.
Every import counts, including those inside functions and ``TYPE_CHECKING`` blocks.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RULE_MODULES = ("bot.incidents.policy",)
"""What ``messages/`` may import from ``bot/``: the rules it renders (statuses, roles)."""


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports (absolute names; the repository uses no relative ones)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def offending(folder: str, forbidden: tuple[str, ...], allowed: tuple[str, ...] = ()) -> list[str]:
    """``file: module`` for each import under ``folder`` of a forbidden package."""
    lines = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for module in sorted(imports_of(path)):
            if module in allowed:
                continue
            if any(module == f or module.startswith(f + ".") for f in forbidden):
                lines.append(f"{path.relative_to(ROOT)}: {module}")
    return lines


def test_the_lifecycle_imports_neither_aiohttp_nor_the_process_wiring() -> None:
    assert offending("bot/incidents", ("aiohttp", "bot.runtime")) == []


def test_slack_plumbing_does_not_import_the_process_wiring() -> None:
    assert offending("bot/slack", ("bot.runtime",)) == []


def test_observability_stands_on_its_own() -> None:
    assert offending("bot/observability", ("bot", "handlers", "storage", "messages")) == []


def test_messages_import_nothing_from_bot_but_the_rules_they_render() -> None:
    assert offending("messages", ("bot", "handlers", "storage"), allowed=RULE_MODULES) == []


def test_storage_imports_nothing_from_bot_or_handlers() -> None:
    assert offending("storage", ("bot", "handlers")) == []


@pytest.mark.parametrize("folder", ["bot/incidents", "bot/slack", "messages", "storage"])
def test_nothing_below_the_handlers_imports_them(folder: str) -> None:
    assert offending(folder, ("handlers",)) == []
