"""Changes to an open incident: roles, status, severity; finding and listing incidents.

Every change is a compare-and-set in storage with its timeline entry, followed by a note
in the incident channel and an in-place edit of the pinned header.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.incidents import clock
from bot.incidents.declare import check_severity
from bot.incidents.errors import UserError
from bot.incidents.participants import Participants
from bot.incidents.policy import (
    ACTIVE_STATUSES,
    OPEN_STATUSES,
    ROLES,
    CloseRefused,
    Status,
    TransitionError,
    check_may_assign,
    check_transition,
)
from bot.incidents.updates import UpdateService
from bot.observability import logs
from bot.settings import Settings
from bot.slack.calls import check_person, invite
from bot.slack.header import incident_card, refresh_header, role_holders
from messages import refusals
from messages.model import IncidentCard
from messages.text import role_assigned_text, severity_changed_text, status_changed_text
from storage.models import Incident
from storage.repository import IncidentStore

log = logging.getLogger(__name__)

LIST_LIMIT = 40


class IncidentService:
    """Changes return a private note for the person only when the channel does not show it
    (e.g. nothing changed); a change itself is announced in the incident channel."""

    def __init__(self, store: IncidentStore, settings: Settings, updates: UpdateService) -> None:
        self.participants = Participants(settings.admin_users)
        self.store = store
        self.settings = settings
        self.updates = updates

    async def in_channel(
        self, client: AsyncWebClient, team_id: str, channel_id: str, subcommand: str, actor: str
    ) -> Incident:
        """The incident whose channel this is, for someone taking part in it; else a
        UserError saying where to run the command or how to take part."""
        incident = await self.store.by_channel(team_id, channel_id)
        if incident is None:
            raise UserError(refusals.not_an_incident_channel(subcommand))
        logs.note(incident=incident.number)
        await self.participants.check(client, incident, actor)
        return incident

    async def by_number(
        self, client: AsyncWebClient, team_id: str, number: int, actor: str
    ) -> Incident:
        """Incident ``number`` of this workspace only, for someone taking part in it."""
        incident = await self.store.by_number(team_id, number)
        if incident is None or incident.channel_id is None:
            raise UserError(refusals.no_such_incident(number))
        logs.note(incident=incident.number)
        await self.participants.check(client, incident, actor)
        return incident

    async def list_open(self, team_id: str) -> tuple[list[IncidentCard], int]:
        rows, total = await self.store.list_by_status(
            team_id, [s.value for s in OPEN_STATUSES], LIST_LIMIT
        )
        cards = [incident_card(row, self.settings.severities, customer_names=()) for row in rows]
        return cards, total

    async def assign_role(
        self, client: AsyncWebClient, incident: Incident, role: str, user_id: str, actor_id: str
    ) -> str | None:
        role = check_role(role)
        roles = role_holders(incident)
        try:
            check_may_assign(incident.number, role, roles, self.settings.admin_users, actor_id)
        except CloseRefused as exc:
            raise UserError(str(exc)) from None
        await check_person(client, user_id)
        changed, previous = await self.store.assign_role(incident.id, role, user_id, actor_id)
        if not changed:
            return f"<@{user_id}> already holds {role} on INC-{incident.number}."
        await self._invite(client, incident, user_id)
        text = role_assigned_text(role, user_id, actor_id, previous)
        await self._announce_and_refresh(client, incident, text)
        fresh = await self.store.reload(incident.id)
        await self.updates.changed(client, fresh, also=[previous] if previous else [])
        return None

    async def change_status(
        self, client: AsyncWebClient, incident: Incident, target: str, actor_id: str
    ) -> str | None:
        new = parse_status(target)
        try:
            check_transition(incident.status, new)
        except TransitionError as exc:
            raise UserError(str(exc)) from None
        if not await self.store.change_field(
            incident.id, "status", incident.status, new.value, actor_id
        ):
            raise UserError(refusals.changed_meanwhile("status"))
        text = status_changed_text(incident.status, new.value, actor_id)
        await self._announce_and_refresh(client, incident, text, topic=True)
        return None

    async def change_severity(
        self, client: AsyncWebClient, incident: Incident, target: str, actor_id: str
    ) -> str | None:
        new = check_severity(target, self.settings)
        if new == incident.severity:
            raise UserError(refusals.already_severity(incident.number, new))
        if incident.status not in ACTIVE_STATUSES:
            raise UserError(refusals.severity_settled(incident.number, incident.status))
        if not await self.store.change_field(
            incident.id, "severity", incident.severity, new, actor_id
        ):
            raise UserError(refusals.changed_meanwhile("severity"))
        raised = await self.store.reload(incident.id)
        await self.updates.replan(raised, clock.after_severity_change(self.settings, raised))
        text = severity_changed_text(incident.severity, new, actor_id)
        await self._announce_and_refresh(client, incident, text, topic=True)
        return None

    async def refresh_header(
        self, client: AsyncWebClient, incident_id: int, *, topic: bool = False
    ) -> None:
        fresh = await self.store.reload(incident_id)
        await refresh_header(
            self.updates.outbox, client, fresh, self.settings.severities, topic=topic
        )

    async def _announce_and_refresh(
        self, client: AsyncWebClient, incident: Incident, text: str, *, topic: bool = False
    ) -> None:
        await self.updates.say(
            client, incident, text, what="the announcement in the incident channel"
        )
        await self.refresh_header(client, incident.id, topic=topic)

    async def _invite(self, client: AsyncWebClient, incident: Incident, user_id: str) -> None:
        self.participants.joined(str(incident.channel_id))
        try:
            await invite(client, str(incident.channel_id), user_id)
        except SlackApiError as exc:
            log.warning("INC-%s: invite %s failed: %s", incident.number, user_id, exc)


def check_role(role: str) -> str:
    name = role.strip().lower()
    if name not in ROLES:
        raise UserError(refusals.not_a_role(role, ROLES))
    return name


def parse_status(text: str) -> Status:
    try:
        return Status(text.strip().lower())
    except ValueError:
        choices = tuple(s.value for s in ACTIVE_STATUSES)
        raise UserError(refusals.not_a_status(text, choices)) from None
