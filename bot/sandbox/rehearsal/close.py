"""The second half of the rehearsal: customers confirmed, the close, follow-ups, the report."""

from __future__ import annotations

import json
from collections.abc import Awaitable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from messages import ids

if TYPE_CHECKING:
    from bot.sandbox.rehearsal.script import Rehearsal

CLOSE_FORM = {
    "close_root_cause": "A configuration change sent EU card payments to a payment route "
    "that was switched off.",
    "close_resolution": "We put the previous configuration back and re-ran failed payments.",
    "close_amends": "A 20% credit on this month's invoice.",
    "close_prevention": "Payment configuration changes now reach 1% of traffic first.",
    "close_follow_up_owner": "UMARIA",
}
ANSWERS = {"Acme Bank": "satisfied", "Globex": "satisfied", "Initech": "no_answer"}


def latest_private(r: Rehearsal, channel: str, user: str) -> dict[str, Any]:
    mine = [m for m in r.double.ephemerals(channel) if m.get("to_user") == user and m.get("blocks")]
    return mine[-1]


def control(message: dict[str, Any], name: str) -> tuple[dict[str, Any], str]:
    """The message cut to one customer's row, and the action id of its control."""
    row = next(b for b in message["blocks"] if b.get("accessory") and f"*{name}*" in json.dumps(b))
    return {**message, "blocks": [row]}, str(row["accessory"]["action_id"])


async def confirm_contacts(r: Rehearsal, channel: str, reminder: dict[str, Any]) -> None:
    d = r.driver
    await r.step(
        "UMARIA",
        channel,
        "clicks “Customers contacted ✓” on the reminder",
        lambda: d.click(reminder, ids.REMINDER_CONTACTED, user_id="UMARIA"),
    )
    row, action = control(latest_private(r, channel, "UMARIA"), "Acme Bank")
    await r.step(
        "UMARIA",
        channel,
        "phoned Acme Bank: clicks its “Contacted ✓”",
        lambda: d.click(row, action, user_id="UMARIA"),
    )
    await r.step(
        "UMARIA",
        channel,
        "emailed the others: clicks “All remaining ✓”",
        lambda: d.click(latest_private(r, channel, "UMARIA"), ids.CONTACT_ALL, user_id="UMARIA"),
    )


async def close_and_follow_up(r: Rehearsal, channel: str) -> None:
    d = r.driver
    await r.incident("UBOB", channel, "close", aside="Bob holds no role that may close")
    await r.incident("UALICE", channel, "close")
    view_id = str(r.double.ok_calls_to("views.open")[-1].response["view"]["id"])
    due = (date.today() + timedelta(days=3)).isoformat()
    values = {k: {k: v} for k, v in {**CLOSE_FORM, "close_follow_up_due": due}.items()}
    await r.step(
        "UALICE",
        channel,
        "fills in the root cause, the amends and the follow-up, and presses Resolve",
        lambda: d.submit_view(view_id, values, user_id="UALICE"),
    )
    await r.step(
        "UALICE",
        channel,
        "posts the proposed final customer update as it is",
        lambda: d.submit_view(view_id, {}, user_id="UALICE"),
    )
    for name, answer in ANSWERS.items():
        await record_follow_up(r, channel, name, answer)
    await r.incident("UALICE", channel, "report")
    await r.incident("UALICE", channel, "stats")


async def record_follow_up(r: Rehearsal, channel: str, name: str, answer: str) -> None:
    checklist = next(
        m for m in reversed(r.double.messages(channel)) if "Customer follow-up" in json.dumps(m)
    )
    row, action = control(checklist, name)
    options = row["blocks"][0]["accessory"]["options"]
    option = next(o["value"] for o in options if o["value"].endswith(f":{answer}:0"))

    def click() -> Awaitable[Any]:
        return r.driver.click(row, action, user_id="UMARIA", selected_option_value=option)

    await r.step("UMARIA", channel, f"called {name} back: “{answer.replace('_', ' ')}”", click)
