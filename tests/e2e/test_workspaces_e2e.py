"""Two workspaces installed through Bolt's OAuth flow: incidents, numbers and reminders
stay apart, each workspace is served with its own bot token, and one workspace cannot
reach the other's incidents. A workspace that uninstalls Amends loses its installation
and its pending work, the other goes on, and a reinstall works again."""

from __future__ import annotations

import asyncio
import html
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlparse

import aiohttp
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.process import Runtime
from bot.sandbox.double.server import SlackDouble
from bot.sandbox.driver import DriverReply, SlackDriver
from messages import ids
from storage.reminders import CANCELLED
from tests.support.blockkit_readers import block_holding
from tests.support.harness import ALICE, BOB, SIGNING_SECRET, TEAM, make_settings
from tests.support.helpers import eventually
from tests.unit.test_reminder_batches import statements

SECOND = "T0SECOND"
STATE_SECRET = "a-state-secret-for-the-tests"


@dataclass
class Two:
    double: SlackDouble
    runtime: Runtime
    first: SlackDriver
    second: SlackDriver
    general: dict[str, str]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.runtime.port}"


@pytest.fixture
async def two(engine: AsyncEngine) -> AsyncIterator[Two]:
    double = SlackDouble(team_id=TEAM, bot_token="xoxb-first")
    await double.start()
    double.add_workspace(SECOND, "second", "xoxb-second", "UBOTTWO")
    general = {}
    for team in (TEAM, SECOND):
        for user_id, name in ((ALICE, "alice"), (BOB, "bob")):
            double.add_user(user_id, name, team_id=team)
        general[team] = double.add_channel("general", members=[ALICE, BOB], team_id=team)["id"]
    settings = make_settings(
        double.api_url,
        slack_bot_token=None,
        slack_client_id=double.oauth.client_id,
        slack_client_secret=double.oauth.client_secret,
        slack_state_secret=STATE_SECRET,
        broadcast_channel=None,
        customer_channel=None,
        customer_update_cadence="SEV1=1s,SEV2=60s,SEV3=120s",
        reminder_grace="60s",
        reminder_sweep_seconds=0.5,
    )
    runtime = await Runtime.start(settings, engine)
    await runtime.serve_http(host="127.0.0.1", port=0)
    drivers = [
        SlackDriver(runtime.events_url, SIGNING_SECRET, double, team_id=team)
        for team in (TEAM, SECOND)
    ]
    yield Two(double, runtime, drivers[0], drivers[1], general)
    for driver in drivers:
        await driver.close()
    await runtime.stop()
    await double.stop()


async def install(two: Two, team: str) -> str:
    """Play the person who installs Amends: the install page, Slack's consent, the redirect.

    Bolt's state cookie is ``Secure``; the test's browser sends it back by hand over
    plain HTTP to 127.0.0.1.
    """
    async with aiohttp.ClientSession() as browser:
        async with browser.get(f"{two.base}/slack/install") as page:
            assert page.status == 200
            found = re.search(
                r'href="(https://slack.com/oauth/v2/authorize[^"]+)"', await page.text()
            )
            assert found, "the install page links to Slack's consent screen"
            cookie = page.cookies["slack-app-oauth-state"].value
        state = parse_qs(urlparse(html.unescape(found[1])).query)["state"][0]
        assert state == cookie
        code = two.double.oauth.grant(team, ALICE)
        redirect = f"{two.base}/slack/oauth_redirect?code={code}&state={state}"
        headers = {"Cookie": f"slack-app-oauth-state={cookie}"}
        async with browser.get(redirect, headers=headers) as done:
            return f"{done.status} {await done.text()}"


async def declare(two: Two, driver: SlackDriver, team: str, title: str) -> str:
    before = len(two.double.ok_calls_to("pins.add"))
    reply = await driver.command(
        "/incident", f"declare {title}", user_id=ALICE, channel_id=two.general[team]
    )
    assert reply.status == 200
    pinned = await two.double.wait_for(lambda: two.double.ok_calls_to("pins.add")[before:])
    return str(pinned[0].args["channel"])


