"""``amends serve`` in Socket Mode: the real bot connects to the double's WebSocket,
takes slash commands and clicks as envelopes, acks them there, and does the work."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

import bot.runtime.process
from bot.runtime.serve import serve
from bot.sandbox.double.server import SlackDouble
from bot.sandbox.double.state import APP_ID
from bot.sandbox.driver import VERIFICATION_TOKEN, Chosen, action_payload, find_element
from messages import ids
from tests.support.harness import ALICE, BOB, TEAM, make_settings

APP_TOKEN = "xapp-1-test"


@dataclass
class SocketBot:
    double: SlackDouble
    general: str
    broadcast: str


@pytest.fixture
async def double() -> AsyncIterator[SlackDouble]:
    d = SlackDouble(team_id=TEAM, bot_token="xoxb-test", app_token=APP_TOKEN)
    await d.start()
    yield d
    await d.stop()


@pytest.fixture
async def socket_bot(
    engine: AsyncEngine, double: SlackDouble, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[SocketBot]:
    """``serve(settings)`` with SLACK_APP_TOKEN set, on the test's database, until torn down."""
    for user_id, name in ((ALICE, "alice"), (BOB, "bob")):
        double.add_user(user_id, name)
    general = double.add_channel("general", members=[ALICE, BOB])["id"]
    broadcast = double.add_channel("incidents", members=[ALICE], bot_member=True)["id"]
    monkeypatch.setattr(bot.runtime.process, "create_engine", lambda *_a, **_k: engine)
    settings = make_settings(
        double.api_url, slack_app_token=APP_TOKEN, broadcast_channel=broadcast, port=0
    )
    before = asyncio.all_tasks()
    task = asyncio.create_task(serve(settings))
    try:
        await double.socket.wait_connected(timeout=10)
        yield SocketBot(double, general, broadcast)
    finally:
        await settle(double)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
    await asyncio.sleep(0.05)  # cancelled helpers finish unwinding
    leaked = [t for t in asyncio.all_tasks() - before - {asyncio.current_task()} if not t.done()]
    assert leaked == [], f"serve left tasks running: {leaked}"
    assert not double.socket.connected, "the bot's WebSocket is still open"


async def settle(d: SlackDouble, quiet: float = 0.3, timeout: float = 5.0) -> None:
    """Until the bot has made no Web API call nor response_url post for ``quiet`` seconds,
    so stopping it does not cut off work it started after an ack."""
    deadline = time.monotonic() + timeout
    seen = (-1, -1)
    while time.monotonic() < deadline:
        now = (len(d.calls), len(d.responses))
        if now == seen:
            return
        seen = now
        await asyncio.sleep(quiet)


def slash_command(d: SlackDouble, text: str, *, user_id: str, channel_id: str) -> dict[str, Any]:
    """The payload of a ``slash_commands`` envelope: the form fields, as a JSON object."""
    ws = d.workspace()
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": ws.team_id,
        "team_domain": ws.domain,
        "channel_id": channel_id,
        "channel_name": ws.channels[channel_id].name,
        "user_id": user_id,
        "user_name": ws.users[user_id]["name"],
        "command": "/incident",
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": d.new_response_url("commands", channel_id=channel_id, user_id=user_id),
        "trigger_id": d.issue_trigger_id(user_id),
    }


def block_actions(
    d: SlackDouble,
    message: dict[str, Any],
    action_id: str,
    *,
    user_id: str,
    channel_id: str,
    **chosen: Any,
) -> dict[str, Any]:
    """The payload of an ``interactive`` envelope for a click in a channel message."""
    ws = d.workspace()
    block, element = find_element(message["blocks"], action_id)
    name = ws.users[user_id]["name"]
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": name, "name": name, "team_id": ws.team_id},
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": channel_id,
            "is_ephemeral": False,
        },
        "trigger_id": d.issue_trigger_id(user_id),
        "team": {"id": ws.team_id, "domain": ws.domain},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": ws.channels[channel_id].name},
        "message": message,
        "response_url": d.new_response_url(
            "actions", channel_id=channel_id, user_id=user_id, message_ts=message["ts"]
        ),
        "actions": [action_payload(block, element, Chosen(**chosen))],
    }


