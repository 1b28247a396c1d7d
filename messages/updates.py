"""Customer updates and their reminders: the composer, posted updates, reminder messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from messages.blocks import (
    Block,
    actions,
    button,
    context,
    escape,
    plain,
    section,
    slack_date,
    truncate,
)
from messages.ids import (
    REMINDER_CONTACTED,
    REMINDER_WRITE,
    SNOOZE_MINUTES,
    UPDATE_CALLBACK_ID,
    UpdateFields,
    incident_block,
    reminder_snooze,
)
from messages.limits import TITLE_MAX
from messages.model import IncidentCard
from messages.tone import Finding

UPDATE_MAX = 2900
SNOOZE_LABELS: dict[int, str] = {15: "15 min", 30: "30 min", 60: "1 h"}
SNOOZE_CHOICES: tuple[tuple[int, str], ...] = tuple((m, SNOOZE_LABELS[m]) for m in SNOOZE_MINUTES)


def update_template(card: IncidentCard, next_due: datetime) -> str:
    """A first draft that already has the parts customers need; the author fills it in.
    It names no customer: the same text reaches every customer, the customer channel and
    the public status page."""
    who = "[who is affected, without naming customers]"
    impact = card.impact_text.strip() or "[what customers notice]"
    return (
        f"We're sorry: {impact}\n"
        f"Who is affected: {who}\n"
        "What we are doing: [what we are doing about it]\n"
        f"Next update by {next_due:%H:%M} UTC."
    )


def composer_modal(
    card: IncidentCard,
    text: str,
    metadata: str,
    findings: Sequence[Finding] = (),
    *,
    reach: str = "",
    public_title: str | None = None,
    title_required: bool = False,
) -> dict[str, Any]:
    """The composer; ``reach`` says how many customers the update reaches directly (shown
    under the text); ``public_title`` prefills the customer-facing title, which is
    ``title_required`` on an incident's first update."""
    f = UpdateFields
    title = escape(truncate(card.title, TITLE_MAX))
    blocks: list[Block] = [
        context(f"{card.label} · {card.severity} · {card.status} · {title}"),
        _public_title_input(public_title, title_required),
        {
            "type": "input",
            "block_id": f.TEXT_BLOCK,
            "label": plain("Customer update"),
            "element": {
                "type": "plain_text_input",
                "action_id": f.TEXT_ACTION,
                "multiline": True,
                "max_length": UPDATE_MAX,
                "initial_value": truncate(text, UPDATE_MAX),
            },
            "hint": plain("Plain words, no blame, say sorry, say when the next update comes."),
        },
    ]
    if reach:
        blocks.append(context(escape(reach)))
    if findings:
        blocks.append(section(_findings_text(findings)))
        blocks.append(
            {
                "type": "input",
                "block_id": f.ANYWAY_BLOCK,
                "optional": True,
                "label": plain("Or post it as it is"),
                "element": {
                    "type": "checkboxes",
                    "action_id": f.ANYWAY_ACTION,
                    "options": [
                        {"text": plain("Post anyway (this is recorded)"), "value": f.ANYWAY_VALUE}
                    ],
                },
            }
        )
    return {
        "type": "modal",
        "callback_id": UPDATE_CALLBACK_ID,
        "title": plain("Customer update", 24),
        "submit": plain("Post anyway" if findings else "Post update", 24),
        "close": plain("Cancel", 24),
        "private_metadata": metadata[:3000],
        "blocks": blocks,
    }


def _public_title_input(public_title: str | None, required: bool) -> Block:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": UpdateFields.PUBLIC_TITLE_ACTION,
        "max_length": TITLE_MAX,
    }
    if public_title:
        element["initial_value"] = truncate(public_title, TITLE_MAX)
    return {
        "type": "input",
        "block_id": UpdateFields.PUBLIC_TITLE_BLOCK,
        "optional": not required,
        "label": plain("Customer-facing title"),
        "element": element,
        "hint": plain(
            "What customers read on the status page, in their words "
            "(the internal title stays in Slack)."
        ),
    }


