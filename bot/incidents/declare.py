"""Declaring an incident: number, channel, invite, topic, pinned header, announcement.

Nothing is half-created: if Slack refuses the channel the incident row is removed and
the reporter is told why. Later steps (pin, topic, broadcast) are not worth losing the
incident over: they are reported as warnings instead.

Nothing is lost either: once the channel exists, the topic, the header and the broadcast
are made through the outbox, so if Slack stops answering they are parked and delivered
later. The header is posted with the :data:`HEADER_POSTED` after step, which records its
``ts`` on the incident and pins it whenever the post goes through (at once or later).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.customers.clock import ContactClock
from bot.incidents import clock
from bot.incidents.channel_names import channel_name
from bot.incidents.errors import UserError
from bot.incidents.policy import Status
from bot.incidents.titles import check_title
from bot.incidents.updates import UpdateService
from bot.observability import logs
from bot.playbooks.languages import split_languages
from bot.settings import Settings
from bot.slack.calls import invite, post_joining, slack_error
from bot.slack.header import incident_card, refresh_header
from bot.slack.outbox import Delivered, describe, transient
from messages import refusals
from messages.header import channel_topic, incident_header, incident_header_text
from messages.model import IncidentCard
from messages.text import announcement_blocks, announcement_text
from storage.models import Incident
from storage.repository import IncidentStore, NewIncident

log = logging.getLogger(__name__)

CHANNEL_NAME_ATTEMPTS = 20
HEADER_POSTED = "header_posted"
"""The outbox after step of the header post: record its ts, then pin it."""


class HeaderNotPinned(Exception):
    """Slack refused to pin the posted header (its error code is the message)."""


@dataclass(frozen=True)
class DeclareRequest:
    team_id: str
    reporter_id: str
    title: str
    severity: str
    description: str = ""
    customer_impact: bool = False
    impact_text: str = ""
    customers: tuple[str, ...] = ()
    """As typed: ``Acme (cs)`` gives Acme its own language."""
    drill: bool = False
    """A rehearsal: a ``drill-`` channel, announced nowhere, never sent to customers."""
    playbook: str | None = None


@dataclass
class Declared:
    card: IncidentCard
    warnings: list[str] = field(default_factory=list)


def check_severity(severity: str, settings: Settings) -> str:
    name = severity.strip().upper()
    if name not in settings.severities:
        raise UserError(refusals.not_a_severity(severity, settings.severities))
    return name


@dataclass(eq=False)
class DeclareFlow:
    store: IncidentStore
    settings: Settings
    updates: UpdateService
    contact_clock: ContactClock | None = None

    async def declare(self, client: AsyncWebClient, request: DeclareRequest) -> Declared:
        title = check_title(request.title)
        severity = check_severity(request.severity, self.settings)
        customers, languages = split_languages(request.customers)
        incident = await self.store.create_pending(
            NewIncident(
                team_id=request.team_id,
                title=title,
                severity=severity,
                status=Status.INVESTIGATING,
                reporter_id=request.reporter_id,
                description=request.description.strip(),
                customer_impact=request.customer_impact,
                impact_text=request.impact_text.strip(),
                customers=customers,
                customer_languages=languages,
                drill=request.drill,
                playbook=request.playbook,
            )
        )
        logs.note(incident=incident.number)
        if self.contact_clock is not None and customers:
            await self.contact_clock.customers_added(incident)
        await self._open_channel(client, incident)
        incident.next_update_due = await self.updates.replan(
            incident, clock.first_update_due(self.settings, incident)
        )
        warnings = await self._set_up_channel(client, incident, customers)
        fresh = await self.store.reload(incident.id)
        card = incident_card(fresh, self.settings.severities)
        if not incident.drill:
            warnings += await self._announce(client, card)
        return Declared(card=card, warnings=warnings)

    async def _open_channel(self, client: AsyncWebClient, incident: Incident) -> None:
        """Create ``inc-<n>-<slug>`` (``drill-<n>-<slug>``), trying further names while Slack
        says ``name_taken``."""
        for attempt in range(CHANNEL_NAME_ATTEMPTS):
            name = channel_name(incident.number, incident.title, attempt, drill=incident.drill)
            try:
                response = await client.conversations_create(name=name)
            except SlackApiError as exc:
                if slack_error(exc) == "name_taken":
                    continue
                await self.store.discard(incident.id)
                raise UserError(refusals.channel_refused(name, slack_error(exc))) from exc
            except Exception:
                await self.store.discard(incident.id)
                raise
            incident.channel_id = response["channel"]["id"]
            incident.channel_name = name
            await self.store.attach_channel(incident.id, response["channel"]["id"], name)
            return
        await self.store.discard(incident.id)
        first = channel_name(incident.number, incident.title, drill=incident.drill)
        raise UserError(refusals.channel_names_taken(first))

    async def _set_up_channel(
        self, client: AsyncWebClient, incident: Incident, customers: tuple[str, ...]
    ) -> list[str]:
        channel = str(incident.channel_id)
        warnings: list[str] = []
        card = incident_card(incident, self.settings.severities, customer_names=customers)
        steps: tuple[tuple[str, Callable[[], Awaitable[Any]]], ...] = (
            ("invite you", lambda: self._invite(client, channel, incident.reporter_id)),
            ("set the topic", lambda: self._set_topic(client, incident, card)),
            ("post the header", lambda: self._post_header(client, incident, card)),
        )
        for what, step in steps:
            try:
                await step()
            except SlackApiError as exc:
                log.warning("declare INC-%s: could not %s: %s", incident.number, what, exc)
                warnings.append(f"I could not {what} (`{slack_error(exc)}`).")
            except HeaderNotPinned as exc:
                log.warning("declare INC-%s: could not pin the header: %s", incident.number, exc)
                warnings.append(f"I could not pin the header (`{exc}`).")
        return warnings

    async def _invite(self, client: AsyncWebClient, channel: str, user_id: str) -> None:
        await invite(client, channel, user_id)

    async def _set_topic(
        self, client: AsyncWebClient, incident: Incident, card: IncidentCard
    ) -> None:
        await self.updates.outbox.call(
            client,
            incident.team_id,
            "conversations.setTopic",
            what="the channel topic",
            key=f"topic:{incident.id}",
            channel=str(incident.channel_id),
            topic=channel_topic(card),
        )

    async def _post_header(
        self, client: AsyncWebClient, incident: Incident, card: IncidentCard
    ) -> None:
        """Post the header first in the incident's lane; :meth:`header_posted` follows."""
        await self.updates.outbox.call(
            client,
            incident.team_id,
            "chat.postMessage",
            what="the incident header",
            incident_id=incident.id,
            after=HEADER_POSTED,
            channel=str(incident.channel_id),
            text=incident_header_text(card),
            blocks=incident_header(card),
        )

    async def header_posted(self, client: AsyncWebClient, delivered: Delivered) -> None:
        """The :data:`HEADER_POSTED` step: keep the header's ts, show the current state if
        the post was parked (the incident may have moved on), then pin it. Safe to repeat."""
        incident_id = int(delivered.incident_id or 0)
        ts, channel = str(delivered.response["ts"]), str(delivered.args["channel"])
        await self.store.set_header_ts(incident_id, ts)
        if delivered.late:
            incident = await self.store.reload(incident_id)
            await refresh_header(self.updates.outbox, client, incident, self.settings.severities)
        try:
            await self.updates.outbox.call(
                client,
                delivered.team_id,
                "pins.add",
                what="pinning the incident header",
                incident_id=incident_id,
                channel=channel,
                timestamp=ts,
            )
        except SlackApiError as exc:
            if slack_error(exc) != "already_pinned":
                raise HeaderNotPinned(slack_error(exc)) from exc

    async def _announce(self, client: AsyncWebClient, card: IncidentCard) -> list[str]:
        target = self.settings.broadcast_channel
        if not target:
            return []
        text, blocks = announcement_text(card), announcement_blocks(card)
        try:
            await post_joining(client, target, text=text, blocks=blocks)
        except Exception as exc:
            if transient(exc):
                await self.updates.outbox.park(
                    card.team_id,
                    "chat.postMessage",
                    {"channel": target, "text": text, "blocks": blocks},
                    what="the announcement in the broadcast channel",
                    key=None,
                    error=describe(exc),
                )
                return []
            if not isinstance(exc, SlackApiError):
                raise
            log.warning("INC-%s: broadcast to %s failed: %s", card.number, target, exc)
            return [f"I could not announce it in the broadcast channel (`{slack_error(exc)}`)."]
        return []
