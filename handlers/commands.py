"""``/incident`` and its subcommands: parse, acknowledge, call a service, answer."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.incidents.changes import check_role, parse_status
from bot.incidents.customers import parse_customer_list
from bot.incidents.declare import DeclareRequest, check_severity, check_title
from bot.incidents.errors import UserError
from bot.runtime.services import Services
from bot.slack.calls import open_view
from handlers.closing_commands import LATE_SUBCOMMANDS, answer_stats, reopen
from handlers.errors import guarded
from handlers.parsing import Command, expect_args, parse_command, parse_reopen, parse_user
from messages.modals import declare_modal
from messages.text import declared_reply_text, help_blocks, incident_list_blocks

COMMAND = "/incident"

Reply = Callable[..., Awaitable[Any]]


def register(app: AsyncApp, services: Services) -> None:
    @app.command(COMMAND)
    @guarded
    async def incident_command(
        ack: AsyncAck,
        body: dict[str, Any],
        command: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        try:
            parsed = parse_command(command.get("text", ""))
            check_arguments(parsed, services)
        except UserError as exc:
            await ack(text=exc.message)
            return
        await dispatch(services, parsed, ack, command, client, respond)


def check_arguments(command: Command, services: Services) -> None:
    """Reject malformed arguments before acknowledging, so the ack itself says why."""
    if command.name == "declare":
        check_title(command.rest)
    elif command.name == "role":
        role, user = expect_args(command, 2, "/incident role <lead|comms|tech|scribe> @person")
        check_role(role)
        parse_user(user)
    elif command.name == "status":
        (status,) = expect_args(
            command, 1, "/incident status <investigating|identified|monitoring>"
        )
        parse_status(status)
    elif command.name == "severity":
        severities = "|".join(services.settings.severities)
        (severity,) = expect_args(command, 1, f"/incident severity <{severities}>")
        check_severity(severity, services.settings)
    elif command.name == "customers":
        check_customers_arguments(command)
    elif command.name == "reopen":
        parse_reopen(command.rest)
    elif command.name == "stats" and command.rest.lower() not in STATS_WINDOWS:
        raise UserError("Usage: `/incident stats [30d|90d]`")
    elif command.name in ("close", "report") and command.args:
        raise UserError(f"Usage: `/incident {command.name}` (it takes no arguments)")


CUSTOMERS_USAGE = (
    "Usage: `/incident customers` (the checklist), `/incident customers add Acme, Globex` "
    "or `/incident customers remove Acme`."
)
STATS_WINDOWS = ("", "30d", "90d")


def check_customers_arguments(command: Command) -> None:
    action = command.args[0].lower() if command.args else ""
    if action not in ("", "add", "remove"):
        raise UserError(CUSTOMERS_USAGE)
    if action == "remove" and len(command.args) < 2:
        raise UserError(CUSTOMERS_USAGE)


async def dispatch(
    services: Services,
    parsed: Command,
    ack: AsyncAck,
    command: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    team_id, user_id, channel_id = command["team_id"], command["user_id"], command["channel_id"]
    if parsed.name == "help":
        await ack(blocks=help_blocks(COMMAND), text="How to use /incident")
        return
    if parsed.name == "":
        await ack()
        await open_declare_modal(services, client, command)
        return
    if parsed.name == "declare":
        await ack(text=f"Declaring “{parsed.rest[:150]}”… the channel link follows in a moment.")
        await declare_quick(services, client, respond, team_id, user_id, parsed.rest)
        return
    await ack()
    if parsed.name == "list":
        cards, total = await services.incidents.list_open(team_id)
        await respond(
            blocks=incident_list_blocks(cards, total=total),
            text="Open incidents",
            response_type="ephemeral",
        )
        return
    if parsed.name == "stats":
        await answer_stats(services, respond, team_id, channel_id, parsed.rest.lower())
        return
    if parsed.name == "reopen":
        await reopen(services, parsed, command, client, respond)
        return
    incident = await services.incidents.in_channel(
        client, team_id, channel_id, parsed.name, user_id
    )
    incidents = services.incidents
    if parsed.name in LATE_SUBCOMMANDS:
        await LATE_SUBCOMMANDS[parsed.name](services, incident, parsed, command, client, respond)
        return
    if parsed.name == "update":
        await services.updates.open_composer(
            client, incident, command["trigger_id"], command.get("response_url")
        )
        return
    if parsed.name in ("pause", "resume"):
        await services.updates.set_paused(client, incident, user_id, parsed.name == "pause")
        return
    if parsed.name == "role":
        note = await incidents.assign_role(
            client, incident, parsed.args[0], parse_user(parsed.args[1]), user_id
        )
    elif parsed.name == "status":
        note = await incidents.change_status(client, incident, parsed.args[0], user_id)
    else:
        note = await incidents.change_severity(client, incident, parsed.args[0], user_id)
    if note:
        await respond(text=note, response_type="ephemeral")


async def open_declare_modal(
    services: Services, client: AsyncWebClient, command: dict[str, Any]
) -> None:
    metadata = json.dumps(
        {"channel_id": command.get("channel_id"), "response_url": command.get("response_url")}
    )
    view = declare_modal(
        severities=services.settings.severities,
        default_severity=services.settings.default_severity,
        private_metadata=metadata,
    )
    await open_view(
        client,
        command["trigger_id"],
        view,
        "Run `/incident` again, or declare directly with `/incident declare <title>`.",
    )


async def declare_quick(
    services: Services,
    client: AsyncWebClient,
    respond: AsyncRespond,
    team_id: str,
    user_id: str,
    title: str,
) -> None:
    declared = await services.declare.declare(
        client,
        DeclareRequest(
            team_id=team_id,
            reporter_id=user_id,
            title=title,
            severity=services.settings.default_severity,
            customers=parse_customer_list(""),
        ),
    )
    text = "\n".join([declared_reply_text(declared.card), *declared.warnings])
    await respond(text=text, response_type="ephemeral")
