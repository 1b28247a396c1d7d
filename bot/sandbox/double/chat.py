"""chat.*, pins.* and bookmarks.add of the double: messages kept per channel, edited in place."""

from __future__ import annotations

import copy
import re
import time
from typing import Any

from bot.sandbox.double.args import (
    TEXT_MAX,
    Args,
    checked_attachments,
    checked_blocks,
    given,
    json_arg,
    member_channel,
    require_content,
    text_arg,
)
from bot.sandbox.double.state import APP_ID, SlackError, Workspace, new_id

PINS_MAX = 100
BOOKMARKS_MAX = 100
_TS = re.compile(r"\d+\.\d+")
_EMOJI = re.compile(r":[a-z0-9_+'-]+:")


def _metadata(args: Args) -> dict[str, Any] | None:
    if not given(args, "metadata"):
        return None
    metadata = json_arg(args, "metadata", "invalid_metadata_format")
    if not isinstance(metadata, dict) or "event_type" not in metadata:
        raise SlackError("invalid_metadata_schema")
    return metadata


def _new_message(ws: Workspace, text: str, args: Args) -> dict[str, Any]:
    message: dict[str, Any] = {
        "type": "message",
        "subtype": "bot_message",
        "ts": ws.next_ts(),
        "user": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "app_id": APP_ID,
        "text": text,
        "team": ws.team_id,
    }
    if given(args, "thread_ts"):
        message["thread_ts"] = text_arg(args, "thread_ts")
    return message


def chat_post_message(ws: Workspace, args: Args) -> dict[str, Any]:
    """Text over 40,000 characters is truncated, as Slack documents for this method."""
    channel = member_channel(ws, args["channel"], users_mean_dms=True)
    blocks = checked_blocks(args)
    attachments = checked_attachments(args, "invalid_arguments")
    text = require_content(args, blocks, attachments)[:TEXT_MAX]
    message = _new_message(ws, text, args)
    if blocks is not None:
        message["blocks"] = blocks
    if attachments is not None:
        message["attachments"] = attachments
    metadata = _metadata(args)
    if metadata is not None:
        message["metadata"] = metadata
    channel.messages.append(message)
    return {"channel": channel.id, "ts": message["ts"], "message": copy.deepcopy(message)}


def chat_update(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = ws.channel(args["channel"])
    message = channel.message(text_arg(args, "ts"))
    if message is None:
        raise SlackError("message_not_found")
    if message.get("user") != ws.bot_user_id:
        raise SlackError("cant_update_message")
    blocks = checked_blocks(args)
    attachments = checked_attachments(args, "invalid_attachments")
    text = text_arg(args, "text")
    if not text and blocks is None and attachments is None:
        raise SlackError("no_text")
    if len(text) > TEXT_MAX:
        raise SlackError("msg_too_long")
    _apply_edit(ws, message, args, blocks, attachments)
    return {
        "channel": channel.id,
        "ts": message["ts"],
        "text": message["text"],
        "message": copy.deepcopy(message),
    }


def _apply_edit(
    ws: Workspace,
    message: dict[str, Any],
    args: Args,
    blocks: list[dict[str, Any]] | None,
    attachments: list[dict[str, Any]] | None,
) -> None:
    """Fields left out keep their old values; an empty list removes blocks or attachments."""
    if "text" in args:
        message["text"] = text_arg(args, "text")
    for key, value in (("blocks", blocks), ("attachments", attachments)):
        if value is not None:
            message[key] = value
    metadata = _metadata(args)
    if metadata is not None:
        message["metadata"] = metadata
    message["edited"] = {"user": ws.bot_user_id, "ts": ws.next_ts()}


def chat_post_ephemeral(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = member_channel(ws, args["channel"])
    user_id = text_arg(args, "user")
    if user_id not in channel.members or user_id not in ws.users:
        raise SlackError("user_not_in_channel")
    blocks = checked_blocks(args)
    attachments = checked_attachments(args, "invalid_attachments")
    text = require_content(args, blocks, attachments)
    if len(text) > TEXT_MAX:
        raise SlackError("msg_too_long")
    message = _new_message(ws, text, args)
    message.update({"to_user": user_id, "blocks": blocks or [], "attachments": attachments or []})
    channel.ephemerals.append(message)
    return {"message_ts": message["ts"]}


def chat_get_permalink(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = ws.channel(args["channel"])
    ts = text_arg(args, "message_ts")
    if channel.message(ts) is None:
        raise SlackError("message_not_found")
    return {
        "channel": channel.id,
        "permalink": f"https://{ws.domain}.slack.com/archives/{channel.id}/p{ts.replace('.', '')}",
    }


def pins_add(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = ws.channel(args["channel"])
    if channel.is_archived:
        raise SlackError("restricted_action")
    if ws.bot_user_id not in channel.members:
        raise SlackError("not_in_channel")
    ts = text_arg(args, "timestamp")
    if not ts:
        raise SlackError("no_item_specified")
    if not _TS.fullmatch(ts):
        raise SlackError("bad_timestamp")
    if channel.message(ts) is None:
        raise SlackError("message_not_found")
    if ts in channel.pins:
        raise SlackError("already_pinned")
    if len(channel.pins) >= PINS_MAX:
        raise SlackError("too_many_pins")
    channel.pins.append(ts)
    return {}


def pins_list(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = ws.channel(args["channel"])
    items = [
        {
            "type": "message",
            "created": int(float(ts)),
            "created_by": ws.bot_user_id,
            "channel": channel.id,
            "message": copy.deepcopy(channel.message(ts)),
        }
        for ts in channel.pins
    ]
    return {"items": items}


def bookmarks_add(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = ws.channel(args.get("channel_id"))
    if text_arg(args, "type") != "link":
        raise SlackError("invalid_bookmark_type")
    link = text_arg(args, "link")
    if not link.startswith(("http://", "https://")):
        raise SlackError("invalid_link")
    emoji = text_arg(args, "emoji")
    if emoji and not _EMOJI.fullmatch(emoji):
        raise SlackError("invalid_emoji")
    if len(channel.bookmarks) >= BOOKMARKS_MAX:
        raise SlackError("too_many_bookmarks")
    bookmark = {
        "id": new_id("Bk"),
        "channel_id": channel.id,
        "title": text_arg(args, "title"),
        "link": link,
        "emoji": emoji or None,
        "icon_url": None,
        "type": "link",
        "entity_id": None,
        "date_created": int(time.time()),
        "date_updated": 0,
        "rank": "g",
        "last_updated_by_user_id": ws.bot_user_id,
        "last_updated_by_team_id": ws.team_id,
        "shortcut_id": None,
        "app_id": None,
    }
    channel.bookmarks.append(bookmark)
    return {"bookmark": dict(bookmark)}
