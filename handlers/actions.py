"""Header controls: role pickers and the severity and status menus."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.incidents.errors import UserError
from bot.runtime.services import Services
from handlers.controls import Click, on_incident, selected_value
from messages import ids, refusals


def register(app: AsyncApp, services: Services) -> None:
    app.action(ids.ROLE_SELECT)(on_incident(services, role_picked))
    app.action(ids.SEVERITY_SELECT)(on_incident(services, severity_picked))
    app.action(ids.STATUS_SELECT)(on_incident(services, status_picked))


async def role_picked(click: Click) -> None:
    match = ids.ROLE_SELECT.match(click.action_id)
    role = match.group("role") if match else ""
    user_id = click.action.get("selected_user")
    if not user_id:
        raise UserError(refusals.role_needs_a_person())
    incidents = click.services.incidents
    note = await incidents.assign_role(click.client, click.incident, role, user_id, click.actor)
    await click.tell(note)


async def severity_picked(click: Click) -> None:
    severity = selected_value(click.action)
    incidents = click.services.incidents
    note = await incidents.change_severity(click.client, click.incident, severity, click.actor)
    await click.tell(note)


async def status_picked(click: Click) -> None:
    status = selected_value(click.action)
    incidents = click.services.incidents
    note = await incidents.change_status(click.client, click.incident, status, click.actor)
    await click.tell(note)
