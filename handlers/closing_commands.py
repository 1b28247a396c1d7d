"""The ``/incident`` subcommands about customers and the end: customers, close, reopen,
report and stats. Each is named in the table of ``handlers.subcommands``."""

from __future__ import annotations

from bot.incidents.errors import UserError
from bot.runtime.services import Incident
from bot.slack.calls import open_view
from bot.slack.header import incident_card
from handlers.customers import customers_form_metadata, show
from handlers.invocation import Call
from handlers.parsing import parse_reopen
from messages import refusals
from messages.closing import add_customers_modal
from messages.report import figure_lines, figures_blocks, window_blocks

WINDOW_DAYS = {"30d": 30, "90d": 90}
LINK_ACTIONS = ("link", "revoke-link")
CUSTOMERS_ACTIONS = ("", "add", "remove", *LINK_ACTIONS)


async def customers(call: Call, incident: Incident) -> None:
    """No argument: the checklist. ``add`` without names opens the form."""
    action, _, rest = call.parsed.rest.partition(" ")
    action = action.lower()
    service = call.services.customers
    if action == "":
        page = await service.page(incident, service.default_kind(incident), 0)
        await show(call.respond, page, replace=False)
        return
    if action == "add" and not rest.strip():
        card = incident_card(incident, call.services.settings.severities)
        view = add_customers_modal(card, customers_form_metadata(incident.number))
        await open_view(call.client, call.command["trigger_id"], view, "Run the command again.")
        return
    if action in LINK_ACTIONS:
        status = call.services.status
        link = status.customer_link if action == "link" else status.revoke_link
        await call.tell(await link(incident, rest, call.user_id))
        return
    if action == "add":
        names = await service.check_names(incident, rest)
        note = await service.add(call.client, incident, names, call.user_id)
    else:
        note = await service.remove(call.client, incident, rest, call.user_id)
    await call.tell(note)


async def close(call: Call, incident: Incident) -> None:
    await call.services.closing.open_form(
        call.client, incident, call.user_id, call.command["trigger_id"]
    )


async def reopen(call: Call) -> None:
    """``reopen <reason>`` in the incident channel, or ``reopen INC-<n> <reason>`` from
    any channel: an archived channel has no message box, so a closed incident is
    reopened from elsewhere (its channel is unarchived first)."""
    number, reason = parse_reopen(call.parsed.rest)
    incidents = call.services.incidents
    if number is None:
        incident = await incidents.in_channel(
            call.client, call.team_id, call.channel_id, call.parsed.name, call.user_id
        )
    else:
        incident = await incidents.by_number(call.client, call.team_id, number, call.user_id)
    await call.services.closing.reopen(call.client, incident, reason, call.user_id)
    if incident.channel_id != call.channel_id:
        await call.tell(
            f"INC-{incident.number} is reopened; it goes on in <#{incident.channel_id}>."
        )


async def report(call: Call, incident: Incident) -> None:
    note = await call.services.reports.post(call.client, incident)
    if note:
        await call.tell(note)


async def stats(call: Call) -> None:
    """In an incident channel with no window: that incident; otherwise the workspace."""
    services, window = call.services, call.parsed.rest.lower()
    incident = None if window else await services.store.by_channel(call.team_id, call.channel_id)
    if incident is not None:
        figures = await services.reports.figures(incident)
        blocks = figures_blocks(f"Recovery figures · INC-{incident.number}", figure_lines(figures))
        text = f"Recovery figures for INC-{incident.number}"
    else:
        days = WINDOW_DAYS.get(window or "30d")
        if days is None:
            raise UserError(refusals.usage(f"{refusals.COMMAND} stats [{'|'.join(WINDOW_DAYS)}]"))
        blocks = window_blocks(await services.reports.window(call.team_id, days))
        text = f"Recovery figures, last {days} days"
    await call.respond(text=text, blocks=blocks, response_type="ephemeral")
