"""Files as Slack's external upload flow has them: ask for a URL, upload, complete and share."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.sandbox.double.args import Args, json_arg, member_channel, text_arg
from bot.sandbox.double.state import SlackError, Workspace, new_id

UPLOAD_PATH = "/upload/{team}/{file_id}"


def files_get_upload_url_external(ws: Workspace, args: Args) -> dict[str, Any]:
    filename = text_arg(args, "filename")
    length = text_arg(args, "length")
    if not filename or not length.isdigit() or int(length) < 1:
        raise SlackError("missing_argument")
    file_id = new_id("F")
    ws.files[file_id] = {"id": file_id, "name": filename, "length": int(length), "content": None}
    url = ws.upload_base + UPLOAD_PATH.format(team=ws.team_id, file_id=file_id)
    return {"file_id": file_id, "upload_url": url}


def files_complete_upload_external(ws: Workspace, args: Args) -> dict[str, Any]:
    entries = json_arg(args, "files", "file_not_found")
    if not isinstance(entries, list) or not entries:
        raise SlackError("file_not_found")
    done = []
    for entry in entries:
        stored = ws.files.get(str((entry or {}).get("id", "")))
        if stored is None or stored["content"] is None:
            raise SlackError("file_not_found")
        stored["title"] = str(entry.get("title") or stored["name"])
        done.append({"id": stored["id"], "title": stored["title"], "name": stored["name"]})
    if text_arg(args, "channel_id"):
        channel = member_channel(ws, args["channel_id"])
        channel.messages.append(
            {
                "type": "message",
                "subtype": "file_share",
                "ts": ws.next_ts(),
                "user": ws.bot_user_id,
                "text": text_arg(args, "initial_comment"),
                "files": done,
                "team": ws.team_id,
            }
        )
    return {"files": done}


async def receive_upload(workspaces: dict[str, Workspace], request: web.Request) -> web.Response:
    """The upload URL: the bytes must match the length announced when the URL was asked for."""
    ws = workspaces.get(request.match_info["team"])
    stored = ws.files.get(request.match_info["file_id"]) if ws else None
    if stored is None:
        return web.Response(status=404, text="file not found")
    body = await request.read()
    if len(body) != stored["length"]:
        return web.Response(status=400, text="length mismatch")
    stored["content"] = body
    return web.Response(text=f"OK - {len(body)}")


def conversations_unarchive(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = ws.channel(args["channel"])
    if channel.is_im:
        raise SlackError("method_not_supported_for_channel_type")
    if not channel.is_archived:
        raise SlackError("not_archived")
    channel.is_archived = False
    return {}
