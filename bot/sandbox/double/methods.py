"""The Web API methods the double speaks, and the arguments Slack requires for each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.sandbox.double import chat, files, views
from bot.sandbox.double import conversations as conv
from bot.sandbox.double.args import Args
from bot.sandbox.double.state import SlackError, Workspace

Method = Callable[[Workspace, Args], dict[str, Any]]

# As Slack publishes in docs.slack.dev/reference/methods/<method>.json `args.required`, less
# `token` (auth); tests/slack_reference/methods holds the copy the tests check this against.
REQUIRED_ARGS: dict[str, tuple[str, ...]] = {
    "auth.test": (),
    "bookmarks.add": ("title", "type"),
    "chat.getPermalink": ("channel", "message_ts"),
    "chat.postEphemeral": ("user", "channel"),
    "chat.postMessage": ("channel",),
    "chat.update": ("ts", "channel"),
    "conversations.archive": ("channel",),
    "conversations.create": ("name",),
    "conversations.history": ("channel",),
    "conversations.info": ("channel",),
    "conversations.invite": ("channel", "users"),
    "conversations.join": ("channel",),
    "conversations.members": ("channel",),
    "conversations.open": (),
    "conversations.setTopic": ("channel", "topic"),
    "conversations.unarchive": ("channel",),
    "files.completeUploadExternal": ("files",),
    "files.getUploadURLExternal": ("length", "filename"),
    "pins.add": ("channel",),
    "pins.list": ("channel",),
    "users.info": ("user",),
    "views.open": ("view",),
    "views.publish": ("user_id", "view"),
    "views.push": ("view",),
    "views.update": ("view",),
}

# Where a method's spec names its own code for a missing argument, Slack answers with it.
MISSING_ARGUMENT_ERRORS: dict[tuple[str, str], str] = {
    ("conversations.create", "name"): "invalid_name_required",
    ("conversations.invite", "users"): "no_user",
    ("chat.postMessage", "channel"): "channel_not_found",
}

METHODS: dict[str, Method] = {
    "auth.test": conv.auth_test,
    "bookmarks.add": chat.bookmarks_add,
    "chat.getPermalink": chat.chat_get_permalink,
    "chat.postEphemeral": chat.chat_post_ephemeral,
    "chat.postMessage": chat.chat_post_message,
    "chat.update": chat.chat_update,
    "conversations.archive": conv.conversations_archive,
    "conversations.create": conv.conversations_create,
    "conversations.history": conv.conversations_history,
    "conversations.info": conv.conversations_info,
    "conversations.invite": conv.conversations_invite,
    "conversations.join": conv.conversations_join,
    "conversations.members": conv.conversations_members,
    "conversations.open": conv.conversations_open,
    "conversations.setTopic": conv.conversations_set_topic,
    "conversations.unarchive": files.conversations_unarchive,
    "files.completeUploadExternal": files.files_complete_upload_external,
    "files.getUploadURLExternal": files.files_get_upload_url_external,
    "pins.add": chat.pins_add,
    "pins.list": chat.pins_list,
    "users.info": conv.users_info,
    "views.open": views.views_open,
    "views.publish": views.views_publish,
    "views.push": views.views_push,
    "views.update": views.views_update,
}


def call_method(ws: Workspace, method: str, args: Args) -> dict[str, Any]:
    """Run ``method`` in ``ws``: the success body, or a SlackError for the error body."""
    handler = METHODS.get(method)
    if handler is None:
        raise SlackError("unknown_method")
    missing = [name for name in REQUIRED_ARGS[method] if args.get(name) is None]
    if missing:
        code = MISSING_ARGUMENT_ERRORS.get((method, missing[0]), "missing_argument")
        raise SlackError(
            code,
            response_metadata={"messages": [f"[ERROR] missing required field: {missing[0]}"]},
        )
    return {"ok": True, **handler(ws, args)}
