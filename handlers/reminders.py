"""Customer-update buttons: the header's “Post customer update” and the reminder's buttons."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime.services import Incident, Services
from handlers.actions import incident_of, tell_note
from handlers.customers import show
from handlers.errors import guarded
from messages import ids
from messages.checklists import CONTACT


def register(app: AsyncApp, services: Services) -> None:
    updates = services.updates

    @app.action(re.compile(rf"^({ids.POST_UPDATE}|{ids.REMINDER_WRITE})$"))
    @guarded
    async def write_update(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        incident = await incident_of(services, client, body, action)
        if action["action_id"] == ids.REMINDER_WRITE:
            await updates.check_token(incident, str(action.get("value", "")), consume=False)
        await updates.open_composer(client, incident, body["trigger_id"], body.get("response_url"))

    @app.action(ids.REMINDER_CONTACTED)
    # With a customer list the button opens the checklist; without one it records that the
    # customers were reached directly, as one touchpoint.
    @guarded
    async def customers_contacted(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        incident = await incident_of(services, client, body, action)
        if incident.customers:
            page = await services.customers.page(incident, CONTACT, 0)
            await show(respond, page, replace=False)
            return
        await updates.check_token(incident, str(action.get("value", "")), consume=True)
        note = await updates.customers_contacted(client, incident, body["user"]["id"])
        await tell_note(client, body, note)

    @app.action(ids.REMINDER_SNOOZE)
    @guarded
    async def snooze(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        incident = await used_reminder(services, client, body, action)
        match = ids.REMINDER_SNOOZE.match(action["action_id"])
        minutes = int(match.group("minutes")) if match else 15
        note = await updates.snooze(client, incident, body["user"]["id"], minutes)
        await tell_note(client, body, note)


async def used_reminder(
    services: Services, client: AsyncWebClient, body: dict[str, Any], action: dict[str, Any]
) -> Incident:
    """The incident of a reminder button, using the button up (a second click is refused)."""
    incident = await incident_of(services, client, body, action)
    await services.updates.check_token(incident, str(action.get("value", "")), consume=True)
    return incident
