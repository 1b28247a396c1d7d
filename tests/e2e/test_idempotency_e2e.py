"""Slack's redeliveries of events and people's double clicks never apply a change twice.

Slack redelivers Events API deliveries only (``X-Slack-Retry-Num`` over HTTP,
``retry_attempt`` in Socket Mode); slash commands and clicks are never redelivered, but
people click twice, or together, and compare-and-swap keeps those to one change.
"""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import func, select

from bot.sandbox.double.events import NotAnEvent
from bot.sandbox.double.server import SlackDouble
from messages import ids
from storage.models import SeenRequest
from tests.e2e.test_socket_mode import SocketBot, double, socket_bot
from tests.e2e.test_updates_e2e import declare
from tests.support.harness import ALICE, BOB, SIGNING_SECRET, TEAM, Harness
from tests.support.helpers import header_message

__all__ = ["double", "socket_bot"]  # the Socket Mode fixtures, used here too

APPLIED = "uninstalled Amends: cancelled"
"""The line ``bot.slack.workspaces.Departures`` logs each time it applies an uninstall."""


def applied(caplog: pytest.LogCaptureFixture) -> int:
    return sum(APPLIED in r.getMessage() for r in caplog.records)


async def test_a_redelivered_event_is_applied_once(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h = harness
    caplog.set_level(logging.INFO)
    h.double.events.subscribe(h.runtime.events_url, SIGNING_SECRET)
    first = await h.double.events.send(h.double.event({"type": "app_uninstalled"}))
    assert first.acked and len(first.attempts) == 1
    await h.double.wait_for(lambda: applied(caplog))
    again = await h.double.events.redeliver(first.body, retry=1, reason="http_timeout")
    later = await h.double.events.redeliver(first.body, retry=2, reason="http_timeout")
    assert again.status == later.status == 200
    await asyncio.sleep(0.3)
    assert applied(caplog) == 1
    assert again.headers.get("x-slack-no-retry") == "1"


async def test_an_event_envelope_with_retry_attempt_is_applied_once_in_socket_mode(
    socket_bot: SocketBot, caplog: pytest.LogCaptureFixture
) -> None:
    d = socket_bot.double
    caplog.set_level(logging.INFO)
    body = d.event({"type": "app_uninstalled"})
    await d.socket.deliver("events_api", body)
    await d.wait_for(lambda: applied(caplog))
    await d.socket.deliver("events_api", body, retry_attempt=1, retry_reason="timeout")
    await d.socket.deliver("events_api", body, retry_attempt=2, retry_reason="timeout")
    sent = [x.envelope for x in d.socket.deliveries]
    assert [e["retry_attempt"] for e in sent] == [0, 1, 2]
    assert all(e["payload"]["event_id"] == body["event_id"] for e in sent)
    await asyncio.sleep(0.3)
    assert applied(caplog) == 1


async def test_commands_and_clicks_write_nothing_to_guard_against_redeliveries(
    harness: Harness,
) -> None:
    h = harness
    channel = await declare(h, "SEV2")
    await h.driver.click(
        header_message(h, channel),
        ids.STATUS_SELECT,
        user_id=ALICE,
        selected_option_value="identified",
    )
    await h.double.wait_for(lambda: announcements(h, channel, "identified"))
    async with h.runtime.engine.connect() as connection:
        seen = await connection.scalar(select(func.count()).select_from(SeenRequest))
    assert seen == 0


async def test_the_double_refuses_to_redeliver_a_slash_command_or_a_click(
    double: SlackDouble,
) -> None:
    command = {"command": "/incident", "text": "declare x", "team_id": TEAM, "user_id": ALICE}
    click = {"type": "block_actions", "team": {"id": TEAM}, "user": {"id": ALICE}}
    for body in (command, click):
        with pytest.raises(NotAnEvent):
            await double.events.redeliver(body, retry=1)
    with pytest.raises(ValueError, match="only events_api"):
        await double.socket.deliver("slash_commands", command, retry_attempt=1)
    with pytest.raises(ValueError, match="only events_api"):
        await double.socket.deliver("interactive", click, retry_attempt=1)


async def test_a_double_click_changes_the_status_once_and_says_so(harness: Harness) -> None:
    h = harness
    channel = await declare(h, "SEV2")
    header = header_message(h, channel)
    clicks = await asyncio.gather(
        *(
            h.driver.click(
                header, ids.STATUS_SELECT, user_id=user, selected_option_value="monitoring"
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
