"""The close form, what the channel sees at resolve and close, and the follow-up reminders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from messages.blocks import (
    Block,
    actions,
    button,
    context,
    escape_within,
    mention,
    plain,
    section,
)
from messages.ids import (
    CLOSE_CALLBACK_ID,
    CUSTOMERS_CALLBACK_ID,
    POST_FINAL_UPDATE,
    SHOW_CHECKLIST,
    CloseFields,
    CustomersFields,
    incident_block,
)
from messages.limits import TITLE_MAX
from messages.modals import INPUT_MAX, METADATA_MAX, VIEW_TEXT_MAX, input_block, multiline_input
from messages.model import IncidentCard


@dataclass(frozen=True)
class ClosureView:
    """What the close recorded, as the messages show it."""

    root_cause: str
    resolution: str
    impact_summary: str
    amends: str
    prevention: str
    follow_up_owner: str
    follow_up_due: date


def close_modal(
    card: IncidentCard, owner: str | None, due: date, metadata: str, amends: str = ""
) -> dict[str, Any]:
    """The close form; ``amends`` (the playbook's compensation) is proposed in its field."""
    f = CloseFields
    owner_element: Block = {"type": "users_select", "action_id": f.OWNER}
    if owner:
        owner_element["initial_user"] = owner
    impact = multiline_input(f.IMPACT)
    if card.impact_text:
        impact["initial_value"] = card.impact_text[:INPUT_MAX]
    amends_element = multiline_input(f.AMENDS)
    if amends.strip():
        amends_element["initial_value"] = amends.strip()[:INPUT_MAX]
    return {
        "type": "modal",
        "callback_id": CLOSE_CALLBACK_ID,
        "title": plain(f"Close {card.label}", VIEW_TEXT_MAX),
        "submit": plain("Resolve", VIEW_TEXT_MAX),
        "close": plain("Cancel", VIEW_TEXT_MAX),
        "private_metadata": metadata[:METADATA_MAX],
        "blocks": [
            context(f"{card.label} · {card.severity} · {escape_within(card.title, TITLE_MAX)}"),
            input_block(
                f.ROOT_CAUSE,
                "Root cause",
                multiline_input(f.ROOT_CAUSE),
                hint="Why it happened, in plain words a customer understands. No blame.",
            ),
            input_block(f.RESOLUTION, "Resolution", multiline_input(f.RESOLUTION), optional=True),
            input_block(f.IMPACT, "Customer impact summary", impact, optional=True),
            input_block(
                f.AMENDS,
                "What the customers get",
                amends_element,
                optional=True,
                hint="Credit, compensation or a gesture: generous amends earn trust back.",
            ),
            input_block(f.OWNER, "Follow-up owner", owner_element),
            input_block(
                f.DUE,
                "Follow-up due",
                {"type": "datepicker", "action_id": f.DUE, "initial_date": due.isoformat()},
            ),
            input_block(
                f.PREVENTION,
                "What stops it happening again",
                multiline_input(f.PREVENTION),
                optional=True,
            ),
        ],
    }


def add_customers_modal(card: IncidentCard, metadata: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": CUSTOMERS_CALLBACK_ID,
        "title": plain("Affected customers", VIEW_TEXT_MAX),
        "submit": plain("Add", VIEW_TEXT_MAX),
        "close": plain("Cancel", VIEW_TEXT_MAX),
        "private_metadata": metadata[:METADATA_MAX],
        "blocks": [
            context(f"{card.label} · {escape_within(card.title, TITLE_MAX)}"),
            input_block(
                CustomersFields.NAMES_BLOCK,
                "Customers to add",
                multiline_input(CustomersFields.NAMES_ACTION),
                hint="One per line or comma-separated. Longer lists: /incident customers add …",
            ),
        ],
    }


def resolved_template(card: IncidentCard, closure: ClosureView, public_title: str | None) -> str:
    """The final customer update's first draft, from what the close recorded; it names the
    incident by its customer-facing title (the internal title stays in Slack)."""
    resolved = f"resolved: {public_title}." if public_title else "resolved."
    happened = closure.impact_summary or card.impact_text or public_title
    lines = [f"We're sorry for the trouble. The problem is {resolved}"]
    if happened:
        lines.append(f"What happened: {happened}")
    lines.append(f"Why: {closure.root_cause}")
    if closure.prevention:
        lines.append(f"What we are changing: {closure.prevention}")
    if closure.amends:
        lines.append(f"What you get: {closure.amends}")
    lines.append("We will contact you personally to check everything works for you.")
    return "\n".join(lines)


def resolved_blocks(card: IncidentCard, closure: ClosureView, actor: str) -> list[Block]:
    def part(title: str, text: str) -> str:
        return f"*{title}*\n" + escape_within(text or "—", 2800)

    blocks: list[Block] = [
        section(f"✅ *{card.label} is resolved* by {mention(actor)}"),
        section(part("Root cause", closure.root_cause)),
    ]
    for title, text in (
        ("Resolution", closure.resolution),
        ("Customer impact", closure.impact_summary),
        ("What the customers get", closure.amends),
        ("What stops it happening again", closure.prevention),
    ):
        if text:
            blocks.append(section(part(title, text)))
    blocks.append(
        section(
            f"Follow-up owner {mention(closure.follow_up_owner)}, due "
            f"{closure.follow_up_due:%a %d %b %Y}. Customer-update reminders have stopped."
        )
    )
    blocks.append(
        actions(
            incident_block(card.number, "resolved"),
            button("Post final customer update", POST_FINAL_UPDATE, str(card.number)),
        )
    )
    return blocks


def follow_up_reminder_blocks(
    card: IncidentCard, owner: str, remaining: int, total: int, overdue: bool
) -> list[Block]:
    due = f"{card.follow_up_due:%a %d %b %Y}" if card.follow_up_due else "soon"
    if overdue:
        lead = card.roles.get("lead")
        text = (
            f"⏰ {mention(owner)}, the customer follow-up for {card.label} was due {due} and "
            f"{remaining} of {total} customers are still waiting. {mention(lead)}, please help."
        )
    else:
        text = (
            f"{mention(owner)}, {remaining} of {total} customers of {card.label} still need a "
            f"follow-up (due {due}): check they are happy and record their answer."
        )
    return [
        section(text),
        actions(
            incident_block(card.number, "follow_up_reminder"),
            button("Show the checklist", SHOW_CHECKLIST, "follow_up", style="primary"),
        ),
    ]


def closed_text(card: IncidentCard, archived: bool) -> str:
    tail = " The channel is archived." if archived else ""
    return (
        f"🎉 Every affected customer of {card.label} has been followed up: the incident is "
        f"closed. `/incident report` writes the remediation report.{tail}"
    )


def overdue_dm_text(card: IncidentCard, remaining: int, total: int) -> str:
    """The DM to the lead once the customer follow-up is past its due date."""
    return (
        f"The customer follow-up for {card.label} is overdue: "
        f"{remaining} of {total} customers are still waiting."
    )
