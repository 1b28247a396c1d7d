"""Slack's redeliveries and people's double clicks never apply a change twice."""

from __future__ import annotations

import asyncio

from tests.conftest import ALICE, BOB, TEAM, Harness
from tests.helpers import header_message
from tests.test_updates_e2e import declare


async def test_a_redelivered_declare_opens_one_incident(harness: Harness) -> None:
    h = harness
    first = await h.driver.command(
        "/incident", "declare Checkout down", user_id=ALICE, channel_id=h.general
    )
    body = h.driver.last_body
    await h.runtime.services.redeliveries.settle()  # Slack waits 3 s before redelivering
    again = await h.driver.redeliver(body, retry=1)
    later = await h.driver.redeliver(body, retry=2)
    assert first.status == again.status == later.status == 200
    assert again.headers.get("x-slack-no-retry") == "1" and not again.text
    await h.double.wait_for(lambda: h.double.ok_calls_to("pins.add"))
    await asyncio.sleep(0.3)
    assert len(h.double.ok_calls_to("conversations.create")) == 1
    _, total = await h.store.list_by_status(TEAM, ["investigating"], 10)
    assert total == 1


async def test_a_redelivered_click_changes_the_status_once(harness: Harness) -> None:
    h = harness
    channel = await declare(h, "SEV2")
    header = header_message(h, channel)
    click = await h.driver.click(
        header, "status_select", user_id=ALICE, selected_option_value="identified"
    )
    body = h.driver.last_body
    await h.runtime.services.redeliveries.settle()
    again = await h.driver.redeliver(body)
    assert click.status == again.status == 200
    await h.double.wait_for(lambda: announcements(h, channel, "identified"))
    await asyncio.sleep(0.3)
    assert len(announcements(h, channel, "identified")) == 1


async def test_a_double_click_changes_the_status_once_and_says_so(harness: Harness) -> None:
    h = harness
    channel = await declare(h, "SEV2")
    header = header_message(h, channel)
    clicks = await asyncio.gather(
        *(
            h.driver.click(
                header, "status_select", user_id=user, selected_option_value="monitoring"
            )
            for user in (ALICE, BOB)
        )
    )
    assert all(c.status == 200 for c in clicks)
    await h.double.wait_for(lambda: announcements(h, channel, "monitoring"))
    told = await h.double.wait_for(
        lambda: [r for c in clicks for r in h.double.responses_for(str(c.response_url))] or None
    )
    await asyncio.sleep(0.3)
    assert len(announcements(h, channel, "monitoring")) == 1
    incident = await h.store.by_number(TEAM, 1)
    events = [e for e in await h.store.timeline(incident.id) if "monitoring" in e.detail]
    assert len(events) == 1
    assert "already" in str(told[0].body) or "changed the status" in str(told[0].body)


def announcements(h: Harness, channel: str, status: str) -> list[dict[str, object]]:
    return [
        m
        for m in h.double.messages(channel)
        if "status" in str(m.get("text", "")).lower()
        and status in str(m.get("text", "")).lower()
        and not m.get("blocks")
    ]