def header_of(d: SlackDouble, channel_id: str) -> dict[str, Any]:
    pinned = d.pins(channel_id)
    return next(m for m in d.messages(channel_id) if m["ts"] == pinned[0])


async def test_serve_in_socket_mode_declares_and_takes_clicks(socket_bot: SocketBot) -> None:
    d = socket_bot.double
    opened = d.ok_calls_to("apps.connections.open")
    assert len(opened) == 1 and opened[0].response["url"].startswith("ws://127.0.0.1:")

    command = slash_command(
        d, "declare Checkout is down", user_id=ALICE, channel_id=socket_bot.general
    )
    started = time.perf_counter()
    ack = await d.deliver("slash_commands", command, timeout=3.0)
    assert time.perf_counter() - started < 3.0
    assert ack is not None and "Declaring" in json.dumps(ack, ensure_ascii=False)
    assert d.socket.deliveries[-1].envelope["accepts_response_payload"] is True

    created = await d.wait_for(lambda: d.ok_calls_to("conversations.create"))
    channel = created[0].response["channel"]
    assert channel["name"] == "inc-1-checkout-is-down"
    await d.wait_for(lambda: d.pins(channel["id"]))
    header = header_of(d, channel["id"])
    assert "Checkout is down" in json.dumps(header["blocks"]) and "INC-1" in json.dumps(header)
    told = await d.wait_for(
        lambda: [r for r in d.responses_for(command["response_url"]) if "is open in" in str(r.body)]
    )
    assert f"<#{channel['id']}" in str(told[0].body)

    click = block_actions(
        d,
        header,
        ids.role_select("tech"),
        user_id=ALICE,
        channel_id=channel["id"],
        selected_user=BOB,
    )
    assert await d.deliver("interactive", click, timeout=3.0) is None  # a bare ack
    assert d.socket.deliveries[-1].envelope["accepts_response_payload"] is False
    await d.wait_for(lambda: f"<@{BOB}>" in json.dumps(header_of(d, channel["id"])["blocks"]))
    assert BOB in d.members(channel["id"])


async def test_serve_reconnects_when_slack_asks(socket_bot: SocketBot) -> None:
    d = socket_bot.double
    await d.socket.disconnect("refresh_requested")
    await d.wait_for(lambda: d.socket.connections == 2 and d.socket.connected)
    assert len(d.ok_calls_to("apps.connections.open")) == 2
    command = slash_command(d, "declare After refresh", user_id=BOB, channel_id=socket_bot.general)
    ack = await d.deliver("slash_commands", command, timeout=3.0)
    assert ack is not None and "Declaring" in json.dumps(ack, ensure_ascii=False)
    await d.wait_for(
        lambda: [r for r in d.responses_for(command["response_url"]) if "is open in" in str(r.body)]
    )


async def test_connections_open_wants_an_app_token(double: SlackDouble) -> None:
    async def error_with(token: str | None) -> str:
        web = AsyncWebClient(token=token, base_url=double.api_url)
        with pytest.raises(SlackApiError) as caught:
            await web.api_call("apps.connections.open", http_verb="POST")
        return str(caught.value.response["error"])

    assert await error_with(None) == "not_authed"
    assert await error_with("xoxb-test") == "not_allowed_token_type"
    assert await error_with("xapp-1-other") == "invalid_auth"


async def test_the_double_speaks_socket_mode_to_a_plain_websocket(double: SlackDouble) -> None:
    web = AsyncWebClient(base_url=double.api_url)
    url = (await web.apps_connections_open(app_token=APP_TOKEN))["url"]
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url) as ws:
            hello = await ws.receive_json(timeout=3)
            assert hello["type"] == "hello" and hello["connection_info"]["app_id"] == APP_ID
            assert hello["num_connections"] == 1
            delivery = asyncio.create_task(double.deliver("events_api", {"type": "event_callback"}))
            envelope = await ws.receive_json(timeout=3)
            assert envelope["type"] == "events_api" and envelope["retry_attempt"] == 0
            assert envelope["accepts_response_payload"] is False
            await ws.send_json({"envelope_id": envelope["envelope_id"], "payload": {"x": 1}})
            assert await delivery == {"x": 1}
            with pytest.raises(TimeoutError):
                await double.deliver("slash_commands", {"text": ""}, timeout=0.2)
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await session.ws_connect(url)  # each URL works once
