"""``/incident``: the one table of its subcommands, and the listener that reads it.

Each row declares a subcommand once: its name, the arguments its usage shows, the summary
``help`` shows, whether it runs on the incident of the channel it is typed in, the check
its arguments pass before the acknowledgement, and the function that runs it. Parsing,
the usage checks, routing and ``help`` all read this table.
"""

from __future__ import annotations

import difflib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.incidents.changes import check_role, parse_status
from bot.incidents.declare import check_severity
from bot.incidents.errors import UserError
from bot.incidents.policy import ACTIVE_STATUSES, ROLES
from bot.incidents.titles import check_title
from bot.playbooks.languages import parse_language
from bot.runtime.services import Incident, Services
from bot.settings import Settings
from handlers import closing_commands, commands, declare_form, directory, playbooks
from handlers.errors import Listener, guarded
from handlers.invocation import Call
from handlers.parsing import Command, expect_args, parse_reopen, parse_user
from messages import refusals
from messages.text import HelpLine, help_blocks
from messages.tone import LANGUAGES

COMMAND = refusals.COMMAND

Anywhere = Callable[[Call], Awaitable[None]]
InChannel = Callable[[Call, Incident], Awaitable[None]]
Check = Callable[["Subcommand", Command, Settings], None]


@dataclass(frozen=True)
class Subcommand:
    """One ``/incident`` subcommand. It runs ``anywhere``, or ``in_channel`` on the
    incident of the channel it is typed in (for someone taking part in it)."""

    name: str
    args: str
    summary: str
    anywhere: Anywhere | None = None
    in_channel: InChannel | None = None
    check: Check | None = None
    acks_itself: bool = False
    """True when the subcommand's acknowledgement carries its answer."""
    elsewhere: str = ""
    """Arguments that make it work from any channel (``reopen INC-<n> <reason>``)."""

    def usage(self, settings: Settings) -> str:
        """``/incident severity <SEV1|SEV2>``, with this workspace's severities."""
        args = self.args.format(severities="|".join(settings.severities))
        return " ".join(part for part in (COMMAND, self.name, args) if part)

    def help_line(self, settings: Settings) -> HelpLine:
        elsewhere = f"{COMMAND} {self.name} {self.elsewhere}" if self.elsewhere else ""
        return HelpLine(self.usage(settings), self.summary, self.in_channel is not None, elsewhere)


def _no_arguments(sub: Subcommand, parsed: Command, settings: Settings) -> None:
    if parsed.args:
        raise UserError(refusals.takes_no_arguments(sub.usage(settings)))


def _title(sub: Subcommand, parsed: Command, settings: Settings) -> None:
    check_title(parsed.rest)


def _role(sub: Subcommand, parsed: Command, settings: Settings) -> None:
    role, user = expect_args(parsed, 2, sub.usage(settings))
    check_role(role)
    parse_user(user)


def _status(sub: Subcommand, parsed: Command, settings: Settings) -> None:
    (status,) = expect_args(parsed, 1, sub.usage(settings))
    parse_status(status)


def _severity(sub: Subcommand, parsed: Command, settings: Settings) -> None:
    (severity,) = expect_args(parsed, 1, sub.usage(settings))
    check_severity(severity, settings)


def _customers(sub: Subcommand, parsed: Command, settings: Settings) -> None:
    action = parsed.args[0].lower() if parsed.args else ""
    if action not in closing_commands.CUSTOMERS_ACTIONS:
        raise UserError(refusals.customers_usage())
    if action in ("remove", *closing_commands.LINK_ACTIONS) and len(parsed.args) < 2:
        raise UserError(refusals.customers_usage())


def _name(sub: Subcommand, parsed: Command, settings: Settings) -> None:
    if not parsed.rest:
        raise UserError(refusals.directory_usage())


def _on_off(sub: Subcommand, parsed: Command, settings: Settings) -> None:
    (choice,) = expect_args(parsed, 1, sub.usage(settings))
    if choice.lower() not in ("on", "off"):
        raise UserError(refusals.usage(sub.usage(settings)))


def _reopen(sub: Subcommand, parsed: Command, settings: Settings) -> None:
    parse_reopen(parsed.rest)


def _window(sub: Subcommand, parsed: Command, settings: Settings) -> None:
    if parsed.rest.lower() not in ("", *closing_commands.WINDOW_DAYS):
        raise UserError(refusals.usage(sub.usage(settings)))


def _playbook_name(sub: Subcommand, parsed: Command, settings: Settings) -> None:
    if not parsed.rest:
        raise UserError(refusals.playbook_name_missing(sub.usage(settings)))


def _language(sub: Subcommand, parsed: Command, settings: Settings) -> None:
    (code,) = expect_args(parsed, 1, sub.usage(settings))
    parse_language(code)


def help_lines(settings: Settings) -> list[HelpLine]:
    """What ``help`` lists: every row of the table, in order, with this workspace's
    severities."""
    return [sub.help_line(settings) for sub in TABLE]


async def _help(call: Call) -> None:
    lines = help_lines(call.services.settings)
    await call.ack(blocks=help_blocks(COMMAND, lines), text=f"How to use {COMMAND}")


