"""Playbooks from Slack: apply one (``/incident playbook <name>`` or the declare form), tick
its steps off, and set the incident's customer language (``/incident language <code>``)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.incidents.errors import UserError
from bot.playbooks.model import Playbook
from bot.runtime.services import Incident, Services
from handlers.controls import Click, on_incident
from handlers.invocation import Call
from handlers.parsing import number_part
from messages import ids, refusals
from messages.ids import DeclareFields


def register(app: AsyncApp, services: Services) -> None:
    app.action(ids.PLAYBOOK_STEP)(on_incident(services, step_ticked))


async def apply_playbook_here(call: Call) -> None:
    """``playbook <name>`` in an incident channel (``<name> reviewed``, which may be typed
    anywhere, was routed before this): the channel hears what changed."""
    incident = await call.services.incidents.in_channel(
        call.client, call.team_id, call.channel_id, call.parsed.name, call.user_id
    )
    service = call.services.playbooks
    await service.apply(call.client, incident, service.find(call.parsed.rest), call.user_id)


async def set_language(call: Call, incident: Incident) -> None:
    await call.services.playbooks.set_language(
        call.client, incident, call.parsed.args[0], call.user_id
    )


def chosen_playbook(services: Services, values: dict[str, Any]) -> Playbook | None:
    """The playbook picked in the declare form, if any (a stale name reads as none)."""
    block = values.get(DeclareFields.PLAYBOOK_BLOCK) or {}
    element = block.get(DeclareFields.PLAYBOOK_ACTION) or {}
    option = element.get("selected_option") or {}
    value = option.get("value") if isinstance(option, dict) else None
    if not value or value == DeclareFields.NO_PLAYBOOK:
        return None
    return services.playbooks.catalogue.get(str(value))


async def step_ticked(click: Click) -> None:
    container = click.body.get("container") or {}
    channel = str(container.get("channel_id") or "")
    ts = str(container.get("message_ts") or "")
    if not channel or not ts:
        raise UserError(refusals.control_out_of_date())
    position = number_part(click.action_id.rpartition(":")[2])
    await click.services.playbooks.tick(
        click.client, click.incident, position, click.actor, (channel, ts)
    )
