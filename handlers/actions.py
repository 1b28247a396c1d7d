"""Header controls: role pickers and the severity and status menus."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.incidents.errors import UserError
from bot.runtime.services import Incident, Services
from handlers.errors import guarded
from handlers.replies import team_of, tell
from messages import ids, refusals

STATE_SELECT = re.compile(rf"^({ids.SEVERITY_SELECT}|{ids.STATUS_SELECT})$")


def register(app: AsyncApp, services: Services) -> None:
    incidents = services.incidents

    @app.action(ids.ROLE_SELECT)
    @guarded
    async def role_picked(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        incident = await incident_of(services, client, body, action)
        match = ids.ROLE_SELECT.match(action["action_id"])
        role = match.group("role") if match else ""
        user_id = action.get("selected_user")
        if not user_id:
            raise UserError(refusals.role_needs_a_person())
        note = await incidents.assign_role(client, incident, role, user_id, body["user"]["id"])
        await tell_note(client, body, note)

    @app.action(STATE_SELECT)
    @guarded
    async def state_picked(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        incident = await incident_of(services, client, body, action)
        change = (
            incidents.change_severity
            if action["action_id"] == ids.SEVERITY_SELECT
            else incidents.change_status
        )
        note = await change(client, incident, selected_value(action), body["user"]["id"])
        await tell_note(client, body, note)


async def incident_of(
    services: Services, client: AsyncWebClient, body: dict[str, Any], action: dict[str, Any]
) -> Incident:
    """The incident a control belongs to, in the clicking user's workspace, for a participant."""
    match = ids.INCIDENT_BLOCK.match(str(action.get("block_id", "")))
    team_id = team_of(body)
    if not match or not team_id:
        raise UserError(refusals.not_an_incident_control())
    number = int(match.group("number"))
    return await services.incidents.by_number(client, str(team_id), number, actor_of(body))


def actor_of(body: dict[str, Any]) -> str:
    user = body.get("user") or {}
    return str(user.get("id") or "")


def selected_value(action: dict[str, Any]) -> str:
    option = action.get("selected_option") or {}
    value = option.get("value")
    if not value:
        raise UserError(refusals.nothing_selected())
    return str(value)


async def tell_note(client: AsyncWebClient, body: dict[str, Any], note: str | None) -> None:
    """A private note to whoever clicked: in place when the click came from a message,
    else as a DM (a click in a modal or App Home has no response_url)."""
    if note:
        await tell(client, body, note)
