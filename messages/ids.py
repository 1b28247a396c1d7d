"""Every id Amends puts on a Slack surface and reads back, declared once.

The builders in ``messages/`` put these ids on buttons, menus, blocks and views; the
listeners in ``handlers/`` register for them and read them back. Slack returns an
interactive element's ``action_id`` and ``block_id`` and a view's ``callback_id`` verbatim,
so a builder and its listener agree only if both name the same constant. Ids that carry a
value (the role, the customer row, the snooze length) have a function that writes them
and a pattern that reads them, side by side.

Slack caps action and block ids at 255 characters; ``messages.blocks`` enforces it.
"""

from __future__ import annotations

import re
from typing import Final

# The pinned header's controls.
ROLE_SELECT: Final = re.compile(r"^role_select:(?P<role>[a-z]+)$")
SEVERITY_SELECT: Final = "severity_select"
STATUS_SELECT: Final = "status_select"
POST_UPDATE: Final = "post_update"
SHOW_CHECKLIST: Final = "show_checklist"
CLOSE_INCIDENT: Final = "close_incident"
POST_FINAL_UPDATE: Final = "post_final_update"

# The customer-update reminder's buttons.
REMINDER_WRITE: Final = "reminder_write"
REMINDER_CONTACTED: Final = "reminder_contacted"
SNOOZE_MINUTES: Final = (15, 30, 60)
REMINDER_SNOOZE: Final = re.compile(
    r"^reminder_snooze:(?P<minutes>" + "|".join(str(m) for m in SNOOZE_MINUTES) + r")$"
)

# The App Home's buttons beside the incident ones (which reuse the header's ids).
# Slack wants action ids unique within a view, so each carries its incident or playbook.
HOME_WRITE: Final = re.compile(r"^home_write:\d{1,9}$")
HOME_CHECKLIST: Final = re.compile(r"^home_checklist:\d{1,9}:[a-z_]+$")
"""The customer checklist, sent as a direct message (a Home click has no response_url)."""
HOME_PLAYBOOK_REVIEW: Final = re.compile(r"^home_playbook_review:\d{1,4}$")

# The customer checklist's controls.
CHECKLIST_PREV: Final = "checklist_prev"
CHECKLIST_NEXT: Final = "checklist_next"
CHECKLIST_PAGE_TURN: Final = re.compile(rf"^({CHECKLIST_PREV}|{CHECKLIST_NEXT})$")
CONTACT_ALL: Final = "contact_all"
CONTACT_CONFIRM: Final = re.compile(r"^contact_confirm:\d{1,18}$")
FOLLOW_UP_ANSWER: Final = re.compile(r"^follow_up_answer:\d{1,18}$")

# The applied playbook's checklist: one "Done ✓" per step, the step's position in its id.
PLAYBOOK_STEP: Final = re.compile(r"^playbook_step:\d{1,3}$")

# Views (modals), by callback id.
DECLARE_CALLBACK_ID: Final = "declare_incident"
UPDATE_CALLBACK_ID: Final = "customer_update"
CLOSE_CALLBACK_ID: Final = "close_incident"
CUSTOMERS_CALLBACK_ID: Final = "add_customers"

# Every actions block of an incident's messages starts with ``incident:<number>:``, so a
# click anywhere names its incident; the listener looks the incident up from it.
INCIDENT_BLOCK: Final = re.compile(r"^incident:(?P<number>\d{1,9}):")


def role_select(role: str) -> str:
    """The action id of the header's picker for ``role`` (read by :data:`ROLE_SELECT`)."""
    return f"role_select:{role}"


def reminder_snooze(minutes: int) -> str:
    """The action id of a snooze button (read by :data:`REMINDER_SNOOZE`)."""
    return f"reminder_snooze:{minutes}"


def contact_confirm(customer_id: int) -> str:
    """A checklist row's "Contacted" button: the row id keeps action ids unique."""
    return f"contact_confirm:{customer_id}"


def follow_up_answer(customer_id: int) -> str:
    """A checklist row's follow-up answer menu (read by :data:`FOLLOW_UP_ANSWER`)."""
    return f"follow_up_answer:{customer_id}"


