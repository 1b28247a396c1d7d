"""Reading Web API arguments the way Slack does, whatever encoding they arrived in."""

from __future__ import annotations

import json
from typing import Any

from bot.sandbox.double.blockkit import validate_blocks
from bot.sandbox.double.state import Channel, SlackError, Workspace

Args = dict[str, Any]
TEXT_MAX = 40_000


def text_arg(args: Args, name: str) -> str:
    value = args.get(name)
    return "" if value is None else str(value)


def flag(args: Args, name: str) -> bool:
    """Booleans arrive as ``true``/``1`` in forms and as JSON booleans in JSON bodies."""
    value = args.get(name)
    if isinstance(value, bool):
        return value
    return str(value or "").lower() in ("1", "true")


def json_arg(args: Args, name: str, error: str) -> Any:
    """Blocks, views and metadata arrive as JSON strings in forms and as objects in JSON."""
    value = args.get(name)
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        raise SlackError(error) from None


def given(args: Args, name: str) -> bool:
    return args.get(name) not in (None, "")


def member_channel(ws: Workspace, ref: Any, *, users_mean_dms: bool = False) -> Channel:
    """A channel the bot may write to: not archived, and the bot is in it."""
    channel = ws.channel(ref, users_mean_dms=users_mean_dms)
    if channel.is_archived:
        raise SlackError("is_archived")
    if ws.bot_user_id not in channel.members:
        raise SlackError("not_in_channel")
    return channel


def checked_blocks(args: Args) -> list[dict[str, Any]] | None:
    """The message's blocks, refused as Slack does when they break Block Kit's rules."""
    if not given(args, "blocks"):
        return None
    blocks = json_arg(args, "blocks", "invalid_blocks_format")
    if not isinstance(blocks, list):
        raise SlackError("invalid_blocks_format")
    problems = validate_blocks(blocks, "message")
    if problems:
        raise SlackError("invalid_blocks", response_metadata={"messages": problems})
    return blocks


def checked_attachments(args: Args, malformed: str) -> list[dict[str, Any]] | None:
    """``malformed`` is the method's own code for unreadable attachments."""
    if not given(args, "attachments"):
        return None
    attachments = json_arg(args, "attachments", malformed)
    if not isinstance(attachments, list):
        raise SlackError(malformed)
    if len(attachments) > 100:
        raise SlackError("too_many_attachments")
    return attachments


def require_content(args: Args, blocks: Any, attachments: Any) -> str:
    """Slack wants text, blocks or attachments; ``no_text`` otherwise."""
    text = text_arg(args, "text")
    if not text and not blocks and not attachments:
        raise SlackError("no_text")
    return text
