"""Declaring incidents end to end: signed slash commands and modals over real HTTP."""

from __future__ import annotations

import asyncio
import re

from bot.incidents.channel_names import VALID_CHANNEL_NAME
from messages import ids, refusals
from tests.support.customer_helpers import stored_customers
from tests.support.harness import ALICE, BOB, Harness
from tests.support.helpers import (
    block_text,
    created_channel,
    ephemeral_texts,
    header_message,
    incident_channels,
    reply_text,
)


async def declare(h: Harness, title: str, user: str = ALICE) -> dict:
    reply = await h.driver.command(
        "/incident", f"declare {title}", user_id=user, channel_id=h.general
    )
    assert reply.status == 200
    await h.double.wait_for(
        lambda: (
            any("is open in" in t for t in ephemeral_texts(h, reply.response_url))
            or any(
                "refused" in t or "could not" in t for t in ephemeral_texts(h, reply.response_url)
            )
        )
    )
    return {"reply": reply}


async def test_quick_declare_opens_a_live_incident_channel(harness: Harness) -> None:
    h = harness
    reply = await h.driver.command(
        "/incident", "declare Checkout fails for EU cards", user_id=ALICE, channel_id=h.general
    )
    assert reply.status == 200
    assert "Declaring" in reply_text(reply)
    texts = await h.double.wait_for(
        lambda: [t for t in ephemeral_texts(h, reply.response_url) if "is open in" in t]
    )
    channel = created_channel(h)
    assert channel["name"] == "inc-1-checkout-fails-for-eu-cards"
    assert f"<#{channel['id']}" in texts[0]
    assert ALICE in h.double.members(channel["id"])
    topic = h.double.topic(channel["id"])
    assert "SEV2" in topic and "Checkout fails" in topic and len(topic) <= 250
    header = header_message(h, channel["id"])
    shown = block_text(header["blocks"])
    for expected in ("INC-1", "Checkout fails for EU cards", "SEV2", "nvestigating", f"<@{ALICE}>"):
        assert expected in shown
    announcement = await h.double.wait_for(lambda: h.double.messages(h.broadcast))
    assert f"<#{channel['id']}>" in announcement[0]["text"] + block_text(
        announcement[0].get("blocks") or []
    )
    incident = await h.store.by_number("T0AMENDS", 1)
    assert incident is not None and incident.channel_id == channel["id"]
    kinds = [e.kind for e in await h.store.timeline(incident.id)]
    assert kinds[0] == "declared"


async def test_numbers_count_up_per_workspace(harness: Harness) -> None:
    h = harness
    await declare(h, "First")
    await declare(h, "Second")
    names = [c.response["channel"]["name"] for c in incident_channels(h)]
    assert names == ["inc-1-first", "inc-2-second"]


async def test_titles_in_other_scripts_give_readable_valid_names(harness: Harness) -> None:
    h = harness
    for title in ("Оплата не проходит", "Platba selhává", "支付失败", "🔥🔥🔥"):
        await declare(h, title)
    names = [c.response["channel"]["name"] for c in incident_channels(h)]
    assert names[0] == "inc-1-oplata-ne-prokhodit"
    assert names[1] == "inc-2-platba-selhava"
    assert all(VALID_CHANNEL_NAME.match(n) for n in names)
    assert names[3].startswith("inc-4")


async def test_name_taken_tries_the_next_name(harness: Harness) -> None:
    h = harness
    h.double.add_channel("inc-1-db-down")
    h.double.add_channel("inc-1-db-down-2")
    await declare(h, "DB down")
    assert created_channel(h)["name"] == "inc-1-db-down-3"
    refused = [c for c in h.double.calls_to("conversations.create") if not c.response.get("ok")]
    assert [c.response["error"] for c in refused] == ["name_taken", "name_taken"]


async def test_refused_channel_leaves_nothing_behind(harness: Harness) -> None:
    h = harness
    h.double.fail_next("conversations.create", error="restricted_action")
    reply = await h.driver.command(
        "/incident", "declare Payments down", user_id=ALICE, channel_id=h.general
    )
    texts = await h.double.wait_for(lambda: ephemeral_texts(h, reply.response_url))
    assert "restricted_action" in texts[0] and "no incident was opened" in texts[0]
    assert await h.store.by_number("T0AMENDS", 1) is None
    assert h.double.messages(h.broadcast) == []
    await declare(h, "Payments down")
    assert created_channel(h)["name"] == "inc-1-payments-down"


async def test_title_problems_are_answered_in_the_ack(harness: Harness) -> None:
    h = harness
    long_title = "x" * 151
    for text, expected in (
        ("declare", refusals.title_missing()),
        ("declare    ", refusals.title_missing()),
        (f"declare {long_title}", refusals.title_too_long(151, 150)),
    ):
        reply = await h.driver.command("/incident", text, user_id=ALICE, channel_id=h.general)
        assert reply.status == 200
        assert expected in reply_text(reply)
    await asyncio.sleep(0.1)
    assert h.double.calls_to("conversations.create") == []


