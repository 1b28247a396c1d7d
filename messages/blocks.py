"""Tiny Block Kit helpers that keep every field inside Slack's limits.

Slack rejects a whole message (``invalid_blocks``) when one field is a character too long,
so every helper cuts its input to the documented limit instead of trusting the caller.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

Block = dict[str, Any]

HEADER_MAX = 150
SECTION_MAX = 3000
FIELD_MAX = 2000
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
OPTION_TEXT_MAX = 75
OPTION_VALUE_MAX = 150
PLACEHOLDER_MAX = 150
ID_MAX = 255
FIELDS_PER_SECTION = 10
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
SELECT_OPTIONS = 100

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in … when something was cut."""
    if len(text) <= limit:
        return text
    if limit <= 0:
        return ""
    return text[: limit - 1] + "…"


def escape(text: str) -> str:
    """Escape user text for mrkdwn so it can never become a mention, link or broadcast."""
    return "".join(_ESCAPES.get(char, char) for char in text)


def escape_within(text: str, limit: int) -> str:
    """``escape(text)`` in at most ``limit`` characters, never cutting an entity in half.

    Escaping can grow a text five-fold (``&`` → ``&amp;``), so cutting after escaping could
    leave a dangling ``&am`` and cutting before could still overflow.
    """
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    if limit <= 0:
        return ""
    kept: list[str] = []
    used = 0
    for char in text:
        piece = _ESCAPES.get(char, char)
        if used + len(piece) > limit - 1:
            break
        kept.append(piece)
        used += len(piece)
    return "".join(kept) + "…"


def mention(user_id: str | None) -> str:
    """``<@U123>`` for a user id, or an italic *unassigned* when nobody holds it."""
    return f"<@{user_id}>" if user_id else "_unassigned_"


def channel_link(channel_id: str | None) -> str:
    """``<#C123>`` for a channel id; a plain note when the channel is not created yet."""
    return f"<#{channel_id}>" if channel_id else "_no channel yet_"


def plain(text: str, limit: int = SECTION_MAX, *, emoji: bool = True) -> Block:
    """A plain_text object; Slack rejects empty text, so an empty string becomes a space."""
    return {"type": "plain_text", "text": truncate(text, limit) or " ", "emoji": emoji}


def mrkdwn(text: str, limit: int = SECTION_MAX) -> Block:
    return {"type": "mrkdwn", "text": truncate(text, limit) or " "}


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text, HEADER_MAX)}


def section(
    text: str | None = None,
    *,
    fields: list[str] | None = None,
    block_id: str | None = None,
    accessory: Block | None = None,
) -> Block:
    """A section with mrkdwn text and/or up to 10 fields (Slack needs one of the two)."""
    block: Block = {"type": "section"}
    if text is not None or not fields:
        block["text"] = mrkdwn(text or "")
    if fields:
        block["fields"] = [mrkdwn(f, FIELD_MAX) for f in fields[:FIELDS_PER_SECTION]]
    if block_id:
        block["block_id"] = block_id[:ID_MAX]
    if accessory:
        block["accessory"] = accessory
    return block


def context(*texts: str) -> Block:
    return {
        "type": "context",
        "elements": [mrkdwn(t, FIELD_MAX) for t in texts[:CONTEXT_ELEMENTS]] or [mrkdwn("")],
    }


def divider() -> Block:
    return {"type": "divider"}


def actions(block_id: str, *elements: Block) -> Block:
    return {
        "type": "actions",
        "block_id": block_id[:ID_MAX],
        "elements": list(elements[:ACTIONS_ELEMENTS]),
    }


def button(text: str, action_id: str, value: str | None = None, style: str | None = None) -> Block:
    """A button; ``style`` is kept only when Slack knows it (``primary`` or ``danger``)."""
    element: Block = {
        "type": "button",
        "text": plain(text, BUTTON_TEXT_MAX),
        "action_id": action_id[:ID_MAX],
    }
    if value is not None:
        element["value"] = value[:BUTTON_VALUE_MAX]
    if style in ("primary", "danger"):
        element["style"] = style
    return element


def option(text: str, value: str) -> Block:
    return {"text": plain(text, OPTION_TEXT_MAX), "value": value[:OPTION_VALUE_MAX]}


def users_select(action_id: str, placeholder: str, initial_user: str | None = None) -> Block:
    element: Block = {
        "type": "users_select",
        "action_id": action_id[:ID_MAX],
        "placeholder": plain(placeholder, PLACEHOLDER_MAX),
    }
    if initial_user:
        element["initial_user"] = initial_user
    return element


def static_select(
    action_id: str, placeholder: str, options: list[Block], initial: Block | None = None
) -> Block:
    """A select of at most 100 options; ``initial`` is kept only if it is one of them."""
    kept = options[:SELECT_OPTIONS]
    element: Block = {
        "type": "static_select",
        "action_id": action_id[:ID_MAX],
        "placeholder": plain(placeholder, PLACEHOLDER_MAX),
        "options": kept,
    }
    if initial is not None and initial in kept:
        element["initial_option"] = initial
    return element


def slack_date(moment: datetime, fmt: str = "{date_short_pretty} {time}") -> str:
    """A date every reader sees in their own time zone; the fallback is UTC.

    A naive ``moment`` is taken as UTC (what the database stores), not as local time.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    fallback = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{fmt}|{fallback}>"
