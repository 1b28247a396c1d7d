"""Hostile and malformed requests are refused with a clear answer and change nothing."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest

from tests.conftest import ALICE, SIGNING_SECRET, TEAM, Harness
from tests.helpers import created_channel, said

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def declare_body(h: Harness, title: str = "Checkout down") -> bytes:
    return urlencode(
        {
            "command": "/incident",
            "text": f"declare {title}",
            "team_id": TEAM,
            "user_id": ALICE,
            "channel_id": h.general,
            "response_url": h.double.new_response_url("commands", channel_id=h.general),
            "trigger_id": h.double.issue_trigger_id(ALICE),
        }
    ).encode()


async def nothing_happened(h: Harness) -> None:
    assert [c.method for c in h.double.calls if c.method != "auth.test"] == []
    assert (await h.store.list_by_status(TEAM, ["investigating"], 5))[1] == 0


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=00"},
        "stale",
        "other-secret",
    ],
    ids=["unsigned", "wrong", "older-than-5-minutes", "signed-with-another-secret"],
)
async def test_unsigned_wrongly_signed_and_stale_requests_get_401(
    harness: Harness, headers: dict[str, str] | str
) -> None:
    h = harness
    body = declare_body(h)
    if headers == "stale":
        headers = h.driver.sign(body, int(time.time()) - 6 * 60)
    elif headers == "other-secret":
        h.driver.secret = "not-" + SIGNING_SECRET
        headers = h.driver.sign(body)
        h.driver.secret = SIGNING_SECRET
    reply = await h.driver.post_raw(body, {**FORM, **headers})  # type: ignore[dict-item]
    assert reply.status == 401
    await nothing_happened(h)


MALFORMED = {
    "empty": b"",
    "not a form": b"\xff\xfe garbage",
    "payload not JSON": urlencode({"payload": "{nope"}).encode(),
    "payload a list": urlencode({"payload": "[1, 2]"}).encode(),
    "no type": urlencode({"payload": json.dumps({"user": {"id": ALICE}})}).encode(),
    "actions not a list": urlencode(
        {
            "payload": json.dumps(
                {"type": "block_actions", "user": {"id": ALICE}, "team": {"id": TEAM}, "actions": 7}
            )
        }
    ).encode(),
    "view without id": urlencode(
        {
            "payload": json.dumps(
                {
                    "type": "view_submission",
                    "user": {"id": ALICE},
                    "team": {"id": TEAM},
                    "view": {"callback_id": "declare"},
                }
            )
        }
    ).encode(),
    "command without user": urlencode({"command": "/incident", "team_id": TEAM}).encode(),
    "JSON that is not an event": b'{"type": "block_actions"}',
}


@pytest.mark.parametrize("name", list(MALFORMED))
async def test_malformed_bodies_get_400_saying_why(harness: Harness, name: str) -> None:
    h = harness
    body = MALFORMED[name]
    reply = await h.driver.post_raw(body, {**FORM, **h.driver.sign(body)})
    assert reply.status == 400
    assert json.loads(str(reply.text))["error"].startswith("malformed Slack request: ")
    await nothing_happened(h)


async def test_unknown_controls_and_commands_are_answered_without_a_change(
    harness: Harness,
) -> None:
    h = harness
    await h.driver.command(
        "/incident", "declare Checkout down", user_id=ALICE, channel_id=h.general
    )
    await h.double.wait_for(lambda: h.double.messages(h.broadcast))
    channel = str(created_channel(h)["id"])
    calls = len(h.double.calls)
    other = await h.driver.command("/deploy", "now", user_id=ALICE, channel_id=channel)
    assert other.status == 200 and "answers `/incident` only" in str(other.text)

    retired = {
        "type": "actions",
        "block_id": "incident:1:legacy",
        "elements": [
            {
                "type": "button",
                "action_id": "retired_button",
                "text": {"type": "plain_text", "text": "Old"},
                "value": "x",
            }
        ],
    }
    message = h.double.add_message(channel, "old", user_id=ALICE, blocks=[retired])
    click = await h.driver.click(message, "retired_button", user_id=ALICE)
    assert click.status == 200
    assert "not one Amends knows" in await said(h, click)
    assert [c.method for c in h.double.calls[calls:]] == []


async def test_huge_texts_are_answered_briefly(harness: Harness) -> None:
    h = harness
    reply = await h.driver.command("/incident", "x" * 12_000, user_id=ALICE, channel_id=h.general)
    assert reply.status == 200 and len(str(reply.text)) < 500
    title = "declare " + "Checkout " * 40
    long = await h.driver.command("/incident", title, user_id=ALICE, channel_id=h.general)
    assert "at most 150" in await said(h, long)
    await nothing_happened(h)


async def test_a_command_mentioning_payload_still_reaches_its_listener(harness: Harness) -> None:
    h = harness
    reply = await h.driver.command(
        "/incident", "declare payload service drops orders", user_id=ALICE, channel_id=h.general
    )
    assert reply.status == 200
    await h.double.wait_for(lambda: h.double.ok_calls_to("pins.add"))
    assert created_channel(h)["name"] == "inc-1-payload-service-drops-orders"
