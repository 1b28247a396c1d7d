"""What people read when Amends refuses or cannot do something, one named function each.

As slack-bolt keeps its texts in ``slack_bolt/logger/messages.py``, every refusal is written
once here and named: handlers and ``bot/`` raise ``UserError(refusals.x(...))`` (or their
own error types carrying the text), and tests compare against the same function instead of
copying the sentence. Each text says what happened and what to do next.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from messages.blocks import escape

COMMAND = "/incident"

# ---- the command and its arguments


def usage(usage_line: str) -> str:
    return f"Usage: `{usage_line}`"


def takes_no_arguments(usage_line: str) -> str:
    return f"Usage: `{usage_line}` (it takes no arguments)"


def customers_usage() -> str:
    return (
        f"Usage: `{COMMAND} customers` (the checklist), `{COMMAND} customers add Acme, Globex`, "
        f"`{COMMAND} customers remove Acme`, `{COMMAND} customers link Acme` (its private "
        f"page) or `{COMMAND} customers revoke-link Acme`."
    )


def no_customer_link(name: str) -> str:
    name = escape(name)
    return f"{name} has no link to revoke. `{COMMAND} customers link {name}` issues one."


def customers_remove_usage() -> str:
    return usage(f"{COMMAND} customers remove <customer name>")


def reopen_usage() -> str:
    return (
        f"Say why: `{COMMAND} reopen <reason>` in the incident channel, or "
        f"`{COMMAND} reopen INC-<n> <reason>` from any channel, e.g. "
        f"`{COMMAND} reopen INC-4 errors are back`."
    )


def unknown_subcommand(word: str, suggestions: list[str]) -> str:
    options = " or ".join(f"`{COMMAND} {name}`" for name in suggestions)
    hint = f" Did you mean {options}?" if suggestions else ""
    return f"I don't know `{COMMAND} {word[:40]}`.{hint} Type `{COMMAND} help` for the list."


def unknown_command() -> str:
    return f"Amends answers `{COMMAND}` only. Type `{COMMAND} help` to see what it does."


def not_a_mention(token: str) -> str:
    return (
        f"`{token[:40]}` is not a user mention. Type @ and pick the person from "
        f"Slack's list, e.g. `{COMMAND} role comms @maria`."
    )


def not_a_role(role: str, roles: tuple[str, ...]) -> str:
    return f"“{role}” is not a role. Use one of: {', '.join(roles)}."


def not_a_status(text: str, statuses: tuple[str, ...]) -> str:
    return f"“{text}” is not a status. Use one of: {', '.join(statuses)}."


def not_a_severity(severity: str, severities: tuple[str, ...]) -> str:
    return f"“{severity}” is not a severity. Use one of: {', '.join(severities)}."


def not_an_incident_channel(subcommand: str) -> str:
    return (
        f"`{COMMAND} {subcommand}` works inside an incident channel, and this is not one. "
        f"Run it in the incident's channel (`{COMMAND} list` shows them)."
    )


def no_such_incident(number: int) -> str:
    return f"There is no incident INC-{number} in this workspace."


def not_a_participant(number: int, channel_id: str | None) -> str:
    return (
        f"Only people taking part in INC-{number} can change it. Join "
        f"<#{channel_id}> (or ask the lead to add you), then try again."
    )


# ---- buttons, menus and forms


def unknown_control() -> str:
    return (
        "That control is not one Amends knows (it may be on an old message), so nothing "
        f"changed. Type `{COMMAND} help` to see what you can do."
    )


def not_an_incident_control() -> str:
    return "That control does not belong to an incident I know."


def stale_control() -> str:
    return f"That control is out of date; run `{COMMAND} customers` for a fresh checklist."


def control_out_of_date() -> str:
    return "That control is out of date."


def nothing_selected() -> str:
    return "Nothing was selected."


def role_needs_a_person() -> str:
    return "Pick a person for the role; clearing a role is not supported."


def form_lost_its_incident() -> str:
    return "This form lost track of its incident; open it again."


def form_window_closed(retry_hint: str) -> str:
    return f"Slack closed the window for opening the form (it allows 3 seconds). {retry_hint}"


def checklist_not_shown() -> str:
    return (
        "Slack would not show the checklist here (the message may be too old). "
        f"`{COMMAND} customers` in the incident channel shows it."
    )


# ---- people


def unknown_user(user_id: str) -> str:
    return f"I can't find the user `{user_id}` in this workspace."


def user_left(user_id: str) -> str:
    return f"<@{user_id}> has left the workspace; pick someone who is here."


def user_is_a_bot(user_id: str) -> str:
    return f"<@{user_id}> is a bot; pick a person."


def who_may_close(number: int, holders: str) -> str:
    return (
        f"Only the incident lead or the comms owner ({holders}) or an Amends admin "
        f"can close INC-{number}. Ask one of them, or ask the lead to give you the comms "
        "role."
    )


def who_may_hand_over_the_lead(number: int, holders: str) -> str:
    return (
        f"Only the incident lead or the comms owner ({holders}) or an Amends admin "
        f"can hand the lead of INC-{number} to someone else. Ask one of them."
    )


# ---- declaring


def title_missing() -> str:
    return (
        f"An incident needs a title. Try `{COMMAND} declare Checkout is failing`, "
        f"or `{COMMAND}` to open the form."
    )


def title_too_long(length: int, limit: int) -> str:
    return (
        f"That title is {length} characters; Slack shows at most {limit}. "
        "Shorten it and put the details in the description."
    )


def channel_refused(name: str, error: str) -> str:
    return (
        f"Slack refused to create the incident channel `#{name}` "
        f"(`{error}`), so no incident was opened. "
        "Check that Amends may create channels, then try again."
    )


def channel_names_taken(first: str) -> str:
    return (
        f"Every channel name from `#{first}` on is "
        "taken, so no incident was opened. Archive or rename old channels, or use "
        "another title."
    )


# ---- status, severity and the lifecycle


def changed_meanwhile(field: str) -> str:
    """Someone else's change won the race; ``field`` is ``status`` or ``severity``."""
    return f"Someone changed the {field} a moment ago; look at the header."