async def test_two_workspaces_keep_incidents_numbers_and_reminders_apart(two: Two) -> None:
    early = await two.first.command("/incident", "list", user_id=ALICE, channel_id="C0")
    assert early.status == 200
    assert "reinstall this app" in await told(two, early)

    for team in (TEAM, SECOND):
        answer = await install(two, team)
        assert answer.startswith("200"), answer
    assert await install_with_forged_state(two) == 400

    first = await declare(two, two.first, TEAM, "Checkout down")
    second = await declare(two, two.second, SECOND, "Login slow")
    assert two.double.channel(first)["name"].startswith("inc-1-")  # type: ignore[index]
    assert two.double.channel(second)["name"].startswith("inc-1-")  # type: ignore[index]
    creates = two.double.ok_calls_to("conversations.create")
    assert [c.team_id for c in creates] == [TEAM, SECOND]

    listing = await two.second.command("/incident", "list", user_id=ALICE, channel_id=second)
    shown = await told(two, listing)
    assert "Login slow" in shown and "Checkout down" not in shown

    for driver, channel in ((two.first, first), (two.second, second)):
        await driver.command("/incident", "severity SEV1", user_id=ALICE, channel_id=channel)
    for team, channel in ((TEAM, first), (SECOND, second)):
        posted = await two.double.wait_for(lambda c=channel: _reminders(two, c), timeout=10)
        assert {call.team_id for call in posted} == {team}


async def test_one_workspace_cannot_reach_the_others_incident(two: Two) -> None:
    for team in (TEAM, SECOND):
        await install(two, team)
    first = await declare(two, two.first, TEAM, "Checkout down")
    header = header_message_of(two, first)
    reply = await two.second.command(
        "/incident", "status identified", user_id=ALICE, channel_id=first
    )
    assert reply.status == 200
    assert "incident channel" in await told(two, reply)
    picker = block_holding(header, ids.STATUS_SELECT)
    url = two.double.new_response_url("actions", channel_id=first, user_id=BOB, team_id=SECOND)
    forged = {
        "type": "block_actions",
        "team": {"id": SECOND, "domain": "second"},
        "user": {"id": BOB, "team_id": SECOND, "username": "bob", "name": "bob"},
        "api_app_id": "A0AMENDS",
        "container": {"type": "message", "message_ts": header["ts"], "channel_id": first},
        "channel": {"id": first, "name": "inc-1"},
        "trigger_id": two.double.issue_trigger_id(BOB, team_id=SECOND),
        "response_url": url,
        "actions": [
            {
                "type": "static_select",
                "action_id": ids.STATUS_SELECT,
                "block_id": picker["block_id"],
                "selected_option": {
                    "text": {"type": "plain_text", "text": "Identified"},
                    "value": "identified",
                },
                "action_ts": "1700000000.000001",
            }
        ],
    }
    body = urlencode({"payload": json.dumps(forged)}).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", **two.second.sign(body)}
    click = await two.second.post_raw(body, headers)
    assert click.status == 200
    answers = await two.double.wait_for(lambda: two.double.responses_for(url))
    assert "no incident INC-1 in this workspace" in json.dumps(answers[0].body)
    incident = await two.runtime.services.store.by_number(TEAM, 1)
    assert incident is not None and incident.status == "investigating"
    assert await two.runtime.services.store.by_number(SECOND, 1) is None


async def told(two: Two, reply: DriverReply) -> str:
    """The ack's text, else what was posted to the reply's response_url."""
    if reply.text:
        return str(reply.text)
    url = str(reply.response_url)
    answers = await two.double.wait_for(lambda: two.double.responses_for(url))
    return json.dumps(answers[0].body)


def header_message_of(two: Two, channel: str) -> dict[str, object]:
    pinned = two.double.pins(channel)
    ts = pinned[0]["ts"] if isinstance(pinned[0], dict) else pinned[0]
    return next(m for m in two.double.messages(channel) if m["ts"] == ts)


def _reminders(two: Two, channel: str) -> list[object]:
    return [
        c
        for c in two.double.ok_calls_to("chat.postMessage")
        if c.args.get("channel") == channel and "is due" in str(c.args.get("text"))
    ]