def _findings_text(findings: Sequence[Finding]) -> str:
    lines = ["*Before you post — the tone check noticed:*"]
    for finding in findings:
        seen = f" (“{escape(finding.excerpt)}”)" if finding.excerpt else ""
        lines.append(f"• *{finding.title}*{seen}: {finding.advice}")
    lines.append("Edit the text and press the button again, or tick “Post anyway”.")
    return truncate("\n".join(lines), 3000)


def posted_update_blocks(
    card: IncidentCard, text: str, author_id: str, count: int, posted_anyway: bool
) -> list[Block]:
    note = " · posted despite the tone check" if posted_anyway else ""
    due = (
        f"Next update due {slack_date(card.next_update_due)}"
        if card.next_update_due
        else "No further updates scheduled"
    )
    if card.drill:
        due += " · a drill: sent to no customer, only shown here"
    return [
        section(f"📣 *Customer update #{count}* for {card.label}, by <@{author_id}>{note}"),
        section(_quote(text)),
        context(due),
    ]


def customer_heading(public_title: str | None) -> str:
    """The heading customers read (a message's first line, an e-mail's subject): the
    customer-facing title, never the internal one."""
    return f"Update: {truncate(public_title, TITLE_MAX)}" if public_title else "Update"


def customer_facing_blocks(
    public_title: str | None, text: str, page_url: str | None = None
) -> list[Block]:
    """What customers see: the update under the customer-facing title, nothing internal;
    a customer reached directly also gets the link to its own page."""
    blocks = [section(f"*{escape(customer_heading(public_title))}*"), section(escape(text))]
    if page_url:
        blocks.append(context(customer_page_line(page_url)))
    return blocks


def customer_page_line(page_url: str) -> str:
    """The line under a direct message that leads the customer to its own page."""
    return f"Everything we told you about this, and how we make amends: {page_url}"


def _quote(text: str) -> str:
    return truncate("\n".join(f"> {line}" for line in escape(text).splitlines()), 3000)


def reminder_token(number: int, seq: int) -> str:
    """What the reminder buttons carry: the incident and the reminder's version."""
    return f"{number}:{seq}"


def reminder_blocks(
    card: IncidentCard,
    owner_id: str,
    token: str,
    *,
    last_update_at: datetime | None,
    note: str = "",
) -> list[Block]:
    last = slack_date(last_update_at) if last_update_at else "not yet"
    due = slack_date(card.next_update_due) if card.next_update_due else "now"
    extra = f"\n{note}" if note else ""
    return [
        section(
            f"⏰ <@{owner_id}>, a customer update for *{card.label}* is due ({due}). "
            f"Customers last heard from us: {last}.{extra}"
        ),
        _reminder_actions(card.number, token),
    ]


def escalation_blocks(
    card: IncidentCard, owner_id: str, lead_id: str | None, token: str, *, overdue_minutes: int
) -> list[Block]:
    lead = f"<@{lead_id}>, " if lead_id and lead_id != owner_id else ""
    return [
        section(
            f"🚨 {lead}the customer update for *{card.label}* is {overdue_minutes} min "
            f"overdue. <@{owner_id}> owns it; customers are waiting to hear from us."
        ),
        _reminder_actions(card.number, token),
    ]


def escalation_dm_text(card: IncidentCard, overdue_minutes: int) -> str:
    return (
        f"The customer update for {card.label} is {overdue_minutes} min overdue. "
        f"Post it from <#{card.channel_id}> (Write update) or with `/incident update`."
    )


def _reminder_actions(number: int, token: str) -> Block:
    snoozes = [
        button(f"Snooze {label}", reminder_snooze(minutes), token)
        for minutes, label in SNOOZE_CHOICES
    ]
    return actions(
        incident_block(number, "reminder"),
        button("Write update", REMINDER_WRITE, token, style="primary"),
        button("Customers contacted ✓", REMINDER_CONTACTED, token),
        *snoozes,
    )


def retire_reminder_message(outcome: str, text: str | None = None) -> dict[str, Any]:
    """What a reminder message becomes once handled (``chat.update`` arguments): its
    buttons give way to what happened; ``text`` is the notification text, else the outcome."""
    return {
        "text": text or outcome,
        "blocks": [section(f"⏰ Customer update reminder — ✓ {outcome}")],
    }
