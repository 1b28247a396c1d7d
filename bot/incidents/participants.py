"""Who may act on an incident: the people in it.

A participant is the reporter, a role holder, an Amends admin, or a member of the
incident's channel. Role holders and admins are known without asking Slack; channel
members are read with ``conversations.members`` and kept briefly, since a click often
comes in bursts from the same channel.
"""

from __future__ import annotations

import time

from slack_sdk.web.async_client import AsyncWebClient

from bot.incidents.errors import UserError
from messages import refusals
from storage.models import Incident

MEMBERS_TTL_SECONDS = 30.0
PAGE = 1000


class Participants:
    def __init__(self, admins: frozenset[str]) -> None:
        self.admins = admins
        self._members: dict[str, tuple[float, frozenset[str]]] = {}

    async def check(self, client: AsyncWebClient, incident: Incident, user_id: str) -> None:
        """Raise a UserError naming the way in unless ``user_id`` takes part in ``incident``."""
        known = {incident.reporter_id, *(r.user_id for r in incident.roles), *self.admins}
        if user_id in known or not incident.channel_id:
            return
        if user_id in await self._channel_members(client, incident.channel_id):
            return
        if user_id in await self._channel_members(client, incident.channel_id, fresh=True):
            return
        raise UserError(refusals.not_a_participant(incident.number, incident.channel_id))

    def joined(self, channel_id: str) -> None:
        """Someone was just invited: read the members afresh next time."""
        self._members.pop(channel_id, None)

    async def _channel_members(
        self, client: AsyncWebClient, channel_id: str, *, fresh: bool = False
    ) -> frozenset[str]:
        """The channel's members; the cache only ever speeds up a yes (someone who just
        joined is read afresh before being turned away)."""
        cached = self._members.get(channel_id)
        if not fresh and cached is not None and time.monotonic() - cached[0] < MEMBERS_TTL_SECONDS:
            return cached[1]
        members: set[str] = set()
        cursor = None
        while True:
            page = await client.conversations_members(channel=channel_id, limit=PAGE, cursor=cursor)
            members.update(page.get("members") or [])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        self._members[channel_id] = (time.monotonic(), frozenset(members))
        return self._members[channel_id][1]
