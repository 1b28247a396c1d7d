"""A click on an incident's control is acknowledged before Amends works out who is acting.

Finding out whether the clicker takes part may ask Slack who is in the channel; Slack waits
3 seconds for the acknowledgement, so the lookup (``handlers.controls.on_incident``) runs
after it.
"""

from __future__ import annotations

from messages import ids
from tests.support.harness import ALICE, MARIA, TEAM, Harness
from tests.support.helpers import created_channel, eventually, header_message

ACK_DEADLINE = 3.0
SLOW_SLACK = 4.0


async def status_is(h: Harness, status: str) -> bool:
    incident = await h.store.by_number(TEAM, 1)
    return incident is not None and incident.status == status


async def test_a_click_is_acknowledged_before_slack_says_who_is_in_the_channel(
    harness: Harness,
) -> None:
    h = harness
    await h.driver.command(
        "/incident", "declare Checkout down", user_id=ALICE, channel_id=h.general
    )
    await h.double.wait_for(lambda: h.double.ok_calls_to("pins.add"))
    channel = str(created_channel(h)["id"])
    h.double.workspace().channels[channel].members.append(MARIA)
    h.double.slow_down("conversations.members", SLOW_SLACK)
    click = await h.driver.click(
        header_message(h, channel),
        ids.STATUS_SELECT,
        user_id=MARIA,
        selected_option_value="identified",
    )
    assert click.status == 200 and click.elapsed < ACK_DEADLINE, click
    await eventually(lambda: status_is(h, "identified"), timeout=SLOW_SLACK * 2 + 3)
