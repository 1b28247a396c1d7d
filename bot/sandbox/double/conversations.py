"""auth.test, users.info and the conversations.* methods of the double."""

from __future__ import annotations

import base64
import re
import time
from typing import Any

from bot.sandbox.double.args import Args, flag, member_channel, text_arg
from bot.sandbox.double.state import Channel, SlackError, Workspace, new_id

TOPIC_MAX = 250
NAME_MAX = 80
_CHANNEL_NAME = re.compile(r"[a-z0-9_-]+")
_HAS_LETTER_OR_DIGIT = re.compile(r"[a-z0-9]")


def auth_test(ws: Workspace, args: Args) -> dict[str, Any]:
    return {
        "url": f"https://{ws.domain}.slack.com/",
        "team": ws.domain,
        "user": ws.users[ws.bot_user_id]["name"],
        "team_id": ws.team_id,
        "user_id": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "is_enterprise_install": False,
    }


def users_info(ws: Workspace, args: Args) -> dict[str, Any]:
    return {"user": dict(ws.user(args["user"]))}


def check_channel_name(ws: Workspace, name: str) -> None:
    """Slack's naming rules: lowercase letters, digits, ``-`` and ``_``, at most 80."""
    if not name:
        raise SlackError("invalid_name_required")
    if len(name) > NAME_MAX:
        raise SlackError("invalid_name_maxlength")
    if not _CHANNEL_NAME.fullmatch(name):
        raise SlackError("invalid_name_specials")
    if not _HAS_LETTER_OR_DIGIT.search(name):
        raise SlackError("invalid_name_punctuation")
    if ws.channel_named(name) is not None:
        raise SlackError("name_taken")


def conversations_create(ws: Workspace, args: Args) -> dict[str, Any]:
    name = text_arg(args, "name")
    check_channel_name(ws, name)
    private = flag(args, "is_private")
    channel = Channel(
        id=new_id("G" if private else "C"),
        name=name,
        creator=ws.bot_user_id,
        is_private=private,
        members=[ws.bot_user_id],
    )
    ws.channels[channel.id] = channel
    return {"channel": ws.conversation(channel)}


def conversations_info(ws: Workspace, args: Args) -> dict[str, Any]:
    return {"channel": ws.conversation(ws.channel(args["channel"]))}


def invitees(ws: Workspace, channel: Channel, users: str) -> list[str]:
    """The users to add, or the first reason Slack would refuse them."""
    wanted = [u.strip() for u in users.split(",") if u.strip()]
    if not wanted:
        raise SlackError("no_user")
    for user_id in wanted:
        if user_id == ws.bot_user_id:
            raise SlackError("cant_invite_self")
        if ws.user(user_id)["deleted"]:
            raise SlackError("cant_invite")
        if user_id in channel.members:
            raise SlackError("already_in_channel")
    return list(dict.fromkeys(wanted))


