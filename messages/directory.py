"""The directory's edit form and the lines that say how customers will be reached."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from messages.blocks import Block, context, escape, escape_within, mention, plain, section
from messages.ids import DIRECTORY_CALLBACK_ID, DirectoryFields
from messages.limits import CUSTOMER_NAME_MAX
from messages.modals import INPUT_MAX, METADATA_MAX, VIEW_TEXT_MAX, input_block


@dataclass(frozen=True)
class CustomerCard:
    """One directory customer as the form shows it."""

    name: str
    tier: str
    language: str
    slack_channel: str
    emails: tuple[str, ...]
    contact: str


def _text_input(action_id: str, initial: str, max_length: int = INPUT_MAX) -> Block:
    element: Block = {"type": "plain_text_input", "action_id": action_id, "max_length": max_length}
    if initial:
        element["initial_value"] = initial[:max_length]
    return element


def directory_modal(card: CustomerCard, tiers: tuple[str, ...], metadata: str) -> dict[str, Any]:
    """Shows the customer and lets them be edited; every field is the saved value."""
    f = DirectoryFields
    reach = reach_of(card)
    return {
        "type": "modal",
        "callback_id": DIRECTORY_CALLBACK_ID,
        "title": plain("Customer", VIEW_TEXT_MAX),
        "submit": plain("Save", VIEW_TEXT_MAX),
        "close": plain("Close", VIEW_TEXT_MAX),
        "private_metadata": metadata[:METADATA_MAX],
        "blocks": [
            section(f"*{escape_within(card.name, CUSTOMER_NAME_MAX)}*"),
            context(reach),
            input_block(f.NAME, "Name", _text_input(f.NAME, card.name, CUSTOMER_NAME_MAX)),
            input_block(
                f.TIER,
                "Tier",
                _text_input(f.TIER, card.tier, 40),
                optional=True,
                hint=f"One of: {', '.join(tiers)}",
            ),
            input_block(
                f.LANGUAGE,
                "Language",
                _text_input(f.LANGUAGE, card.language, 16),
                optional=True,
                hint="The language updates are sent in, e.g. en, cs",
            ),
            input_block(
                f.SLACK_CHANNEL,
                "Slack Connect channel",
                _text_input(f.SLACK_CHANNEL, card.slack_channel, 32),
                optional=True,
                hint="The channel ID shared with them, e.g. C0123ABCD",
            ),
            input_block(
                f.EMAILS,
                "E-mail addresses",
                _text_input(f.EMAILS, " ".join(card.emails)),
                optional=True,
                hint="Separated by spaces or commas; each gets the same one message",
            ),
            input_block(
                f.CONTACT,
                "Contact person",
                _text_input(f.CONTACT, card.contact, 200),
                optional=True,
            ),
        ],
    }


def reach_of(card: CustomerCard) -> str:
    """How a customer's updates reach them, in one line."""
    ways = []
    if card.slack_channel:
        ways.append(f"in <#{card.slack_channel}>")
    if card.emails:
        ways.append("by e-mail to " + ", ".join(card.emails))
    if not ways:
        return "Updates do not reach this customer directly: add a Slack channel or an e-mail."
    return "Updates reach them " + " and ".join(ways) + "."


def saved_text(name: str) -> str:
    return f"Saved {name} in the customer directory."


def reach_line(slack: int, email: int, customers: int) -> str:
    """The composer's line: how many affected customers the update will reach directly."""
    if not customers:
        return "Will reach no customers directly (none has a Slack channel or e-mail on file)."
    ways = []
    if slack:
        ways.append(f"{slack} in their Slack channels")
    if email:
        ways.append(f"{email} by e-mail")
    noun = "customer" if customers == 1 else "customers"
    return f"Will reach {customers} {noun} directly: {', '.join(ways)}"


def clock_reminder_text(
    label: str, owner: str, tier: str, overdue: list[tuple[str, datetime]]
) -> str:
    """The comms owner's reminder: whose contact clock ran out, and since when."""
    names = ", ".join(f"{escape(name)} (due {due:%H:%M} UTC)" for name, due in overdue[:20])
    more = f" and {len(overdue) - 20} more" if len(overdue) > 20 else ""
    noun = "customer has" if len(overdue) == 1 else "customers have"
    return (
        f"{mention(owner)}, {len(overdue)} {tier} {noun} not been contacted in time "
        f"for {label}: {names}{more}. Post an update (it reaches them directly) or "
        "contact them and tick them off in `/incident customers`."
    )


def clock_text(due: datetime | None, now: datetime) -> str:
    """A customer's contact clock: “due in 12 min” or “overdue by 3 min”."""
    if due is None:
        return ""
    minutes = int(abs((due - now).total_seconds()) // 60)
    return f"due in {minutes} min" if due > now else f"overdue by {minutes} min"


def channel_gone_text(owner: str, customer: str, channel: str, error: str) -> str:
    """The comms owner hears once that a customer's channel refused the bot."""
    return (
        f"{mention(owner)}, I could not post the customer update to {escape(customer)}'s "
        f"channel <#{channel}> (`{error}`: Amends was removed from it, or it was archived or "
        "deleted). They are not marked contacted and get no more updates there in this "
        "incident: invite Amends back, fix the channel with "
        f"`/incident customer {escape(customer)}`, or reach them another way."
    )
