"""A workspace that uninstalls Amends (single-token mode) stops getting reminders and parked
calls; work that still finds a workspace gone is dropped, and one failing parked call
never holds up the others."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.observability.metrics import Metrics
from bot.sandbox.double.server import SlackDouble
from bot.slack.outbox import Outbox
from bot.slack.workspaces import NotInstalled
from storage.outbox import OutboxStore
from storage.reminders import CANCELLED, PENDING
from tests.e2e.test_socket_mode import SocketBot, double, socket_bot
from tests.e2e.test_updates_e2e import declare, reminders
from tests.support.harness import ALICE, SIGNING_SECRET, TEAM, Harness, start_harness, stop_harness

__all__ = ["double", "socket_bot"]  # the Socket Mode fixtures, used here too

URL_VERIFICATION = {
    "token": "Jhj5dZrVaK7ZwHHjRyZWjbDl",
    "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
    "type": "url_verification",
}
"""Slack's url_verification example (api.slack.com/events/url_verification; the same in
bolt-python tests/scenario_tests/test_events_url_verification.py)."""


@pytest.fixture
async def quick(engine: AsyncEngine) -> AsyncIterator[Harness]:
    """Reminders every second, escalations a second later."""
    h = await start_harness(
        engine,
        customer_update_cadence="SEV1=1s,SEV2=60m,SEV3=120m",
        reminder_grace="1s",
        reminder_sweep_seconds=0.5,
    )
    yield h
    await stop_harness(h)


async def reminder_state(h: Harness, number: int = 1) -> str:
    incident = await h.store.by_number(TEAM, number)
    row = await h.runtime.services.reminders.get(incident.id)
    assert row is not None
    return row.state


async def test_slack_verifies_the_request_url_with_a_signed_challenge(harness: Harness) -> None:
    h = harness
    body = json.dumps(URL_VERIFICATION).encode()
    headers = {"Content-Type": "application/json", **h.driver.sign(body)}
    reply = await h.driver.post_raw(body, headers)
    assert reply.status == 200
    assert URL_VERIFICATION["challenge"] in reply.text


async def test_an_uninstalled_workspace_gets_no_more_reminders_and_its_parked_calls_are_dropped(
    harness: Harness,
) -> None:
    h = harness
    await declare(h, "SEV2")
    outbox = h.runtime.services.updates.outbox
    await outbox.stop()  # keep the parked call parked until the uninstall
    await outbox.park(
        TEAM,
        "chat.postMessage",
        {"channel": h.customers, "text": "later"},
        what="a post",
        key=None,
        error="internal_error",
    )
    assert await reminder_state(h) == PENDING and await outbox.store.pending() == 1
    h.double.events.subscribe(h.runtime.events_url, SIGNING_SECRET)

    deliveries = await h.double.uninstall()

    assert [d.body["event"]["type"] for d in deliveries] == ["tokens_revoked", "app_uninstalled"]
    assert all(d.acked for d in deliveries)
    for _ in range(100):
        if await reminder_state(h) == CANCELLED and not await outbox.store.pending():
            break
        await asyncio.sleep(0.05)
    assert await reminder_state(h) == CANCELLED
    assert await outbox.store.pending() == 0


async def test_a_reminder_of_a_workspace_whose_token_is_dead_is_dropped_not_retried(
    quick: Harness,
) -> None:
    h = quick
    channel = await declare(h, "SEV1")
    await h.double.wait_for(lambda: reminders(h, channel), timeout=10)
    h.double.workspace().uninstall()  # the app_uninstalled event never reached the bot

    def refused() -> list[object]:
        return [c for c in h.double.calls if c.response.get("error") == "token_revoked"]

    await h.double.wait_for(refused, timeout=10)
    for _ in range(100):
        if await reminder_state(h) == CANCELLED:
            break
        await asyncio.sleep(0.05)
    assert await reminder_state(h) == CANCELLED
    tried = len(refused())
    await asyncio.sleep(3)  # several sweeps and retry backoffs
    assert len(refused()) == tried


async def test_a_parked_call_whose_client_for_raises_does_not_block_the_rest_of_the_batch(
    harness: Harness,
) -> None:
    h = harness
    await h.runtime.services.updates.outbox.stop()
    base = h.runtime.services.updates.outbox.client_for

    async def client_for(team_id: str) -> AsyncWebClient:
        if team_id == "T0BROKEN":
            raise RuntimeError("the installation store cannot read this row")
        return await base(team_id)

    outbox = Outbox(OutboxStore(h.runtime.engine), client_for, Metrics())
    for team, text in ((TEAM, "one"), ("T0BROKEN", "two"), (TEAM, "three")):
        await outbox.park(
            team,
            "chat.postMessage",
            {"channel": h.customers, "text": text},
            what=text,
            key=None,
            error="internal_error",
        )
    assert await outbox.flush() == 2
    assert [m["text"] for m in h.double.messages(h.customers)] == ["one", "three"]
    assert await outbox.store.pending() == 1  # tried again later


async def test_a_parked_call_of_a_workspace_that_is_not_installed_is_dropped(
    harness: Harness,
) -> None:
    h = harness
    await h.runtime.services.updates.outbox.stop()
    base = h.runtime.services.updates.outbox.client_for

    async def client_for(team_id: str) -> AsyncWebClient:
        if team_id == "T0GONE":
            raise NotInstalled(f"Amends is not installed in workspace {team_id}")
        return await base(team_id)

    outbox = Outbox(OutboxStore(h.runtime.engine), client_for, Metrics())
    for team, text in (("T0GONE", "lost"), (TEAM, "kept")):
        await outbox.park(
            team,
            "chat.postMessage",
            {"channel": h.customers, "text": text},
            what=text,
            key=None,
            error="internal_error",
        )
    assert await outbox.flush() == 1
    assert [m["text"] for m in h.double.messages(h.customers)] == ["kept"]
    assert await outbox.store.pending() == 0


async def test_the_double_revokes_an_uninstalled_apps_token_and_a_reinstall_issues_one() -> None:
    double = SlackDouble(team_id=TEAM, bot_token="xoxb-test")
    await double.start()
    try:
        old = AsyncWebClient(token="xoxb-test", base_url=double.api_url)
        assert (await old.auth_test())["team_id"] == TEAM
        double.workspace().uninstall()
        with pytest.raises(SlackApiError) as caught:
            await old.auth_test()
        assert caught.value.response["error"] == "token_revoked"
        with pytest.raises(SlackApiError) as caught:
            await AsyncWebClient(token="xoxb-never", base_url=double.api_url).auth_test()
        assert caught.value.response["error"] == "invalid_auth"
        code = double.oauth.grant(TEAM, ALICE)
        granted = await AsyncWebClient(base_url=double.api_url).oauth_v2_access(
            client_id=double.oauth.client_id, client_secret=double.oauth.client_secret, code=code
        )
        new = AsyncWebClient(token=granted["access_token"], base_url=double.api_url)
        assert granted["access_token"] != "xoxb-test"
        assert (await new.auth_test())["team_id"] == TEAM
        with pytest.raises(SlackApiError):
            await old.auth_test()
    finally:
        await double.stop()


async def test_slack_sends_no_command_from_a_workspace_that_uninstalled_the_app(
    harness: Harness,
) -> None:
    h = harness
    h.double.workspace().uninstall()
    with pytest.raises(AssertionError, match="uninstalled"):
        await h.driver.command("/incident", "list", user_id=ALICE, channel_id=h.general)


async def test_an_event_the_app_does_not_ack_in_time_is_retried_with_x_slack_retry_num(
    harness: Harness,
) -> None:
    h = harness
    h.double.events.subscribe(h.runtime.events_url, SIGNING_SECRET)
    h.double.events.retry_delays = (0.0, 0.0, 0.0)
    h.double.events.ack_seconds = 0.000001  # no app answers that fast
    started = time.monotonic()
    delivery = await h.double.events.send(h.double.event({"type": "app_uninstalled"}))
    assert time.monotonic() - started < 5
    assert [a.retry for a in delivery.attempts] == [0, 1, 2, 3]
    assert {a.reason for a in delivery.attempts[1:]} == {"http_timeout"}


async def test_in_socket_mode_the_uninstall_arrives_as_events_api_envelopes_and_is_applied(
    socket_bot: SocketBot, caplog: pytest.LogCaptureFixture
) -> None:
    d = socket_bot.double
    caplog.set_level(logging.INFO)
    deliveries = await d.uninstall()
    assert all(x.acked for x in deliveries)
    envelopes = [x.envelope for x in d.socket.deliveries]
    assert [e["type"] for e in envelopes] == ["events_api", "events_api"]
    assert [e["payload"]["event"]["type"] for e in envelopes] == [
        "tokens_revoked",
        "app_uninstalled",
    ]
    stopped = ["revoked the bot token", "uninstalled Amends"]
    await d.wait_for(
        lambda: [m for r in caplog.records for m in stopped if m in r.getMessage()] == stopped
    )
