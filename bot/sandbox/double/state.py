"""What the Slack API double remembers: workspaces, users, channels, messages, views, triggers."""

from __future__ import annotations

import itertools
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

APP_ID = "A0AMENDS"
"""The app every workspace of the double has installed."""

_counter = itertools.count(1)
_BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_USER_ID = re.compile(r"[UW][A-Z0-9]+")


def new_id(prefix: str) -> str:
    """Slack-looking ids: a type letter and upper-case base-36 digits, unique per process."""
    number = next(_counter) + 36**6
    digits = ""
    while number:
        number, rest = divmod(number, 36)
        digits = _BASE36[rest] + digits
    return prefix + digits


class SlackError(Exception):
    """A Slack error answer: ``{"ok": false, "error": code}`` plus optional extras."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra


def make_user(
    user_id: str,
    name: str,
    team_id: str,
    *,
    real_name: str | None = None,
    deleted: bool = False,
    is_bot: bool = False,
) -> dict[str, Any]:
    """A user object shaped like payloads/api_responses/users.info.success.json."""
    real = real_name or name.capitalize()
    return {
        "id": user_id,
        "team_id": team_id,
        "name": name,
        "deleted": deleted,
        "real_name": real,
        "tz": "Europe/London",
        "tz_label": "Greenwich Mean Time",
        "tz_offset": 0,
        "profile": {
            "real_name": real,
            "display_name": name,
            "real_name_normalized": real,
            "display_name_normalized": name,
            "email": f"{name}@example.com",
            "team": team_id,
        },
        "is_admin": False,
        "is_owner": False,
        "is_primary_owner": False,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "is_bot": is_bot,
        "is_app_user": False,
        "updated": int(time.time()),
    }


@dataclass
class Trigger:
    team_id: str | None
    user_id: str | None
    view_id: str | None
    expires: float
    used: bool = False


class Triggers:
    """trigger_ids the double issued: each works once, for ``ttl`` seconds, like Slack's.

    A trigger's lifetime is fixed when it is issued, so changing ``ttl`` affects only
    later ones.
    """

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self.issued: dict[str, Trigger] = {}

    def issue(
        self, team_id: str | None = None, user_id: str | None = None, view_id: str | None = None
    ) -> str:
        """In Slack's documented format, ``"132456.7890123.abcdef"``."""
        trigger_id = f"{int(time.time())}.{next(_counter)}.{secrets.token_hex(16)}"
        expires = time.monotonic() + self.ttl
        self.issued[trigger_id] = Trigger(team_id, user_id, view_id, expires)
        return trigger_id

    def use(self, trigger_id: Any, team_id: str) -> Trigger:
        trigger = self.issued.get(str(trigger_id or ""))
        if trigger is None or trigger.team_id not in (None, team_id):
            raise SlackError("invalid_trigger_id")
        if trigger.used:
            raise SlackError("exchanged_trigger_id")
        if time.monotonic() > trigger.expires:
            raise SlackError("expired_trigger_id")
        trigger.used = True
        return trigger


@dataclass
class Channel:
    id: str
    name: str
    creator: str
    is_private: bool = False
    is_im: bool = False
    is_archived: bool = False
    members: list[str] = field(default_factory=list)
    topic: dict[str, Any] = field(
        default_factory=lambda: {"value": "", "creator": "", "last_set": 0}
    )
    messages: list[dict[str, Any]] = field(default_factory=list)
    ephemerals: list[dict[str, Any]] = field(default_factory=list)
    pins: list[str] = field(default_factory=list)
    bookmarks: list[dict[str, Any]] = field(default_factory=list)
    created: int = field(default_factory=lambda: int(time.time()))

    def as_conversation(self, viewer: str | None = None) -> dict[str, Any]:
        """A conversation object like payloads/api_responses/conversations.create.success.json."""
        if self.is_im:
            other = next((m for m in self.members if m != self.creator), self.name)
            return {"id": self.id, "created": self.created, "is_im": True, "user": other}
        return {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": not self.is_private,
            "is_group": self.is_private,
            "is_im": False,
            "is_mpim": False,
            "is_private": self.is_private,
            "is_archived": self.is_archived,
            "is_general": self.name == "general",
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "is_pending_ext_shared": False,
            "pending_shared": [],
            "unlinked": 0,
            "is_member": viewer in self.members if viewer else False,
            "created": self.created,
            "creator": self.creator,
            "num_members": len(self.members),
            "topic": dict(self.topic),
            "purpose": {"value": "", "creator": "", "last_set": 0},
            "previous_names": [],
        }

    def message(self, ts: str) -> dict[str, Any] | None:
        return next((m for m in self.messages if m["ts"] == ts), None)


@dataclass
class Workspace:
    team_id: str
    domain: str
    bot_token: str
    bot_user_id: str
    triggers: Triggers
    bot_id: str = field(default_factory=lambda: new_id("B"))
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)
    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    view_users: dict[str, str] = field(default_factory=dict)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    upload_base: str = ""
    installed: bool = True
    revoked_tokens: set[str] = field(default_factory=set)
    """Bot tokens of earlier installations: Slack answers them ``token_revoked``."""
    _last_ts: float = 0.0

    def uninstall(self) -> None:
        """The app is removed from this workspace: its bot token stops working."""
        self.installed = False
        self.revoked_tokens.add(self.bot_token)

    def reinstall(self) -> None:
        """Installed again after an uninstall: a new bot token (the old one stays dead)."""
        if not self.installed:
            self.bot_token = f"xoxb-{self.team_id.lower()}-{secrets.token_hex(8)}"
            self.installed = True

    def next_ts(self) -> str:
        """Message timestamps are unique per workspace and always increase."""
        self._last_ts = max(time.time(), self._last_ts + 0.000001)
        return f"{self._last_ts:.6f}"

    def conversation(self, channel: Channel) -> dict[str, Any]:
        return channel.as_conversation(self.bot_user_id)

    def channel(self, ref: Any, *, users_mean_dms: bool = False) -> Channel:
        """By id, ``#name`` or name; with ``users_mean_dms`` a user id means their DM."""
        ref = str(ref or "")
        if ref in self.channels:
            return self.channels[ref]
        if users_mean_dms and _USER_ID.fullmatch(ref) and ref in self.users:
            if self.users[ref]["deleted"]:
                raise SlackError("channel_not_found")
            return self.im_with(ref)
        name = ref.removeprefix("#")
        found = self.channel_named(name)
        if found is None:
            raise SlackError("channel_not_found")
        return found

    def channel_named(self, name: str) -> Channel | None:
        return next((c for c in self.channels.values() if c.name == name and not c.is_im), None)

    def im_with(self, user_id: str) -> Channel:
        existing = self.existing_im(user_id)
        if existing:
            return existing
        channel = Channel(
            id=new_id("D"),
            name=user_id,
            creator=self.bot_user_id,
            is_im=True,
            members=[self.bot_user_id, user_id],
        )
        self.channels[channel.id] = channel
        return channel

    def existing_im(self, user_id: str) -> Channel | None:
        return next((c for c in self.channels.values() if c.is_im and c.name == user_id), None)

    def user(self, user_id: Any, error: str = "user_not_found") -> dict[str, Any]:
        user = self.users.get(str(user_id or ""))
        if user is None:
            raise SlackError(error)
        return user