def already_status(status: str) -> str:
    return f"The incident is already *{status}*."


def resolve_with_close() -> str:
    return f"Resolving needs a root cause and a customer follow-up: use `{COMMAND} close`."


def status_settled(status: str) -> str:
    return f"The incident is *{status}*; its status can no longer change with `{COMMAND} status`."


def cannot_move(status: str, allowed: str) -> str:
    return f"An incident that is *{status}* can move to: {allowed}."


def already_severity(number: int, severity: str) -> str:
    return f"INC-{number} is already {severity}."


def severity_settled(number: int, status: str) -> str:
    return f"INC-{number} is {status}; severity is settled."


# ---- customer updates and reminders


def public_title_required() -> str:
    return (
        "Give the incident a customer-facing title: the status page shows it instead of "
        "the internal one."
    )


def already_public(number: int, public: bool) -> str:
    where = "on" if public else "off"
    return f"INC-{number} is already {where} the status page."


def update_empty() -> str:
    return "Write the update first: customers need to hear something."


def update_too_long(limit: int, length: int) -> str:
    return f"Keep it under {limit} characters (it is {length})."


def nothing_to_remind(number: int, status: str) -> str:
    return f"INC-{number} is {status}; there is nothing to remind."


def reminder_already_handled(last: datetime | None, due: datetime | None) -> str:
    when = f" (last update {last:%H:%M} UTC)" if last else ""
    nxt = f"; the next is due {due:%H:%M} UTC" if due else ""
    return f"This reminder was already handled{when}{nxt}."


def reminders_already(number: int, state: str) -> str:
    return f"Customer-update reminders for INC-{number} are already {state}."


def final_update_needs_close(number: int) -> str:
    return f"INC-{number} is not resolved yet; the final update comes with `{COMMAND} close`."


def updates_stopped(number: int, status: str) -> str:
    return f"INC-{number} is {status}; customer updates and reminders have stopped."


# ---- affected customers


def customer_name_too_long(name: str, limit: int) -> str:
    return (
        f"The customer name “{name[:40]}…” is {len(name)} characters long; "
        f"keep each name under {limit} characters."
    )


def name_a_customer() -> str:
    return (
        f"Name at least one customer: `{COMMAND} customers add Acme, Globex Corp` "
        "(comma-separated or one per line)."
    )


def too_many_customers(total: int, limit: int) -> str:
    return (
        f"That would make {total} affected customers; the limit is "
        f"{limit}. For an outage this wide, post to your status page and list "
        "only the accounts you will contact one by one."
    )