async def install_with_forged_state(two: Two) -> int:
    code = two.double.oauth.grant(TEAM, ALICE)
    async with (
        aiohttp.ClientSession() as browser,
        browser.get(f"{two.base}/slack/oauth_redirect?code={code}&state=forged.0000") as done,
    ):
        return done.status


async def bot_of(two: Two, team: str) -> object | None:
    store = two.runtime.app.installation_store
    assert store is not None
    return await store.async_find_bot(enterprise_id=None, team_id=team)


async def test_tokens_revoked_removes_that_workspaces_bot_installation(two: Two) -> None:
    for team in (TEAM, SECOND):
        await install(two, team)
    two.double.events.subscribe(two.runtime.events_url, SIGNING_SECRET)
    bot_user = two.double.workspace(TEAM).bot_user_id
    event = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": [bot_user]}}
    delivery = await two.double.events.send(two.double.event(event, TEAM))
    assert delivery.acked
    await eventually(lambda: _absent(bot_of(two, TEAM)))
    assert await bot_of(two, SECOND) is not None


async def _absent(found: Awaitable[object | None]) -> bool:
    return await found is None


async def test_an_uninstalled_workspace_loses_its_reminders_and_parked_calls_the_other_goes_on(
    two: Two,
) -> None:
    for team in (TEAM, SECOND):
        await install(two, team)
    first = await declare(two, two.first, TEAM, "Checkout down")
    second = await declare(two, two.second, SECOND, "Login slow")
    await two.first.command("/incident", "severity SEV1", user_id=ALICE, channel_id=first)
    await two.double.wait_for(lambda: _reminders(two, first), timeout=10)
    outbox = two.runtime.services.updates.outbox
    await outbox.stop()
    for team, channel in ((TEAM, first), (SECOND, second)):
        args = {"channel": channel, "text": f"parked for {team}"}
        await outbox.park(
            team, "chat.postMessage", args, what="a post", key=None, error="internal_error"
        )
    two.double.events.subscribe(two.runtime.events_url, SIGNING_SECRET)
    reminders = two.runtime.services.reminders
    incident = await two.runtime.services.store.by_number(TEAM, 1)

    await two.double.uninstall(TEAM)

    store = two.runtime.app.installation_store
    assert store is not None

    async def stopped() -> bool:
        row = await reminders.get(incident.id)
        installed = await store.async_find_installation(enterprise_id=None, team_id=TEAM)
        return (
            row is not None
            and row.state == CANCELLED
            and await outbox.store.pending() == 1
            and installed is None
        )

    await eventually(stopped)
    assert await bot_of(two, TEAM) is None
    assert await store.async_find_installation(enterprise_id=None, team_id=SECOND) is not None
    outbox.start()
    await two.double.wait_for(lambda: _posted(two, SECOND, f"parked for {SECOND}"))
    later = await declare(two, two.second, SECOND, "Search down")
    await two.second.command("/incident", "severity SEV1", user_id=ALICE, channel_id=later)
    await two.double.wait_for(lambda: _reminders(two, later), timeout=10)
    assert not _posted(two, TEAM, f"parked for {TEAM}")
    assert not [c for c in two.double.calls if c.response.get("error") == "token_revoked"]


def _posted(two: Two, team: str, text: str) -> list[object]:
    return [
        c
        for c in two.double.ok_calls_to("chat.postMessage")
        if c.team_id == team and c.args.get("text") == text
    ]


async def test_a_workspace_reinstalled_after_an_uninstall_works_again_and_a_late_retry_leaves_it(
    two: Two,
) -> None:
    await install(two, TEAM)
    two.double.events.subscribe(two.runtime.events_url, SIGNING_SECRET)
    store = two.runtime.app.installation_store
    assert store is not None
    deliveries = await two.double.uninstall(TEAM)
    await eventually(
        lambda: _absent(store.async_find_installation(enterprise_id=None, team_id=TEAM))
    )
    assert await bot_of(two, TEAM) is None

    answer = await install(two, TEAM)
    assert answer.startswith("200"), answer
    await declare(two, two.first, TEAM, "Checkout down again")
    creates = two.double.ok_calls_to("conversations.create")
    assert [c.team_id for c in creates] == [TEAM]
    for delivery in deliveries:  # Slack's retry of an uninstall it thought undelivered
        attempt = await two.double.events.redeliver(delivery.body, retry=1)
        assert attempt.status == 200
    await asyncio.sleep(0.3)
    assert await bot_of(two, TEAM) is not None