def playbook_step(position: int) -> str:
    """A playbook checklist row's button (read by :data:`PLAYBOOK_STEP`)."""
    return f"playbook_step:{position}"


def home_write(number: int) -> str:
    """The Home's "Write update" button of incident ``number`` (read by :data:`HOME_WRITE`)."""
    return f"home_write:{number}"


def home_checklist(number: int, where: str) -> str:
    """A Home button that sends the incident's checklist (read by :data:`HOME_CHECKLIST`)."""
    return f"home_checklist:{number}:{where}"


def home_playbook_review(index: int) -> str:
    """The Home's "How to review" button of the ``index``-th playbook due."""
    return f"home_playbook_review:{index}"


def incident_block(number: int, *parts: object) -> str:
    """``incident:<number>:<part>:…``, the block id :data:`INCIDENT_BLOCK` reads."""
    return ":".join(["incident", str(number), *(str(p) for p in parts)])


class DeclareFields:
    """Block and action ids of the declare form, shared by the builder and its reader.

    ``Final`` makes the type checker refuse any reassignment, and ``__slots__`` leaves
    instances nothing to set: the ids are read-only constants, not configuration.
    """

    __slots__ = ()

    TITLE_BLOCK: Final = "declare_title"
    TITLE_ACTION: Final = "title"
    SEVERITY_BLOCK: Final = "declare_severity"
    SEVERITY_ACTION: Final = "severity"
    DESCRIPTION_BLOCK: Final = "declare_description"
    DESCRIPTION_ACTION: Final = "description"
    IMPACT_BLOCK: Final = "declare_impact"
    IMPACT_ACTION: Final = "impact"
    IMPACT_TEXT_BLOCK: Final = "declare_impact_text"
    IMPACT_TEXT_ACTION: Final = "impact_text"
    CUSTOMERS_BLOCK: Final = "declare_customers"
    CUSTOMERS_ACTION: Final = "customers"
    PLAYBOOK_BLOCK: Final = "declare_playbook"
    PLAYBOOK_ACTION: Final = "playbook"
    NO_PLAYBOOK: Final = "no_playbook"
    """The option value of "No playbook" (a select, once set, cannot be emptied)."""
    IMPACT_YES: Final = "yes"
    IMPACT_NO: Final = "no"


class UpdateFields:
    """Block and action ids of the customer-update composer."""

    __slots__ = ()

    TEXT_BLOCK: Final = "update_text"
    TEXT_ACTION: Final = "text"
    ANYWAY_BLOCK: Final = "update_anyway"
    ANYWAY_ACTION: Final = "anyway"
    ANYWAY_VALUE: Final = "post_anyway"
    PUBLIC_TITLE_BLOCK: Final = "update_public_title"
    PUBLIC_TITLE_ACTION: Final = "public_title"


class CloseFields:
    """Block and action ids of the close form, shared by the builder and its reader."""

    __slots__ = ()

    ROOT_CAUSE: Final = "close_root_cause"
    RESOLUTION: Final = "close_resolution"
    IMPACT: Final = "close_impact"
    AMENDS: Final = "close_amends"
    PREVENTION: Final = "close_prevention"
    OWNER: Final = "close_follow_up_owner"
    DUE: Final = "close_follow_up_due"
    """Each input's action id is its block id: action ids must be unique in a view."""


class CustomersFields:
    """Block and action ids of the "add customers" form."""

    __slots__ = ()

    NAMES_BLOCK: Final = "customers_names"
    NAMES_ACTION: Final = "names"


DIRECTORY_CALLBACK_ID: Final = "directory_customer"


class DirectoryFields:
    """Block and action ids of the directory's edit form; each input's action id is its
    block id."""

    __slots__ = ()

    NAME: Final = "directory_name"
    TIER: Final = "directory_tier"
    LANGUAGE: Final = "directory_language"
    SLACK_CHANNEL: Final = "directory_slack_channel"
    EMAILS: Final = "directory_emails"
    CONTACT: Final = "directory_contact"