async def test_declare_modal_collects_the_whole_picture(harness: Harness) -> None:
    h = harness
    reply = await h.driver.command("/incident", "", user_id=BOB, channel_id=h.general)
    assert reply.status == 200
    opened = await h.double.wait_for(lambda: h.double.calls_to("views.open"))
    assert opened[0].response["ok"], opened[0].response
    view_id = opened[0].response["view"]["id"]
    view = h.double.views[view_id]
    assert view["callback_id"] == ids.DECLARE_CALLBACK_ID
    submit = await h.driver.submit_view(
        view_id,
        values=modal_values(
            view,
            title="Login is slow",
            severity="SEV1",
            description="p99 is 9s",
            impact="yes",
            impact_text="Customers cannot sign in",
            customers="Acme\nGlobex Corp, Initech\nacme",
        ),
        user_id=BOB,
    )
    assert submit.status == 200
    texts = await h.double.wait_for(
        lambda: [t for t in ephemeral_texts(h, reply.response_url) if "is open in" in t]
    )
    assert texts
    channel = created_channel(h)
    assert channel["name"] == "inc-1-login-is-slow"
    shown = block_text(header_message(h, channel["id"])["blocks"])
    for expected in ("SEV1", "Customers cannot sign in", "Acme", "Globex Corp", "Initech"):
        assert expected in shown
    incident = await h.store.by_number("T0AMENDS", 1)
    assert incident is not None
    assert [c.name for c in await stored_customers(h)] == ["Acme", "Globex Corp", "Initech"]
    assert incident.customer_impact is True and incident.reporter_id == BOB


async def test_declare_modal_errors_show_inside_the_modal(harness: Harness) -> None:
    h = harness
    await h.driver.command("/incident", "", user_id=BOB, channel_id=h.general)
    opened = await h.double.wait_for(lambda: h.double.calls_to("views.open"))
    view_id = opened[0].response["view"]["id"]
    view = h.double.views[view_id]
    submit = await h.driver.submit_view(
        view_id, values=modal_values(view, title="   ", customers="y" * 201), user_id=BOB
    )
    assert submit.status == 200
    assert submit.json["response_action"] == "errors"
    errors = submit.json["errors"]
    assert set(errors) == {block_id_of(view, "title"), block_id_of(view, "affected")}
    assert all(len(message) <= 150 for message in errors.values())
    await asyncio.sleep(0.1)
    assert h.double.calls_to("conversations.create") == []


async def test_an_expired_trigger_is_explained(harness: Harness) -> None:
    h = harness
    h.double.trigger_ttl = 0.0
    reply = await h.driver.command("/incident", "", user_id=BOB, channel_id=h.general)
    texts = await h.double.wait_for(lambda: ephemeral_texts(h, reply.response_url))
    assert "3 seconds" in texts[0] and "/incident declare" in texts[0]
    assert h.double.calls_to("views.open")[0].response["error"] == "expired_trigger_id"


async def test_twenty_concurrent_declares_get_distinct_numbers(harness: Harness) -> None:
    h = harness
    replies = await asyncio.gather(
        *(
            h.driver.command(
                "/incident", f"declare Outage {i}", user_id=ALICE, channel_id=h.general
            )
            for i in range(20)
        )
    )
    assert all(r.status == 200 for r in replies)
    await h.double.wait_for(lambda: len(h.double.ok_calls_to("pins.add")) == 20, timeout=30)
    names = sorted(c.response["channel"]["name"] for c in incident_channels(h))
    numbers = sorted(int(re.match(r"inc-(\d+)-", n).group(1)) for n in names)  # type: ignore[union-attr]
    assert numbers == list(range(1, 21))


def modal_values(view: dict, **values: str) -> dict[str, dict[str, str]]:
    """Fill the modal's inputs by label, as a person would, keyed the way Slack sends them."""
    labels = {
        "title": "title",
        "severity": "severity",
        "what is broken": "description",
        "are customers affected": "impact",
        "customer impact": "impact_text",
        "affected customers": "customers",
    }
    filled: dict[str, dict[str, str]] = {}
    for block in view["blocks"]:
        if block.get("type") != "input":
            continue
        label = block["label"]["text"].lower().rstrip("?")
        key = next((k for prefix, k in labels.items() if label.startswith(prefix)), None)
        if key in values:
            filled[block["block_id"]] = {block["element"]["action_id"]: values[key]}
    assert len(filled) == len(values), f"inputs not found in the modal: {values.keys()}"
    return filled


def block_id_of(view: dict, label_start: str) -> str:
    return next(
        b["block_id"]
        for b in view["blocks"]
        if b.get("type") == "input" and b["label"]["text"].lower().startswith(label_start)
    )


async def test_declare_survives_rate_limits_and_server_errors(harness: Harness) -> None:
    """slack-sdk's retry handlers ride out a 429 (honouring Retry-After) and a 503."""
    h = harness
    h.double.fail_next("conversations.create", retry_after=1)
    h.double.fail_next("chat.postMessage", http_status=503)
    reply = await h.driver.command(
        "/incident", "declare Flaky Slack", user_id=ALICE, channel_id=h.general
    )
    texts = await h.double.wait_for(
        lambda: [t for t in ephemeral_texts(h, reply.response_url) if "is open in" in t],
        timeout=10,
    )
    assert texts
    statuses = [c.http_status for c in h.double.calls_to("conversations.create")]
    assert statuses == [429, 200]
    assert [c.http_status for c in h.double.calls_to("chat.postMessage")][:2] == [503, 200]
    channel = created_channel(h)["id"]
    assert len([m for m in h.double.messages(channel) if m.get("blocks")]) == 1
    assert h.double.pins(channel)


async def test_a_refused_header_is_reported_but_the_incident_stands(harness: Harness) -> None:
    h = harness
    h.double.fail_next("pins.add", error="too_many_pins")
    reply = await h.driver.command(
        "/incident", "declare Pins full", user_id=ALICE, channel_id=h.general
    )
    texts = await h.double.wait_for(
        lambda: [t for t in ephemeral_texts(h, reply.response_url) if "is open in" in t]
    )
    assert "could not pin the header" in texts[0] and "too_many_pins" in texts[0]
    assert await h.store.by_number("T0AMENDS", 1) is not None
