"""Declaring an incident: number, channel, invite, topic, pinned header, announcement.

Nothing is half-created: if Slack refuses the channel the incident row is removed and
the reporter is told why. Later steps (pin, topic, broadcast) are not worth losing the
incident over: they are reported as warnings instead.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import logs
from bot.cards import incident_card
from bot.channel_names import channel_name
from bot.errors import UserError
from bot.policy import TITLE_MAX_CHARS, Status
from bot.settings import Settings
from bot.slack_calls import call_tolerating, invite, post_joining, slack_error
from bot.updates import UpdateService
from messages.header import channel_topic, incident_header, incident_header_text
from messages.model import IncidentCard
from messages.text import announcement_blocks, announcement_text
from storage.models import Incident
from storage.repository import IncidentStore, NewIncident

log = logging.getLogger(__name__)

CHANNEL_NAME_ATTEMPTS = 20


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


@dataclass
class Declared:
    card: IncidentCard
    warnings: list[str] = field(default_factory=list)


def check_title(title: str) -> str:
    """A title is required and must fit Slack's header (150 characters)."""
    title = " ".join(title.split())
    if not title:
        raise UserError(
            "An incident needs a title. Try `/incident declare Checkout is failing`, "
            "or `/incident` to open the form."
        )
    if len(title) > TITLE_MAX_CHARS:
        raise UserError(
            f"That title is {len(title)} characters; Slack shows at most {TITLE_MAX_CHARS}. "
            "Shorten it and put the details in the description."
        )
    return title


def check_severity(severity: str, settings: Settings) -> str:
    name = severity.strip().upper()
    if name not in settings.severities:
        raise UserError(
            f"“{severity}” is not a severity. Use one of: {', '.join(settings.severities)}."
        )
    return name


class DeclareFlow:
    def __init__(self, store: IncidentStore, settings: Settings, updates: UpdateService) -> None:
        self.store = store
        self.settings = settings
        self.updates = updates

    async def declare(self, client: AsyncWebClient, request: DeclareRequest) -> Declared:
        title = check_title(request.title)
        severity = check_severity(request.severity, self.settings)
        incident = await self.store.create_pending(
            NewIncident(
                team_id=request.team_id,
                title=title,
                severity=severity,
                status=Status.INVESTIGATING.value,
                reporter_id=request.reporter_id,
                description=request.description.strip(),
                customer_impact=request.customer_impact,
                impact_text=request.impact_text.strip(),
                customers=request.customers,
            )
        )
        logs.note(incident=incident.number)
        await self._open_channel(client, incident)
        incident.next_update_due = await self.updates.replan(incident)
        warnings = await self._set_up_channel(client, incident)
        fresh = await self.store.reload(incident.id)
        card = incident_card(fresh, self.settings.severities)
        warnings += await self._announce(client, card)
        return Declared(card=card, warnings=warnings)

    async def _open_channel(self, client: AsyncWebClient, incident: Incident) -> None:
        """Create ``inc-<n>-<slug>``, trying further names while Slack says ``name_taken``."""
        for attempt in range(CHANNEL_NAME_ATTEMPTS):
            name = channel_name(incident.number, incident.title, attempt)
            try:
                response = await client.conversations_create(name=name)
            except SlackApiError as exc:
                if slack_error(exc) == "name_taken":
                    continue
                await self.store.discard(incident.id)
                raise UserError(
                    f"Slack refused to create the incident channel `#{name}` "
                    f"(`{slack_error(exc)}`), so no incident was opened. "
                    "Check that Amends may create channels, then try again."
                ) from exc
            except Exception:
                await self.store.discard(incident.id)
                raise
            incident.channel_id = response["channel"]["id"]
            incident.channel_name = name
            await self.store.attach_channel(incident.id, response["channel"]["id"], name)
            return
        await self.store.discard(incident.id)
        raise UserError(
            f"Every channel name from `#{channel_name(incident.number, incident.title)}` on is "
            "taken, so no incident was opened. Archive or rename old channels, or use "
            "another title."
        )

    async def _set_up_channel(self, client: AsyncWebClient, incident: Incident) -> list[str]:
        channel = str(incident.channel_id)
        warnings: list[str] = []
        card = incident_card(incident, self.settings.severities)
        steps: tuple[tuple[str, Callable[[], Awaitable[Any]]], ...] = (
            ("invite you", lambda: self._invite(client, channel, incident.reporter_id)),
            (
                "set the topic",
                lambda: client.conversations_setTopic(channel=channel, topic=channel_topic(card)),
            ),
            ("post the header", lambda: self._post_header(client, incident, card)),
            ("pin the header", lambda: self._pin_header(client, incident)),
        )
        for what, step in steps:
            try:
                await step()
            except SlackApiError as exc:
                log.warning("declare INC-%s: could not %s: %s", incident.number, what, exc)
                warnings.append(f"I could not {what} (`{slack_error(exc)}`).")
        return warnings

    async def _invite(self, client: AsyncWebClient, channel: str, user_id: str) -> None:
        await invite(client, channel, user_id)

    async def _post_header(
        self, client: AsyncWebClient, incident: Incident, card: IncidentCard
    ) -> None:
        channel = str(incident.channel_id)
        posted = await client.chat_postMessage(
            channel=channel, text=incident_header_text(card), blocks=incident_header(card)
        )
        incident.header_ts = posted["ts"]
        await self.store.set_header_ts(incident.id, posted["ts"])

    async def _pin_header(self, client: AsyncWebClient, incident: Incident) -> None:
        if incident.header_ts is None:
            return
        await call_tolerating(
            client.pins_add,
            frozenset({"already_pinned"}),
            channel=str(incident.channel_id),
            timestamp=incident.header_ts,
        )

    async def _announce(self, client: AsyncWebClient, card: IncidentCard) -> list[str]:
        target = self.settings.broadcast_channel
        if not target:
            return []
        try:
            await post_joining(
                client, target, text=announcement_text(card), blocks=announcement_blocks(card)
            )
        except SlackApiError as exc:
            log.warning("INC-%s: broadcast to %s failed: %s", card.number, target, exc)
            return [f"I could not announce it in the broadcast channel (`{slack_error(exc)}`)."]
        return []
