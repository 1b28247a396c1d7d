"""``/incident customers|close|reopen|report|stats``: the customer and close subcommands."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.incidents.errors import UserError
from bot.runtime.services import Incident, Services
from bot.slack.calls import open_view
from bot.slack.header import incident_card
from handlers.customers import customers_form_metadata, show
from handlers.parsing import Command, parse_reopen
from messages.closing import add_customers_modal
from messages.report import figure_lines, figures_blocks, window_blocks

Subcommand = Callable[
    [Services, Incident, Command, dict[str, Any], AsyncWebClient, AsyncRespond], Awaitable[None]
]
WINDOW_DAYS = {"30d": 30, "90d": 90}


async def customers(
    services: Services,
    incident: Incident,
    parsed: Command,
    command: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    """No argument: the checklist. ``add`` without names opens the form."""
    action, _, rest = parsed.rest.partition(" ")
    action, actor = action.lower(), command["user_id"]
    service = services.customers
    if action == "":
        page = await service.page(incident, service.default_kind(incident), 0)
        await show(respond, page, replace=False)
        return
    if action == "add" and not rest.strip():
        card = incident_card(incident, services.settings.severities)
        view = add_customers_modal(card, customers_form_metadata(incident.number))
        await open_view(client, command["trigger_id"], view, "Run the command again.")
        return
    if action == "add":
        names = await service.check_names(incident, rest)
        note = await service.add(client, incident, names, actor)
    else:
        note = await service.remove(client, incident, rest, actor)
    await respond(text=note, response_type="ephemeral")


async def close(
    services: Services,
    incident: Incident,
    parsed: Command,
    command: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    await services.closing.open_form(client, incident, command["user_id"], command["trigger_id"])


async def reopen(
    services: Services,
    parsed: Command,
    command: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    """``reopen <reason>`` in the incident channel, or ``reopen INC-<n> <reason>`` from
    any channel: an archived channel has no message box, so a closed incident is
    reopened from elsewhere (its channel is unarchived first)."""
    number, reason = parse_reopen(parsed.rest)
    team_id, user_id = command["team_id"], command["user_id"]
    if number is None:
        incident = await services.incidents.in_channel(
            client, team_id, command["channel_id"], parsed.name, user_id
        )
    else:
        incident = await services.incidents.by_number(client, team_id, number, user_id)
    await services.closing.reopen(client, incident, reason, user_id)
    if incident.channel_id != command["channel_id"]:
        await respond(
            text=f"INC-{incident.number} is reopened; it goes on in <#{incident.channel_id}>.",
            response_type="ephemeral",
        )


async def report(
    services: Services,
    incident: Incident,
    parsed: Command,
    command: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    note = await services.reports.post(client, incident)
    if note:
        await respond(text=note, response_type="ephemeral")


LATE_SUBCOMMANDS: dict[str, Subcommand] = {
    "customers": customers,
    "close": close,
    "report": report,
}


async def answer_stats(
    services: Services, respond: AsyncRespond, team_id: str, channel_id: str, window: str
) -> None:
    """In an incident channel with no window: that incident; otherwise the workspace."""
    incident = None if window else await services.store.by_channel(team_id, channel_id)
    if incident is not None:
        figures = await services.reports.figures(incident)
        blocks = figures_blocks(f"Recovery figures · INC-{incident.number}", figure_lines(figures))
        text = f"Recovery figures for INC-{incident.number}"
    else:
        days = WINDOW_DAYS.get(window or "30d")
        if days is None:
            raise UserError("Usage: `/incident stats [30d|90d]`")
        blocks = window_blocks(await services.reports.window(team_id, days))
        text = f"Recovery figures, last {days} days"
    await respond(text=text, blocks=blocks, response_type="ephemeral")
