"""Parsing ``/incident`` arguments and control values: user mentions, incident numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.incidents.errors import UserError
from messages import refusals

# Slack escapes picked users as <@U123|name> (or <@U123>) when "Escape channels, users,
# and links" is on for the command, as the manifest sets it.
_MENTION = re.compile(r"^<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>$")
_INCIDENT_NUMBER = re.compile(r"^INC-([0-9]{1,9})$", re.IGNORECASE)


@dataclass(frozen=True)
class Command:
    name: str
    args: list[str]
    rest: str


def parse_user(token: str) -> str:
    """The user id in a Slack mention, or a UserError explaining how to mention someone."""
    match = _MENTION.match(token.strip())
    if not match:
        raise UserError(refusals.not_a_mention(token))
    return match.group(1)


def expect_args(command: Command, count: int, usage_line: str) -> list[str]:
    if len(command.args) != count:
        raise UserError(refusals.usage(usage_line))
    return command.args


def value_parts(value: object, count: int) -> list[str]:
    """``"12:3"`` → ``["12", "3"]``: the parts a checklist control carries, all present."""
    parts = str(value or "").split(":")
    if len(parts) != count or not all(parts):
        raise UserError(refusals.stale_control())
    return parts


def number_part(text: str) -> int:
    if not text.isdigit() or len(text) > 9:
        raise UserError(refusals.stale_control())
    return int(text)


def parse_reopen(text: str) -> tuple[int | None, str]:
    """``INC-4 errors are back`` → ``(4, "errors are back")``; without a number the
    incident is the channel's. A reason is required either way."""
    word, _, rest = text.strip().partition(" ")
    match = _INCIDENT_NUMBER.match(word)
    number, reason = (int(match.group(1)), rest.strip()) if match else (None, text.strip())
    if not reason:
        raise UserError(refusals.reopen_usage())
    return number, reason
