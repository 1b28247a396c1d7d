"""response_url endpoints of the double: checked, recorded, and applied like Slack does."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.sandbox.double.blockkit import validate_blocks
from bot.sandbox.double.state import Workspace, new_id

RESPONSE_URL_USES = 5
"""Slack accepts at most five posts to one response_url."""


@dataclass
class RecordedResponse:
    url_id: str
    body: dict[str, Any]
    at: float = field(default_factory=time.time)


@dataclass
class ResponseTarget:
    """Where a response_url points: the channel, the user, and for actions their message."""

    kind: str
    team_id: str
    channel_id: str | None = None
    user_id: str | None = None
    message_ts: str | None = None
    uses: int = 0


class ResponseUrls:
    """The response_urls the double handed out, and what was posted to them."""

    def __init__(self, workspace: Callable[[str], Workspace]) -> None:
        self.workspace = workspace
        self.targets: dict[str, ResponseTarget] = {}
        self.responses: list[RecordedResponse] = []

    def new(self, target: ResponseTarget) -> str:
        url_id = new_id("R").lower()
        self.targets[url_id] = target
        return url_id

    async def handle(self, request: web.Request) -> web.Response:
        """200 ``ok``; 404 for unknown or used-up urls, 400 for a body Slack would refuse."""
        url_id = request.match_info["url_id"]
        target = self.targets.get(url_id)
        if target is None or target.kind != request.match_info["kind"]:
            return web.Response(status=404, text="no_service")
        if target.uses >= RESPONSE_URL_USES:
            return web.Response(status=404, text="used_url")
        body = await _response_body(request)
        refused = response_problems(body)
        if refused is not None:
            code, problems = refused
            return web.Response(status=400, text=f"{code}: " + "; ".join(problems))
        target.uses += 1
        apply_response(self.workspace(target.team_id), target, body)
        self.responses.append(RecordedResponse(url_id, body))
        return web.Response(text="ok")


async def _response_body(request: web.Request) -> Any:
    """JSON, or a form with a JSON ``payload`` field, as Slack's response_urls accept."""
    try:
        if request.content_type == "application/x-www-form-urlencoded":
            form = await request.post()
            return json.loads(str(form.get("payload", "")))
        return json.loads(await request.read())
    except ValueError:
        return None


def response_problems(body: Any) -> tuple[str, list[str]] | None:
    """Slack's error text and the problems, or None when the body is acceptable."""
    if not isinstance(body, dict):
        return "invalid_payload", ["the body must be a JSON object"]
    if body.get("delete_original"):
        return None
    if not body.get("text") and not body.get("blocks") and not body.get("attachments"):
        return "no_text", ["text, blocks or attachments are required"]
    if "blocks" in body:
        problems = validate_blocks(body["blocks"], "message")
        if problems:
            return "invalid_blocks", problems
    return None


def apply_response(ws: Workspace, target: ResponseTarget, body: dict[str, Any]) -> None:
    """What the post changes: the original message, the channel, or one user's view of it.

    The original is replaced or deleted only when the body says so explicitly.
    """
    channel = ws.channels.get(target.channel_id or "")
    if channel is None:
        return
    original = channel.message(target.message_ts) if target.message_ts else None
    if original is None and target.message_ts:
        original = _ephemeral(channel.ephemerals, target.message_ts, target.user_id)
    if original is not None and "to_user" in original and body.get("delete_original"):
        channel.ephemerals.remove(original)
    elif original is not None and body.get("delete_original"):
        channel.messages.remove(original)
        channel.pins[:] = [ts for ts in channel.pins if ts != original["ts"]]
    elif original is not None and body.get("replace_original"):
        original["text"] = str(body.get("text") or "")
        for key in ("blocks", "attachments"):
            if key in body:
                original[key] = body[key]
        original["edited"] = {"user": ws.bot_user_id, "ts": ws.next_ts()}
    elif body.get("response_type") == "in_channel":
        channel.messages.append(_message(ws, body))
    elif not body.get("delete_original"):
        channel.ephemerals.append({**_message(ws, body), "to_user": target.user_id})


def _ephemeral(
    ephemerals: list[dict[str, Any]], ts: str, user_id: str | None
) -> dict[str, Any] | None:
    """An ephemeral message is only ever replaced for the person who sees it."""
    return next((m for m in ephemerals if m["ts"] == ts and m.get("to_user") == user_id), None)


def _message(ws: Workspace, body: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {
        "type": "message",
        "subtype": "bot_message",
        "ts": ws.next_ts(),
        "user": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "text": str(body.get("text") or ""),
        "team": ws.team_id,
    }
    for key in ("blocks", "attachments"):
        if key in body:
            message[key] = body[key]
    return message
