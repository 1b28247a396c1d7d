"""Texts and small block sets: help, list, announcements, replies, channel notes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from messages.blocks import (
    SECTION_MAX,
    Block,
    channel_link,
    context,
    escape_within,
    header,
    mention,
    section,
)
from messages.limits import TITLE_MAX
from messages.model import ROLE_LABELS, IncidentCard

LIST_BLOCKS_MAX = 45
LIST_TITLE_MAX = 100
IMPACT_IN_ANNOUNCEMENT_MAX = 500
ROLE_DUTIES: dict[str, str] = {
    "lead": "you run the incident and make the calls",
    "comms": "you own customer updates",
    "tech": "you lead the investigation and the fix",
    "scribe": "you keep the timeline and the notes",
}


@dataclass(frozen=True)
class HelpLine:
    """One subcommand as ``help`` shows it: its usage, what it does, whether it only works
    inside an incident channel, and the usage that works from any channel, if it has one."""

    usage: str
    summary: str
    channel_only: bool
    elsewhere: str = ""


def help_blocks(command: str, lines: Sequence[HelpLine]) -> list[Block]:
    """Every subcommand in one line; ¹ marks those that only work in an incident channel."""
    shown = [_help_line(command, line) for line in lines]
    return [
        section("*Amends — incidents run around the customers they hurt*\n" + "\n".join(shown)),
        context("¹ only inside an incident channel; its pinned header has the same controls."),
    ]


def _help_line(command: str, line: HelpLine) -> str:
    if line.elsewhere:
        usage = f"`{line.usage}` ¹, or `{line.elsewhere}` from any channel"
    else:
        usage = f"`{line.usage}`" + (" (no text)" if line.usage == command else "")
    return f"{usage} — {line.summary}" + (" ¹" if line.channel_only else "")


def incident_list_blocks(cards: Sequence[IncidentCard], *, total: int) -> list[Block]:
    """``/incident list``: one line per incident, packed into sections, ≤ 45 blocks.

    ``total`` is the number of open incidents; when more exist than fit (or than the
    caller loaded), the last line says how many are not shown.
    """
    if not cards and total <= 0:
        return [section("No open incidents right now. :tada: `/incident` declares one.")]
    blocks: list[Block] = [header(f"Open incidents ({max(total, len(cards))})")]
    room = LIST_BLOCKS_MAX - len(blocks) - 1  # keep one block for "and N more"
    groups = pack_lines([_list_line(card) for card in cards], room)
    blocks += [section("\n".join(group)) for group in groups]
    hidden = max(total, len(cards)) - sum(len(group) for group in groups)
    if hidden > 0:
        blocks.append(context(f"and {hidden} more not shown here"))
    return blocks


def pack_lines(lines: list[str], max_groups: int) -> list[list[str]]:
    """Lines grouped so each group joins into ≤ 3,000 characters, at most ``max_groups``."""
    groups: list[list[str]] = []
    size = 0
    for line in lines:
        if groups and size + 1 + len(line) <= SECTION_MAX:
            groups[-1].append(line)
            size += 1 + len(line)
        elif len(groups) < max_groups:
            groups.append([line])
            size = len(line)
        else:
            break
    return groups


def _list_line(card: IncidentCard) -> str:
    title = escape_within(" ".join(card.title.split()), LIST_TITLE_MAX)
    lead = mention(card.roles.get("lead"))
    return (
        f"{channel_link(card.channel_id)} *{card.label}* · {card.severity} · "
        f"{card.status.capitalize()} · {title} · lead {lead}"
    )


def announcement_text(card: IncidentCard) -> str:
    """The broadcast line, also the notification text of the announcement."""
    title = escape_within(card.title, TITLE_MAX)
    impact = " Customers are affected." if card.customer_impact else ""
    return (
        f"{card.label} declared: {title} — {card.severity}, lead "
        f"{mention(card.roles.get('lead'))}. Join {channel_link(card.channel_id)}.{impact}"
    )


def announcement_blocks(card: IncidentCard) -> list[Block]:
    blocks = [section(f":rotating_light: {announcement_text(card)}")]
    if card.customer_impact and card.impact_text:
        impact = escape_within(card.impact_text, IMPACT_IN_ANNOUNCEMENT_MAX)
        blocks.append(context(f"*Customer impact:* {impact}"))
    return blocks


def declared_reply_text(card: IncidentCard) -> str:
    """Ephemeral answer to the reporter once the incident exists."""
    return (
        f"{card.label} is open in {channel_link(card.channel_id)}. You are the lead until you "
        "hand it over: `/incident role lead @person`. Give customer comms an owner with "
        "`/incident role comms @person`; until then the reminders go to the lead."
    )


def role_assigned_text(role: str, new_user: str, actor: str, previous: str | None = None) -> str:
    """Timeline line for a role change; a handover names the old and the new holder."""
    label = ROLE_LABELS.get(role, role)
    duty = ROLE_DUTIES.get(role, f"you are the {label.lower()}")
    if previous == new_user:
        return f"<@{new_user}> already is {label}; nothing changed."
    if previous:
        return (
            f"Handover: {label} passes from <@{previous}> to <@{new_user}> (by <@{actor}>). "
            f"<@{new_user}>, {duty} from now on; <@{previous}>, thank you, "
            "please share anything they should know."
        )
    if actor == new_user:
        return f"<@{new_user}> took the {label} role: {duty}."
    return f"<@{actor}> made <@{new_user}> {label}. <@{new_user}>, {duty}."


def status_changed_text(old: str, new: str, actor: str) -> str:
    return f"<@{actor}> moved the status from *{old.capitalize()}* to *{new.capitalize()}*."


def severity_changed_text(old: str, new: str, actor: str) -> str:
    return (
        f"<@{actor}> changed the severity from *{old}* to *{new}*; "
        "the customer-update schedule follows it."
    )


def parked_text(parked: Sequence[str]) -> str:
    """What to tell someone whose change went through while Slack refused to show it."""
    things = ", ".join(parked)
    return (
        f"Your change is saved, but Slack is not answering right now, so {things} "
        "could not be shown yet. Amends keeps it and delivers it as soon as Slack "
        "recovers; there is no need to do it again."
    )