TABLE: tuple[Subcommand, ...] = (
    Subcommand(
        "",
        "",
        "open the declare form: title, severity, impact, customers",
        anywhere=declare_form.open_declare_form,
    ),
    Subcommand(
        "declare",
        "<title>",
        "declare right away with the default severity",
        anywhere=commands.declare,
        check=_title,
        acks_itself=True,
    ),
    Subcommand(
        "role",
        f"<{'|'.join(ROLES)}> @person",
        "give someone a role",
        in_channel=commands.role,
        check=_role,
    ),
    Subcommand(
        "status",
        f"<{'|'.join(s.value for s in ACTIVE_STATUSES)}>",
        "say where things stand",
        in_channel=commands.status,
        check=_status,
    ),
    Subcommand(
        "severity",
        "<{severities}>",
        "change the severity",
        in_channel=commands.severity,
        check=_severity,
    ),
    Subcommand(
        "update", "", "write a customer update, with a tone check", in_channel=commands.update
    ),
    Subcommand("pause", "", "stop update reminders", in_channel=commands.pause),
    Subcommand("resume", "", "restart update reminders", in_channel=commands.resume),
    Subcommand(
        "public",
        "<on|off>",
        "show this incident on the public status page, or keep it off",
        in_channel=commands.public,
        check=_on_off,
    ),
    Subcommand(
        "customers",
        "",
        "the contact checklist; `add <names>`, `remove <name>`, `link <name>` (its private "
        "page), `revoke-link <name>`",
        in_channel=closing_commands.customers,
        check=_customers,
    ),
    Subcommand(
        "customer",
        "<name>",
        "one customer of the directory: how updates reach them, and a form to edit it",
        anywhere=directory.show_customer,
        check=_name,
    ),
    Subcommand(
        "language",
        f"<{'|'.join(LANGUAGES)}>",
        "the language customer messages are drafted in",
        in_channel=playbooks.set_language,
        check=_language,
    ),
    Subcommand(
        "close",
        "",
        "resolve: root cause, amends, customer follow-up",
        in_channel=closing_commands.close,
        check=_no_arguments,
    ),
    Subcommand(
        "reopen",
        "<reason>",
        "reopen a resolved or closed incident (an archived channel is unarchived)",
        anywhere=closing_commands.reopen,
        check=_reopen,
        elsewhere="INC-<n> <reason>",
    ),
    Subcommand(
        "report",
        "",
        "the remediation report for customers, and the timeline",
        in_channel=closing_commands.report,
        check=_no_arguments,
    ),
    Subcommand(
        "stats",
        f"[{'|'.join(closing_commands.WINDOW_DAYS)}]",
        "recovery figures (this incident, or the workspace)",
        anywhere=closing_commands.stats,
        check=_window,
    ),
    Subcommand(
        "list",
        "",
        "the open incidents, with links to their channels",
        anywhere=commands.list_open,
    ),
    Subcommand(
        "playbooks",
        "",
        "the playbooks, their owners and review dates",
        anywhere=playbooks.list_playbooks,
        check=_no_arguments,
    ),
    Subcommand(
        "playbook",
        "<name>",
        "apply a playbook here: severity, update cadence, steps, customer templates",
        anywhere=playbooks.playbook_runner(apply=playbooks.apply_playbook_here),
        check=_playbook_name,
        elsewhere=f"<name> {playbooks.REVIEWED}",
    ),
    Subcommand(
        "drill",
        "<playbook>",
        "rehearse a playbook: a marked incident that never reaches customers or the figures",
        anywhere=playbooks.drill,
        check=_playbook_name,
        acks_itself=True,
    ),
    Subcommand("help", "", "this list", anywhere=_help, acks_itself=True),
)
BY_NAME = {sub.name: sub for sub in TABLE}
SUBCOMMANDS: tuple[str, ...] = tuple(sub.name for sub in TABLE if sub.name)
"""The names a person types after ``/incident``."""


def parse_command(text: str) -> Command:
    """Split ``text`` into a known subcommand and its arguments."""
    text = (text or "").strip()
    if not text:
        return Command(name="", args=[], rest="")
    word, _, rest = text.partition(" ")
    name = word.lower()
    if name not in SUBCOMMANDS:
        raise UserError(unknown_subcommand(word))
    return Command(name=name, args=rest.split(), rest=rest.strip())


def unknown_subcommand(word: str) -> str:
    close = difflib.get_close_matches(word.lower(), SUBCOMMANDS, n=2, cutoff=0.5)
    return refusals.unknown_subcommand(word, close)


def register(app: AsyncApp, services: Services) -> None:
    app.command(COMMAND)(command_listener(services))


def command_listener(services: Services) -> Listener:
    """Parse and check before acknowledging, so a refusal is the acknowledgement itself."""

    async def incident_command(
        ack: AsyncAck,
        body: dict[str, Any],
        command: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        try:
            parsed = parse_command(command.get("text", ""))
            sub = BY_NAME[parsed.name]
            if sub.check is not None:
                sub.check(sub, parsed, services.settings)
        except UserError as exc:
            await ack(text=exc.message)
            return
        await run(sub, Call(services, parsed, command, ack, client, respond))

    return guarded(incident_command)


async def run(sub: Subcommand, call: Call) -> None:
    """Acknowledge (unless the answer is the acknowledgement), then run ``sub``; one
    that works in an incident channel gets that channel's incident."""
    if not sub.acks_itself:
        await call.ack()
    if sub.in_channel is not None:
        incident = await call.services.incidents.in_channel(
            call.client, call.team_id, call.channel_id, sub.name, call.user_id
        )
        await sub.in_channel(call, incident)
    elif sub.anywhere is not None:
        await sub.anywhere(call)
