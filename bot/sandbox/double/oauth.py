"""``oauth.v2.access`` for the double: Slack's side of installing the app in a workspace.

A test plays the person who clicks "Allow": :meth:`OAuthApp.grant` issues a one-time
code for a workspace, which the bot exchanges (with its client id and secret, sent as
HTTP Basic auth by slack-sdk) for that workspace's bot token.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from bot.sandbox.double.state import APP_ID, Workspace

ACCESS_METHOD = "oauth.v2.access"
BOT_SCOPES = "commands,chat:write,chat:write.public,channels:manage,users:read"


class OAuthApp:
    def __init__(self, client_id: str = "1111.2222", client_secret: str = "oauth-secret") -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self._codes: dict[str, tuple[str, str]] = {}

    def grant(self, team_id: str, user_id: str) -> str:
        """The code Slack puts on the redirect once ``user_id`` allowed the install."""
        code = f"{secrets.token_hex(6)}.{secrets.token_hex(10)}"
        self._codes[code] = (team_id, user_id)
        return code

    def access(
        self, authorization: str, args: dict[str, Any], workspaces: dict[str, Workspace]
    ) -> dict[str, Any]:
        client_id, client_secret = _credentials(authorization, args)
        if client_id != self.client_id:
            return {"ok": False, "error": "invalid_client_id"}
        if client_secret != self.client_secret:
            return {"ok": False, "error": "bad_client_secret"}
        granted = self._codes.pop(str(args.get("code") or ""), None)
        if granted is None:
            return {"ok": False, "error": "invalid_code"}
        ws = workspaces[granted[0]]
        ws.reinstall()
        return {
            "ok": True,
            "app_id": APP_ID,
            "authed_user": {"id": granted[1]},
            "scope": BOT_SCOPES,
            "token_type": "bot",
            "access_token": ws.bot_token,
            "bot_user_id": ws.bot_user_id,
            "team": {"id": ws.team_id, "name": ws.domain},
            "enterprise": None,
            "is_enterprise_install": False,
        }


def _credentials(authorization: str, args: dict[str, Any]) -> tuple[str, str]:
    """HTTP Basic auth first (what slack-sdk sends), then form fields."""
    if authorization.startswith("Basic "):
        try:
            decoded = base64.b64decode(authorization.removeprefix("Basic ")).decode()
        except (ValueError, UnicodeDecodeError):
            return "", ""
        client_id, _, client_secret = decoded.partition(":")
        return client_id, client_secret
    return str(args.get("client_id") or ""), str(args.get("client_secret") or "")
