"""Named readers over Block Kit: what a person sees in a message or a modal.

Tests read blocks through these instead of positions (``blocks[1]["fields"]``), so a
layout change is one edit here, not many in the tests. Every reader accepts a message or a
view (anything with ``blocks``) or the list of blocks itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

Block = dict[str, Any]
Surface = dict[str, Any] | list[dict[str, Any]]
"""A message or a view (a dict with ``blocks``), or its blocks."""


def blocks_of(surface: Surface) -> list[Block]:
    return list(surface if isinstance(surface, list) else surface.get("blocks") or [])


def _of_type(surface: Surface, kind: str) -> list[Block]:
    return [b for b in blocks_of(surface) if b.get("type") == kind]


def header_title(surface: Surface) -> str:
    """The large title line (the first header block)."""
    headers = _of_type(surface, "header")
    assert headers, "no header block"
    return str(headers[0]["text"]["text"])


def header_fields(surface: Surface) -> list[str]:
    """The two-column facts of a card (severity, status, roles …), in reading order."""
    with_fields = [b for b in _of_type(surface, "section") if b.get("fields")]
    assert with_fields, "no section with fields"
    return [str(f["text"]) for f in with_fields[0]["fields"]]


def section_texts(surface: Surface) -> list[str]:
    """The body text of each section, in order (sections showing only fields are skipped)."""
    return [str(b["text"]["text"]) for b in _of_type(surface, "section") if b.get("text")]


def context_texts(surface: Surface) -> list[str]:
    """The small print: every text in the context blocks, in order."""
    return [str(e["text"]) for b in _of_type(surface, "context") for e in b["elements"]]


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, list):
        for item in node:
            yield from _walk(item)
    elif isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)


def mrkdwn_texts(surface: Surface) -> list[str]:
    """Every mrkdwn text: the only place Slack turns ``<...>`` into mentions and links."""
    return [str(d["text"]) for d in _walk(blocks_of(surface)) if d.get("type") == "mrkdwn"]


def action_rows(surface: Surface) -> list[str]:
    """The block ids of the rows of controls (actions blocks), top to bottom."""
    return [str(b.get("block_id")) for b in _of_type(surface, "actions")]


def action_ids(surface: Surface) -> list[str]:
    """The controls offered in rows of controls (buttons, menus), in reading order."""
    return [str(e["action_id"]) for b in _of_type(surface, "actions") for e in b["elements"]]


def _controls(block: Block) -> list[dict[str, Any]]:
    inner = [block[key] for key in ("accessory", "element") if isinstance(block.get(key), dict)]
    return [*block.get("elements", []), *inner]


def block_holding(surface: Surface, action_id: str) -> Block:
    """The block that holds the control ``action_id`` (a row, a section, an input)."""
    for block in blocks_of(surface):
        if any(c.get("action_id") == action_id for c in _controls(block)):
            return block
    raise AssertionError(f"no control {action_id!r}")


def control(surface: Surface, action_id: str) -> dict[str, Any]:
    """The control (button, menu, picker, input) with ``action_id``, wherever it sits."""
    block = block_holding(surface, action_id)
    return next(c for c in _controls(block) if c.get("action_id") == action_id)


def row_control(surface: Surface) -> dict[str, Any]:
    """The control beside the first line that has one (a checklist row's menu or button)."""
    rows = [b for b in _of_type(surface, "section") if isinstance(b.get("accessory"), dict)]
    assert rows, "no line with a control beside it"
    return dict(rows[0]["accessory"])


def view_input(view: Surface, block_id: str) -> Block:
    """The input block ``block_id`` of a modal (its label, hint and element)."""
    found = [b for b in _of_type(view, "input") if b.get("block_id") == block_id]
    assert found, f"no input {block_id!r}"
    return found[0]


def composer_draft(view: Surface) -> str:
    """The text waiting in a modal's one multi-line text box (the update composer's draft)."""
    boxes = [
        b["element"]
        for b in _of_type(view, "input")
        if b["element"].get("type") == "plain_text_input" and b["element"].get("multiline")
    ]
    assert len(boxes) == 1, f"expected one multi-line text box, found {len(boxes)}"
    return str(boxes[0].get("initial_value", ""))
