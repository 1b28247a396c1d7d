"""The pinned live header of an incident channel, edited in place on every change."""

from __future__ import annotations

from collections.abc import Callable

from bot.incidents.policy import ROLES, Status
from messages.blocks import (
    SECTION_MAX,
    Block,
    actions,
    button,
    context,
    escape_within,
    header,
    mention,
    option,
    section,
    slack_date,
    static_select,
    users_select,
)
from messages.ids import (
    CLOSE_INCIDENT,
    POST_FINAL_UPDATE,
    POST_UPDATE,
    SEVERITY_SELECT,
    SHOW_CHECKLIST,
    STATUS_SELECT,
    incident_block,
    role_select,
)
from messages.limits import CUSTOMERS_SHOWN, TITLE_MAX
from messages.model import DRILL_MARK, ROLE_LABELS, IncidentCard

CUSTOMER_NAME_SHOWN = 80
TOPIC_MAX = 250
COMMS_FALLBACK = "_unassigned — falls back to the lead_"
DRILL_NOTE = (
    f"{DRILL_MARK}: a rehearsal. Customer updates stay in this channel, nothing is announced, "
    "and it is left out of the recovery figures."
)


def incident_header(card: IncidentCard) -> list[Block]:
    """The header blocks: who holds what, the customer picture, and the controls."""
    blocks: list[Block] = [
        header(f"🔥 {card.label} · {card.title}"),
        section(fields=_fields(card)),
        section(_impact(card)),
        section(_customers(card)),
        section(_next_update(card)),
    ]
    if card.drill:
        blocks.insert(1, context(DRILL_NOTE))
    if card.description:
        blocks.append(section(_titled("What is broken?", card.description)))
    blocks.append(_role_pickers(card))
    controls = _state_controls(card)
    if controls:
        blocks.append(actions(incident_block(card.number, "state"), *controls))
    blocks.append(context(f"Declared by <@{card.reporter_id}> · {slack_date(card.created_at)}"))
    return blocks


def incident_header_text(card: IncidentCard) -> str:
    """Fallback and notification text of the header message."""
    title = escape_within(card.title, TITLE_MAX)
    return f"{card.label} · {card.severity} · {_status(card.status)} · {title}"


def channel_topic(card: IncidentCard) -> str:
    """``SEV2 · Investigating · Lead <@U1> · INC-12 title``, never over Slack's 250."""
    lead = card.roles.get("lead")
    start = f"{card.severity} · {_status(card.status)} · Lead {mention(lead)} · {card.label} "
    return (start + escape_within(card.title, TOPIC_MAX - len(start)))[:TOPIC_MAX]


def _status(status: str) -> str:
    return status.capitalize()


def _titled(title: str, user_text: str) -> str:
    """``*title*`` over escaped user text, the whole inside one section's 3,000."""
    head = f"*{title}*\n"
    return head + escape_within(user_text, SECTION_MAX - len(head))


def _fields(card: IncidentCard) -> list[str]:
    fields = [f"*Severity*\n{card.severity}", f"*Status*\n{_status(card.status)}"]
    for role in ROLES:
        holder = card.roles.get(role)
        shown = COMMS_FALLBACK if role == "comms" and not holder else mention(holder)
        fields.append(f"*{ROLE_LABELS[role]}*\n{shown}")
    return fields


def _impact(card: IncidentCard) -> str:
    answer = "Yes" if card.customer_impact else "No / not known yet"
    if card.impact_text:
        return _titled(f"Customer impact: {answer}", card.impact_text)
    if card.customer_impact:
        return f"*Customer impact: {answer}*\n_Say what customers notice, for the comms owner._"
    return f"*Customer impact: {answer}*"


def _customers(card: IncidentCard) -> str:
    names, total = card.affected_customers[:CUSTOMERS_SHOWN], card.customers_total
    if not total:
        return "*Affected customers*\nnone listed yet"
    shown = ", ".join(escape_within(name, CUSTOMER_NAME_SHOWN) for name in names)
    more = total - len(names)
    extra = f" and {more} more" if more > 0 else ""
    return f"*Affected customers ({total})*\n{shown}{extra}"


def _next_update(card: IncidentCard) -> str:
    if card.follow_up_owner and card.status in (Status.RESOLVED, Status.CLOSED):
        state = "done" if card.status == Status.CLOSED else "under way"
        due = f"{card.follow_up_due:%a %d %b %Y}" if card.follow_up_due else "—"
        return f"*Customer follow-up {state}:* {mention(card.follow_up_owner)}, due {due}"
    due = slack_date(card.next_update_due) if card.next_update_due else "—"
    return f"*Next customer update due:* {due}"


def _role_pickers(card: IncidentCard) -> Block:
    """One user picker per role, showing the current holder."""
    return actions(
        incident_block(card.number, "roles"),
        *(
            users_select(role_select(role), ROLE_LABELS[role], card.roles.get(role))
            for role in ROLES
        ),
    )


def _state_controls(card: IncidentCard) -> list[Block]:
    """While active: update, contacts, close, severity and status; resolved: the follow-up."""
    if card.status == Status.RESOLVED:
        return [
            button("Follow-up checklist", SHOW_CHECKLIST, "follow_up", style="primary"),
            button("Post final customer update", POST_FINAL_UPDATE, str(card.number)),
        ]
    if card.status == Status.CLOSED:
        return []
    severities = card.severities
    if card.severity not in severities:
        severities = (card.severity, *severities)
    controls = [
        button("Post customer update", POST_UPDATE, str(card.number), style="primary"),
        button("Customers contacted ✓", SHOW_CHECKLIST, "contact"),
        button("Close incident", CLOSE_INCIDENT, str(card.number)),
        _select(SEVERITY_SELECT, "Severity", severities, card.severity, str),
    ]
    if card.next_statuses:
        others = tuple(s for s in card.next_statuses if s != card.status)
        statuses = (card.status, *others)
        controls.append(_select(STATUS_SELECT, "Status", statuses, card.status, _status))
    return controls


def _select(
    action_id: str,
    placeholder: str,
    values: tuple[str, ...],
    current: str,
    label: Callable[[str], str],
) -> Block:
    """A static select over ``values`` with ``current`` (always one of them) selected.

    Slack rejects an initial option that is not among the options, so callers make sure
    the current value is offered even if configuration no longer lists it.
    """
    options = [option(label(v), v) for v in values]
    return static_select(action_id, placeholder, options, options[values.index(current)])
