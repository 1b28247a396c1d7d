"""Answering the person who acted, privately, on whatever surface they used."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient


def response_url_of(body: dict[str, Any]) -> str | None:
    """The response_url of a command or message action, or the one a modal carries."""
    if body.get("response_url"):
        return str(body["response_url"])
    view = body.get("view")
    metadata = view_metadata(view if isinstance(view, dict) else {})
    url = metadata.get("response_url")
    return str(url) if url else None


def view_metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def user_of(body: dict[str, Any]) -> str | None:
    user = body.get("user")
    if isinstance(user, dict):
        return str(user.get("id") or "") or None
    return str(body.get("user_id") or "") or None


async def tell(
    client: AsyncWebClient,
    body: dict[str, Any],
    text: str,
    blocks: list[dict[str, Any]] | None = None,
) -> None:
    """Ephemeral reply through the response_url when there is one, else a DM."""
    url = response_url_of(body)
    if url:
        webhook = AsyncWebhookClient(url, session=client.session)
        await webhook.send(
            text=text, blocks=blocks, response_type="ephemeral", replace_original=False
        )
        return
    user_id = user_of(body)
    if user_id:
        await client.chat_postMessage(channel=user_id, text=text, blocks=blocks)


def team_of(body: dict[str, Any]) -> str:
    """The workspace a request comes from: ``team.id``, else the user's (org-wide installs)."""
    team = body.get("team")
    user = body.get("user")
    found = (team.get("id") if isinstance(team, dict) else None) or (
        user.get("team_id") if isinstance(user, dict) else None
    )
    return str(found or "")
