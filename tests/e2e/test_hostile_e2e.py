"""Hostile and malformed requests are refused with a clear answer and change nothing."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

import pytest

from messages import refusals
from tests.support.harness import ALICE, SIGNING_SECRET, TEAM, Harness
from tests.support.helpers import created_channel, said

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
    "not a form": b"garbage",
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
    assert other.status == 200 and refusals.unknown_command() in str(other.text)

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
    assert refusals.unknown_control() in await said(h, click)
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


# -- malformed signing headers: always 401, never a 500 ----------------------------------


async def raw_http(h: Harness, body: bytes, header_lines: list[bytes]) -> int:
    """POST with header bytes exactly as given (aiohttp's client refuses non-ASCII ones);
    returns the HTTP status."""
    reader, writer = await asyncio.open_connection("127.0.0.1", h.runtime.port)
    head = [
        b"POST /slack/events HTTP/1.1",
        b"Host: 127.0.0.1",
        b"Content-Type: application/x-www-form-urlencoded",
        b"Content-Length: " + str(len(body)).encode(),
        b"Connection: close",
        *header_lines,
    ]
    writer.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    await writer.wait_closed()
    return int(status_line.split()[1])


async def refused_as_unsigned(h: Harness, stamp: str | None, sig: str | None) -> None:
    """The declare body with these header values gets 401 and changes nothing."""
    body = declare_body(h)
    good = h.driver.sign(body)
    headers = {**FORM}
    headers["X-Slack-Request-Timestamp"] = (
        good["X-Slack-Request-Timestamp"] if stamp is None else stamp
    )
    headers["X-Slack-Signature"] = good["X-Slack-Signature"] if sig is None else sig
    reply = await h.driver.post_raw(body, headers)
    assert reply.status == 401, reply.text
    await nothing_happened(h)


def signed_with_stamp(h: Harness, body: bytes, stamp: str) -> str:
    """A correct HMAC over ``v0:<stamp>:<body>`` for a timestamp written oddly."""
    base = b"v0:" + stamp.encode() + b":" + body
    return "v0=" + hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()


@pytest.mark.parametrize(
    "stamp",
    ["\u0661\u0667\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660", "\u00b2", "\uff11\uff12"],
)
async def test_a_timestamp_in_non_ascii_digits_gets_401(harness: Harness, stamp: str) -> None:
    await refused_as_unsigned(harness, stamp, None)


async def test_a_timestamp_in_arabic_digits_gets_401_even_when_signed_over_it(
    harness: Harness,
) -> None:
    """``int()`` reads Arabic-Indic digits as the current time; sent as UTF-8 bytes (as an
    attacker would, byte for byte) with a correct HMAC over them, they still get 401."""
    h = harness
    body = declare_body(h)
    now = str(int(time.time()))
    stamp = now.translate({ord(d): 0x660 + int(d) for d in "0123456789"})
    signature = signed_with_stamp(h, body, stamp)
    headers = [
        b"X-Slack-Request-Timestamp: " + stamp.encode(),
        b"X-Slack-Signature: " + signature.encode(),
    ]
    assert await raw_http(h, body, headers) == 401
    await nothing_happened(h)


@pytest.mark.parametrize("stamp", ["", " ", "abc", "0x10", "1e9", "1_700_000_000"])
async def test_an_empty_or_non_numeric_timestamp_gets_401(harness: Harness, stamp: str) -> None:
    await refused_as_unsigned(harness, stamp, None)


@pytest.mark.parametrize("sign", ["+", "-", " "])
async def test_a_signed_or_padded_timestamp_gets_401_even_when_signed_over_it(
    harness: Harness, sign: str
) -> None:
    h = harness
    stamp = sign + str(int(time.time()))
    await refused_as_unsigned(h, stamp, signed_with_stamp(h, declare_body(h), stamp))


async def test_a_negative_timestamp_gets_401(harness: Harness) -> None:
    await refused_as_unsigned(harness, "-5", None)


@pytest.mark.parametrize("stamp", ["1.5", "now", "1700000000.0"])
async def test_a_fractional_timestamp_gets_401(harness: Harness, stamp: str) -> None:
    """``now`` is the current time with a fraction (ids stay the same for every worker)."""
    fractional = f"{time.time():.3f}" if stamp == "now" else stamp
    await refused_as_unsigned(harness, fractional, None)


@pytest.mark.parametrize("digits", [13, 4301, 8000])
async def test_an_absurdly_long_timestamp_gets_401(harness: Harness, digits: int) -> None:
    await refused_as_unsigned(harness, "9" * digits, None)


@pytest.mark.parametrize(
    "sig",
    [
        "",
        "v0=",
        "v1=" + "0" * 64,
        "0" * 64,
        "v0=" + "g" * 64,
        "v0=" + "0" * 63,
        "v0=" + "0" * 65,
        "v0=" + "A" * 64,
        "v0=" + "\u00e9" * 64,
        "v0=\u0661",
        "v0=" + "0" * 8000,
    ],
    ids=[
        "empty",
        "bare-prefix",
        "v1",
        "no-prefix",
        "not-hex",
        "short",
        "long",
        "upper-hex",
        "non-ascii",
        "arabic-digit",
        "absurdly-long",
    ],
)
async def test_a_signature_that_is_not_v0_and_64_hex_digits_gets_401(
    harness: Harness, sig: str
) -> None:
    await refused_as_unsigned(harness, None, sig)


@pytest.mark.parametrize("which", ["X-Slack-Request-Timestamp", "X-Slack-Signature"])
async def test_a_signing_header_with_non_ascii_bytes_gets_401(harness: Harness, which: str) -> None:
    h = harness
    body = declare_body(h)
    good = h.driver.sign(body)
    good[which] = good[which][:4]
    lines = [f"{k}: {v}".encode() for k, v in good.items() if k != which]
    for junk in (b"\xff\xfe", "\u0661\u0662".encode(), b"1700\xc3\x28"):
        status = await raw_http(
            h, body, [*lines, which.encode() + b": " + good[which].encode() + junk]
        )
        assert status == 401
    await nothing_happened(h)


async def test_a_body_that_is_not_utf8_gets_401(harness: Harness) -> None:
    """Slack sends UTF-8 and signs it; slack-sdk's verifier reads the body as UTF-8, so
    bytes that are not cannot carry a valid signature."""
    h = harness
    body = b"\xff\xfe garbage"
    reply = await h.driver.post_raw(body, {**FORM, **h.driver.sign(body)})
    assert reply.status == 401
    await nothing_happened(h)