async def warmed_up(two: Two, team: str) -> str:
    """Install ``team``, declare an incident there and wait for its first reminder (a
    delivery, so the workspace's bot token is now remembered); the incident's channel."""
    await install(two, team)
    two.double.events.subscribe(two.runtime.events_url, SIGNING_SECRET)
    channel = await declare(two, two.first, team, "Checkout down")
    await two.first.command("/incident", "severity SEV1", user_id=ALICE, channel_id=channel)
    await two.double.wait_for(lambda: _reminders(two, channel), timeout=10)
    return channel


def _refused_as_revoked(two: Two, since: float = 0.0) -> list[object]:
    """Calls refused for a revoked token, made at or after ``since`` (a time.time())."""
    return [
        c for c in two.double.calls if c.response.get("error") == "token_revoked" and c.at >= since
    ]


async def test_after_an_uninstall_a_delivery_never_uses_the_remembered_token(
    two: Two, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="amends.workspaces")
    channel = await warmed_up(two, TEAM)
    await two.double.uninstall(TEAM)

    async def both_applied() -> bool:  # tokens_revoked and app_uninstalled: no more drops
        return sum("cancelled" in r.getMessage() for r in caplog.records) == 2

    await eventually(both_applied)
    outbox = two.runtime.services.updates.outbox
    await outbox.stop()
    args = {"channel": channel, "text": "parked after the uninstall"}
    parked_at = time.time()  # the declare's own calls may still meet the revoked token
    await outbox.park(TEAM, "chat.postMessage", args, what="a post", key=None, error="x")
    outbox.start()

    async def dropped() -> bool:
        return await outbox.store.pending() == 0

    await eventually(dropped)
    assert not _posted(two, TEAM, "parked after the uninstall")
    assert not _refused_as_revoked(two, parked_at), "the old token was not tried"


async def test_a_reinstalled_workspaces_reminders_go_out_with_its_new_token(
    two: Two, caplog: pytest.LogCaptureFixture
) -> None:
    """Reinstalled once both uninstall events are applied (an ``app_uninstalled`` applied
    after the reinstall would remove the new installation: a known limit, see the README)."""
    caplog.set_level(logging.WARNING, logger="amends.workspaces")
    await warmed_up(two, TEAM)
    await two.double.uninstall(TEAM)

    async def both_applied() -> bool:  # tokens_revoked and app_uninstalled
        return sum("cancelled" in r.getMessage() for r in caplog.records) == 2

    await eventually(both_applied)
    await eventually(lambda: _absent(bot_of(two, TEAM)))
    answer = await install(two, TEAM)
    assert answer.startswith("200"), answer
    later = await declare(two, two.first, TEAM, "Checkout down again")
    await two.first.command("/incident", "severity SEV1", user_id=ALICE, channel_id=later)
    await two.double.wait_for(lambda: _reminders(two, later), timeout=10)
    assert not _refused_as_revoked(two)


async def test_deliveries_to_one_workspace_read_its_installation_once(two: Two) -> None:
    channel = await warmed_up(two, TEAM)
    outbox = two.runtime.services.updates.outbox
    await outbox.stop()
    for n in range(3):
        args = {"channel": channel, "text": f"parked {n}"}
        await outbox.park(TEAM, "chat.postMessage", args, what="a post", key=None, error="x")
    with statements(two.runtime.engine) as seen:
        outbox.start()
        for n in range(3):
            await two.double.wait_for(lambda n=n: _posted(two, TEAM, f"parked {n}"))
    assert not [s for s in seen if "FROM slack_bots" in s]
