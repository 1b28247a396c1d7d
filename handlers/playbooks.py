"""Playbooks from Slack: apply one (``/incident playbook <name>`` or the declare form), tick
its steps off, set the incident's customer language (``/incident language <code>``), list
them (``/incident playbooks``), record a review (``/incident playbook <name> reviewed``) and
start a drill (``/incident drill <playbook>``). Each command is a row of the table in
``handlers.subcommands``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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
from messages.playbooks import playbooks_blocks
from messages.text import declared_reply_text

REVIEWED = "reviewed"
"""The last word of ``playbook <name> reviewed``."""

Runner = Callable[[Call], Awaitable[None]]


def reviewed_name(rest: str) -> str | None:
    """``Card payments failing reviewed`` → ``Card payments failing``; None when the text
    does not end in ``reviewed`` (then it is the playbook to apply)."""
    words = rest.split()
    if len(words) >= 2 and words[-1].lower() == REVIEWED:
        return " ".join(words[:-1])
    return None


async def list_playbooks(call: Call) -> None:
    lines = await call.services.reviews.lines()
    await call.respond(blocks=playbooks_blocks(lines), text="Playbooks", response_type="ephemeral")


def playbook_runner(apply: Runner) -> Runner:
    """``playbook <name> reviewed`` records the review (from any channel); any other
    ``playbook <name>`` goes to ``apply`` (in an incident channel)."""

    async def playbook(call: Call) -> None:
        name = reviewed_name(call.parsed.rest)
        if name is None:
            await apply(call)
            return
        await call.tell(await call.services.reviews.mark_reviewed(name, call.user_id))

    return playbook


async def drill(call: Call) -> None:
    """``drill <playbook>``: the acknowledgement says it is under way; the link follows,
    to this person only (a drill is announced nowhere)."""
    drills = call.services.drills
    playbook = drills.catalogue.find(call.parsed.rest)
    await call.ack(text=f"Starting a drill of “{playbook.name}”… the channel link follows.")
    declared = await drills.start(call.client, call.team_id, call.user_id, playbook)
    await call.tell("\n".join([declared_reply_text(declared.card), *declared.warnings]))


def register(app: AsyncApp, services: Services) -> None:
    app.action(ids.PLAYBOOK_STEP)(on_incident(services, step_ticked))


async def apply_playbook_here(call: Call) -> None:
    """``playbook <name>`` in an incident channel (``<name> reviewed``, which may be typed
    anywhere, was routed before this): the channel hears what changed."""
    incident = await call.services.incidents.in_channel(
        call.client, call.team_id, call.channel_id, call.parsed.name, call.user_id
    )
    service = call.services.playbooks
    await service.apply(
        call.client, incident, service.catalogue.find(call.parsed.rest), call.user_id
    )


async def set_language(call: Call, incident: Incident) -> None:
    await call.services.playbooks.set_language(
        call.client, incident, call.parsed.args[0], call.user_id
    )


def picked_playbook(values: dict[str, Any]) -> str | None:
    """The value of the option selected in the declare form's playbook menu (a playbook's
    name, or :attr:`DeclareFields.NO_PLAYBOOK`), or None when nothing is selected."""
    block = values.get(DeclareFields.PLAYBOOK_BLOCK) or {}
    element = block.get(DeclareFields.PLAYBOOK_ACTION) or {}
    option = element.get("selected_option") or {}
    value = option.get("value") if isinstance(option, dict) else None
    return str(value) if value else None


def chosen_playbook(services: Services, values: dict[str, Any]) -> Playbook | None:
    """The playbook picked in the declare form, if any (a stale name reads as none)."""
    value = picked_playbook(values)
    if value is None or value == DeclareFields.NO_PLAYBOOK:
        return None
    return services.playbooks.catalogue.get(value)


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
