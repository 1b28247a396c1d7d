"""Customer checklists: who was contacted, who was followed up, page by page.

Each row's control carries the customer id in its action id too, as Slack wants every
action id in a message to be unique.

A page holds at most ``PAGE_SIZE`` customers, one section each, so with its heading, a
note and the navigation it stays under Slack's 50 blocks however long the list is.
"""

from __future__ import annotations

from dataclasses import dataclass

from messages.blocks import (
    Block,
    actions,
    button,
    context,
    escape_within,
    mention,
    option,
    section,
    slack_date,
    static_select,
)
from messages.ids import (
    CHECKLIST_NEXT,
    CHECKLIST_PREV,
    CONTACT_ALL,
    contact_confirm,
    follow_up_answer,
    incident_block,
)
from messages.limits import CUSTOMER_NAME_MAX
from messages.model import ANSWER_LABELS, CustomerRow, IncidentCard

PAGE_SIZE = 40
VIA_LABELS = {"slack": " in their Slack channel", "email": " by e-mail"}
"""How Amends itself contacted a customer, as the checklist says it."""
CONTACT, FOLLOW_UP = "contact", "follow_up"
KINDS = (CONTACT, FOLLOW_UP)


@dataclass(frozen=True)
class ChecklistPage:
    kind: str
    card: IncidentCard
    rows: tuple[CustomerRow, ...]
    page: int
    pages: int
    total: int
    done: int
    editable: bool
    note: str = ""

    @property
    def remaining(self) -> int:
        return self.total - self.done


def page_count(total: int) -> int:
    return max(1, -(-total // PAGE_SIZE))


def checklist_text(page: ChecklistPage) -> str:
    verb = "contacted" if page.kind == CONTACT else "followed up"
    return f"{page.card.label}: {page.done} of {page.total} customers {verb}"


def checklist_blocks(page: ChecklistPage) -> list[Block]:
    blocks: list[Block] = [section(_heading(page))]
    if page.note:
        blocks.append(context(page.note))
    blocks.extend(_row(page, row) for row in page.rows)
    controls = _controls(page)
    if controls:
        block_id = incident_block(page.card.number, "checklist", page.kind, page.page)
        blocks.append(actions(block_id, *controls))
    return blocks


def _heading(page: ChecklistPage) -> str:
    if page.kind == CONTACT:
        title = f"*Customers contacted — {page.card.label}*"
        progress = f"{page.done} of {page.total} contacted"
    else:
        title = f"*Customer follow-up — {page.card.label}*"
        progress = f"{page.done} of {page.total} followed up"
        if page.card.follow_up_owner:
            progress += f" · owner {mention(page.card.follow_up_owner)}"
        if page.card.follow_up_due:
            progress += f" · due {page.card.follow_up_due:%a %d %b %Y}"
    if page.total == 0:
        return (
            f"{title}\nNo affected customers are listed. Add them with `/incident customers add`."
        )
    return f"{title}\n{progress} · page {page.page + 1} of {page.pages}"


def _row(page: ChecklistPage, row: CustomerRow) -> Block:
    name = f"*{escape_within(row.name, CUSTOMER_NAME_MAX)}*"
    if row.language:
        name += f" ({row.language})"
    if row.clock and row.state == "not_contacted":
        name += f" · ⏱ {row.clock}"
    block_id = incident_block(page.card.number, "customer", row.id)
    if page.kind == CONTACT:
        if row.state == "not_contacted" and page.editable:
            value = f"{row.id}:{page.page}"
            confirm = button("Contacted ✓", contact_confirm(row.id), value, style="primary")
            return section(name, block_id=block_id, accessory=confirm)
        return section(f"{name}\n{_contact_state(row)}", block_id=block_id)
    if row.state != "followed_up" and page.editable:
        return section(
            f"{name}\n{_contact_state(row)}{_message(row)}",
            block_id=block_id,
            accessory=_answer_menu(row, page.page),
        )
    return section(f"{name}\n{_contact_state(row)}", block_id=block_id)


MESSAGE_MAX = 1500
"""The follow-up message shown under a customer: with the name, within a section's 3,000."""


def _message(row: CustomerRow) -> str:
    """The playbook's follow-up message for this customer, quoted, to copy and send."""
    if not row.message:
        return ""
    quoted = "\n".join(f">{line}" for line in escape_within(row.message, MESSAGE_MAX).splitlines())
    return f"\n_What to say:_\n{quoted}"


def _contact_state(row: CustomerRow) -> str:
    if row.state == "followed_up" and row.followed_up_at:
        answer = ANSWER_LABELS.get(row.answer or "", "answered")
        when = slack_date(row.followed_up_at)
        return f"✅ Followed up — {answer} · {mention(row.followed_up_by)} · {when}"
    if row.contacted_at:
        how = VIA_LABELS.get(row.contacted_via or "", "")
        return f"✅ Contacted{how} · {mention(row.contacted_by)} · {slack_date(row.contacted_at)}"
    return "⬜ Not contacted yet"


def _answer_menu(row: CustomerRow, page: int) -> Block:
    """Picking an answer records the follow-up: one click per customer."""
    options = [
        option(f"✓ {label}", f"{row.id}:{key}:{page}") for key, label in ANSWER_LABELS.items()
    ]
    return static_select(follow_up_answer(row.id), "Followed up ✓ …", options)


def _controls(page: ChecklistPage) -> list[Block]:
    controls: list[Block] = []
    if page.page > 0:
        controls.append(button("◀ Previous", CHECKLIST_PREV, f"{page.kind}:{page.page - 1}"))
    if page.page + 1 < page.pages:
        controls.append(button("Next ▶", CHECKLIST_NEXT, f"{page.kind}:{page.page + 1}"))
    if page.kind == CONTACT and page.editable and page.remaining > 0:
        all_remaining = button(
            f"All remaining ✓ ({page.remaining})", CONTACT_ALL, str(page.remaining)
        )
        all_remaining["confirm"] = _confirm_all(page.remaining)
        controls.append(all_remaining)
    return controls


def _confirm_all(remaining: int) -> Block:
    return {
        "title": {"type": "plain_text", "text": "Confirm all remaining?"},
        "text": {
            "type": "mrkdwn",
            "text": f"Record that all {remaining} remaining customers were contacted?",
        },
        "confirm": {"type": "plain_text", "text": "Yes, all contacted"},
        "deny": {"type": "plain_text", "text": "Cancel"},
    }
