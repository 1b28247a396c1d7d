"""Driving customer checklists and the close form in end-to-end tests."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from bot.sandbox.double.blockkit import validate_blocks
from storage.models import AffectedCustomer
from tests.support.blockkit_readers import row_control
from tests.support.harness import ALICE, TEAM, Harness
from tests.support.helpers import created_channel, team_joins

ACTIONS_ELEMENTS_MAX = 25
MESSAGE_BLOCKS_MAX = 50


async def declare_with(h: Harness, customers: str = "", user: str = ALICE) -> str:
    """Declare an incident and, if given, add customers; returns the channel id."""
    before = len(h.double.ok_calls_to("pins.add"))
    await h.driver.command("/incident", "declare Checkout down", user_id=user, channel_id=h.general)
    await h.double.wait_for(lambda: len(h.double.ok_calls_to("pins.add")) > before)
    channel = str(created_channel(h)["id"])
    team_joins(h, channel)
    if customers:
        reply = await h.driver.command(
            "/incident", f"customers add {customers}", user_id=user, channel_id=channel
        )
        await h.double.wait_for(lambda: h.double.responses_for(str(reply.response_url)))
    return channel


async def stored_customers(h: Harness, number: int = 1) -> list[AffectedCustomer]:
    """Every affected customer of incident ``number`` as stored, in the order added (an
    incident loaded for rendering carries only the first few)."""
    incident = await h.store.by_number(TEAM, number)
    assert incident is not None
    return await h.runtime.services.customers.customers.page(incident.id, 0, 100_000)


def ephemerals_for(h: Harness, channel: str, user: str) -> list[dict[str, Any]]:
    """Private messages with blocks (checklists) that ``user`` sees in ``channel``."""
    return [m for m in h.double.ephemerals(channel) if m.get("to_user") == user and m.get("blocks")]


def latest_ephemeral(h: Harness, channel: str, user: str) -> dict[str, Any]:
    return ephemerals_for(h, channel, user)[-1]


def row_of(message: dict[str, Any], name: str) -> dict[str, Any]:
    """The message cut down to the customer row that names ``name`` (to click its control)."""
    rows = [
        b
        for b in message["blocks"]
        if b.get("accessory") and f"*{name}*" in json.dumps(b, ensure_ascii=False)
    ]
    assert rows, f"no row with a control for {name!r}"
    return {**message, "blocks": rows[:1]}


def assert_within_limits(blocks: list[dict[str, Any]]) -> None:
    """Slack's published limits, checked by the same validator the double uses."""
    assert len(blocks) <= MESSAGE_BLOCKS_MAX
    assert validate_blocks(blocks, "message") == []
    for block in blocks:
        if block["type"] == "actions":
            assert len(block["elements"]) <= ACTIONS_ELEMENTS_MAX


def close_values(
    root_cause: str = "A configuration change sent EU card payments to a closed gateway.",
    owner: str = ALICE,
    due: date | None = None,
) -> dict[str, dict[str, Any]]:
    due = due or date.today() + timedelta(days=3)
    given = {
        "close_root_cause": root_cause,
        "close_resolution": "We restored the previous configuration.",
        "close_amends": "A 20% credit on this month's invoice.",
        "close_prevention": "Configuration changes now go out to 1% of traffic first.",
        "close_follow_up_owner": owner,
        "close_follow_up_due": due.isoformat(),
    }
    return {block: {block: value} for block, value in given.items()}


def opened_view(h: Harness, callback_id: str) -> dict[str, Any]:
    views = [v for v in h.double.views.values() if v.get("callback_id") == callback_id]
    assert views, f"no {callback_id} view is open"
    return views[-1]


def row_action(message: dict[str, Any]) -> str:
    """The action id of the one row control left in a message cut by :func:`row_of`."""
    return str(row_control(message)["action_id"])