def conversations_invite(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = member_channel(ws, args["channel"])
    if channel.is_im:
        raise SlackError("method_not_supported_for_channel_type")
    channel.members.extend(invitees(ws, channel, text_arg(args, "users")))
    return {"channel": ws.conversation(channel)}


def conversations_join(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = ws.channel(args["channel"])
    if channel.is_archived:
        raise SlackError("is_archived")
    if channel.is_private or channel.is_im:
        raise SlackError("method_not_supported_for_channel_type")
    if ws.bot_user_id in channel.members:
        return {
            "channel": ws.conversation(channel),
            "warning": "already_in_channel",
            "response_metadata": {"warnings": ["already_in_channel"]},
        }
    channel.members.append(ws.bot_user_id)
    return {"channel": ws.conversation(channel)}


def conversations_set_topic(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = member_channel(ws, args["channel"])
    if channel.is_im:
        raise SlackError("method_not_supported_for_channel_type")
    topic = text_arg(args, "topic")
    if len(topic) > TOPIC_MAX:
        raise SlackError("too_long")
    channel.topic = {"value": topic, "creator": ws.bot_user_id, "last_set": int(time.time())}
    return {"channel": ws.conversation(channel)}


def conversations_members(ws: Workspace, args: Args) -> dict[str, Any]:
    return {
        "members": list(ws.channel(args["channel"]).members),
        "response_metadata": {"next_cursor": ""},
    }


def conversations_archive(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = ws.channel(args["channel"])
    if channel.is_im:
        raise SlackError("method_not_supported_for_channel_type")
    if channel.is_archived:
        raise SlackError("already_archived")
    if channel.name == "general":
        raise SlackError("cant_archive_general")
    if ws.bot_user_id not in channel.members:
        raise SlackError("not_in_channel")
    channel.is_archived = True
    return {}


def conversations_open(ws: Workspace, args: Args) -> dict[str, Any]:
    """A DM with one user (the double has no group DMs), or an existing one by id."""
    if args.get("channel"):
        channel = ws.channels.get(text_arg(args, "channel"))
        if channel is None or not channel.is_im:
            raise SlackError("channel_not_found")
        return {"channel": {"id": channel.id}, "already_open": True}
    users = [u.strip() for u in text_arg(args, "users").split(",") if u.strip()]
    if not users:
        raise SlackError("users_list_not_supplied")
    if len(users) > 1:
        raise SlackError("too_many_users")
    if ws.user(users[0])["deleted"]:
        raise SlackError("user_disabled")
    existed = ws.existing_im(users[0]) is not None
    channel = ws.im_with(users[0])
    opened: dict[str, Any] = {"channel": {"id": channel.id}}
    if flag(args, "return_im"):
        opened["channel"] = ws.conversation(channel)
    if existed:
        opened |= {"no_op": True, "already_open": True}
    return opened


def conversations_history(ws: Workspace, args: Args) -> dict[str, Any]:
    """Newest first, a page at a time; ``metadata`` only with ``include_all_metadata``.

    As Slack does: ``has_more`` and a ``response_metadata.next_cursor`` that names the
    next page (Slack's cursors read ``next_ts:<ts without the dot>`` in base64, per the
    example response of docs.slack.dev/reference/methods/conversations.history).
    """
    channel = ws.channel(args["channel"])
    if ws.bot_user_id not in channel.members:
        raise SlackError("not_in_channel")
    oldest = _ts_bound(args, "oldest", 0.0, "invalid_ts_oldest")
    latest = _ts_bound(args, "latest", float("inf"), "invalid_ts_latest")
    latest = min(latest, _cursor_ts(args.get("cursor")))
    limit = _limit(args)
    with_metadata = flag(args, "include_all_metadata")
    found = [m for m in reversed(channel.messages) if oldest < float(m["ts"]) <= latest]
    shown = [
        m if with_metadata else {k: v for k, v in m.items() if k != "metadata"}
        for m in found[:limit]
    ]
    more = len(found) > limit
    return {
        "messages": shown,
        "has_more": more,
        "response_metadata": {"next_cursor": _cursor(found[limit]["ts"]) if more else ""},
    }


def _cursor(ts: str) -> str:
    return base64.b64encode(f"next_ts:{ts.replace('.', '')}".encode()).decode()


def _cursor_ts(cursor: object) -> float:
    """The newest ts a cursor's page may show (inclusive); no cursor: no bound."""
    if cursor in (None, ""):
        return float("inf")
    try:
        kind, _, digits = base64.b64decode(str(cursor), validate=True).decode().partition(":")
        if kind != "next_ts" or not digits.isdigit() or len(digits) <= 6:
            raise ValueError(digits)
        return float(f"{digits[:-6]}.{digits[-6:]}")
    except ValueError:
        raise SlackError("invalid_cursor") from None


def _ts_bound(args: Args, name: str, default: float, error: str) -> float:
    if args.get(name) in (None, ""):
        return default
    try:
        return float(args[name])
    except (TypeError, ValueError):
        raise SlackError(error) from None


def _limit(args: Args) -> int:
    try:
        return max(1, min(999, int(args.get("limit") or 100)))
    except (TypeError, ValueError):
        return 100