def not_an_affected_customer(name: str, number: int, suggestion: str | None) -> str:
    hint = f" Did you mean “{suggestion}”?" if suggestion else ""
    return f"“{name[:80]}” is not an affected customer of INC-{number}.{hint}"


def customer_gone() -> str:
    return "That customer is no longer on the list of this incident."


def contacts_are_over(number: int, status: str) -> str:
    return (
        f"INC-{number} is {status}; record follow-ups in the "
        f"follow-up checklist instead (`{COMMAND} customers`)."
    )


# ---- closing, follow-up and reopening


def already_resolved(number: int) -> str:
    return (
        f"INC-{number} is already resolved and its customer follow-up is under way "
        f"(`{COMMAND} customers` shows it)."
    )


def already_closed(number: int) -> str:
    return f"INC-{number} is already closed. `{COMMAND} reopen <reason>` reopens it."


def root_cause_missing() -> str:
    return "Write the root cause: customers deserve to know why."


def follow_up_owner_missing() -> str:
    return "Pick who follows up with the customers."


def follow_up_due_missing() -> str:
    return "Pick the follow-up due date."


def follow_up_due_past(due: date) -> str:
    return f"The follow-up due date {due:%d %b %Y} is in the past; pick today or later."


def changed_while_closing(number: int) -> str:
    return (
        f"Someone changed INC-{number} while you filled in the form; "
        "look at the header and try again."
    )


def follow_ups_between_resolve_and_close(number: int, status: str) -> str:
    return f"INC-{number} is {status}; follow-ups are recorded between resolve and close."


def pick_an_answer() -> str:
    return "Pick one of the answers in the menu."


def nothing_to_reopen(number: int, status: str) -> str:
    return f"INC-{number} is still {status}; there is nothing to reopen."


def unarchive_failed(number: int, error: str) -> str:
    return (
        f"INC-{number} is reopened, but I could not unarchive its channel "
        f"({error}); unarchive it in Slack."
    )


def report_needs_resolve(number: int) -> str:
    return (
        f"INC-{number} is not resolved yet: the report needs the root cause. "
        f"Close it first with `{COMMAND} close`."
    )


# ---- playbooks and languages


def not_a_language(code: str, languages: Sequence[str]) -> str:
    return f"“{code}” is not a language I write in. Use one of: {', '.join(languages)}."


def language_already(number: int, language: str) -> str:
    return f"INC-{number} is already written in {language}."


def step_already_done(step: str, by: str | None, at: datetime | None) -> str:
    when = f" at {at:%H:%M} UTC" if at else ""
    return f"“{step}” was already ticked off by <@{by}>{when}."


def step_gone() -> str:
    return (
        "That step is no longer on this incident's checklist (another playbook was applied "
        "since). Use the newest checklist in the channel."
    )


# ---- when Amends itself cannot


def database_away() -> str:
    return (
        "Amends can't reach its database for a moment, so nothing was changed. "
        "Please try again in a minute."
    )


def failed_on_our_side(reference: str) -> str:
    return (
        f"Sorry, that failed on my side (reference `{reference}`). "
        "Try again in a moment; if it keeps failing, give the reference to your Amends admin."
    )


# ---- playbooks: drills and reviews


def playbook_name_missing(usage_line: str) -> str:
    return f"Name the playbook: `{usage_line}`. `{COMMAND} playbooks` lists them."


def unknown_playbook(text: str, names: list[str]) -> str:
    known = ", ".join(f"“{name}”" for name in names) or "none are loaded"
    return (
        f"There is no playbook “{text[:80]}”. The playbooks: {known}. "
        f"`{COMMAND} playbooks` lists them with their owners."
    )


def not_the_playbook_owner(name: str, owner: str) -> str:
    return (
        f"Only the owner of “{name}”, <@{owner}>, or an admin (`ADMIN_USERS`) can mark it "
        "reviewed. Ask them, or change `owner:` in its file."
    )


# ---- the customer directory


def directory_usage() -> str:
    return f"Name a customer: `{COMMAND} customer Acme` shows Acme and opens a form to edit it."


def not_in_directory(name: str, suggestion: str | None) -> str:
    hint = f" Did you mean “{suggestion}”?" if suggestion else ""
    return (
        f"“{name[:80]}” is not in the customer directory.{hint} Customers are loaded with "
        "`amends customers import customers.csv` (name,tier,language,slack_channel,email,contact)."
    )


def directory_customer_gone() -> str:
    return "That customer is no longer in the directory; nothing was saved."
