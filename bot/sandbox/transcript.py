"""Render what the Slack API double saw as a conversation a person would read."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#(C[A-Z0-9]+)(?:\|[^>]*)?>")
_DATE = re.compile(r"<!date\^\d+\^[^|>]*\|([^>]*)>")
_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")

Lookup = Callable[[str], str]


def humanise(text: str, user_name: Lookup, channel_name: Lookup) -> str:
    """Turn Slack's mention and date markup into what the Slack client shows."""
    text = _USER.sub(lambda m: "@" + user_name(m.group(1)), text)
    text = _CHANNEL.sub(lambda m: "#" + channel_name(m.group(1)), text)
    text = _DATE.sub(lambda m: m.group(1), text)
    text = _LINK.sub(lambda m: m.group(2), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def render_blocks(blocks: list[dict[str, Any]]) -> list[str]:
    """One or more lines per block, roughly as Slack lays them out."""
    lines: list[str] = []
    for block in blocks:
        lines.extend(_render_block(block))
    return lines


def _render_block(block: dict[str, Any]) -> list[str]:
    kind = block.get("type")
    if kind == "header":
        return [f"▌ {block['text']['text']}"]
    if kind == "section":
        out = [block["text"]["text"]] if block.get("text") else []
        fields = [f["text"].replace("\n", " ") for f in block.get("fields", [])]
        out.extend(f"  {field}" for field in fields)
        return out
    if kind == "context":
        return ["  " + " · ".join(e.get("text", "") for e in block.get("elements", []))]
    if kind == "actions":
        return ["  [" + "] [".join(_control(e) for e in block.get("elements", [])) + "]"]
    if kind == "divider":
        return ["  ────────"]
    if kind == "input":
        return [f"  {block['label']['text']}: ________"]
    return []


def _control(element: dict[str, Any]) -> str:
    if element.get("type") == "button":
        return str(element["text"]["text"])
    placeholder = (element.get("placeholder") or {}).get("text", "")
    initial = element.get("initial_option") or {}
    user = f"<@{element['initial_user']}>" if element.get("initial_user") else None
    shown = (initial.get("text") or {}).get("text") or user or placeholder
    return f"{placeholder or element.get('action_id')}: {shown} ▾"
