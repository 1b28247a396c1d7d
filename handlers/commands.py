"""The ``/incident`` subcommands that declare, list and change an open incident.

Each is named in the table of ``handlers.subcommands``, which parses, checks, acknowledges
and finds the incident before calling them.
"""

from __future__ import annotations

from bot.incidents.customers import parse_customer_list
from bot.incidents.declare import DeclareRequest
from bot.runtime.services import Incident
from handlers.invocation import Call
from handlers.parsing import parse_user
from messages.limits import TITLE_MAX
from messages.text import declared_reply_text, incident_list_blocks


async def declare(call: Call) -> None:
    """``declare <title>``: the acknowledgement says it is under way; the link follows."""
    title = call.parsed.rest
    await call.ack(text=f"Declaring “{title[:TITLE_MAX]}”… the channel link follows in a moment.")
    services = call.services
    declared = await services.declare.declare(
        call.client,
        DeclareRequest(
            team_id=call.team_id,
            reporter_id=call.user_id,
            title=title,
            severity=services.settings.default_severity,
            customers=parse_customer_list(""),
        ),
    )
    await call.tell("\n".join([declared_reply_text(declared.card), *declared.warnings]))


async def list_open(call: Call) -> None:
    cards, total = await call.services.incidents.list_open(call.team_id)
    await call.respond(
        blocks=incident_list_blocks(cards, total=total),
        text="Open incidents",
        response_type="ephemeral",
    )


async def role(call: Call, incident: Incident) -> None:
    role_name, user = call.parsed.args
    note = await call.services.incidents.assign_role(
        call.client, incident, role_name, parse_user(user), call.user_id
    )
    await _note(call, note)


async def status(call: Call, incident: Incident) -> None:
    note = await call.services.incidents.change_status(
        call.client, incident, call.parsed.args[0], call.user_id
    )
    await _note(call, note)


async def severity(call: Call, incident: Incident) -> None:
    note = await call.services.incidents.change_severity(
        call.client, incident, call.parsed.args[0], call.user_id
    )
    await _note(call, note)


async def update(call: Call, incident: Incident) -> None:
    await call.services.updates.open_composer(
        call.client, incident, call.command["trigger_id"], call.command.get("response_url")
    )


async def pause(call: Call, incident: Incident) -> None:
    await call.services.updates.set_paused(call.client, incident, call.user_id, True)


async def resume(call: Call, incident: Incident) -> None:
    await call.services.updates.set_paused(call.client, incident, call.user_id, False)


async def public(call: Call, incident: Incident) -> None:
    public = call.parsed.args[0].lower() == "on"
    await call.services.status.set_public(call.client, incident, call.user_id, public)


async def _note(call: Call, note: str | None) -> None:
    if note:
        await call.tell(note)
