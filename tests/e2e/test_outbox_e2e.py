"""Nothing the user did is lost when Slack fails: parked calls go through once it recovers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from handlers.replies import view_metadata
from tests.e2e.test_updates_e2e import CLEAN, declare, open_composer, posts, text_input
from tests.support.harness import ALICE, MARIA, TEAM, Harness, start_harness, stop_harness
from tests.support.helpers import header_message, shown_text

QUICK_RETRY = {
    "customer_update_cadence": "SEV1=2s,SEV2=3s,SEV3=60s",
    "outbox_retry_seconds": 0.3,
}
ATTEMPTS = 3
"""slack-sdk tries a failing call three times (two retries) before we see the error."""


@pytest.fixture
async def quick(engine: AsyncEngine) -> AsyncIterator[Harness]:
    h = await start_harness(engine, **QUICK_RETRY)
    yield h
    await stop_harness(h)


async def stored_status(h: Harness, status: str) -> None:
    """Commands are applied after their ack: wait until this one is."""
    for _ in range(100):
        incident = await h.store.by_number(TEAM, 1)
        if incident is not None and incident.status == status:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the status never became {status}")


def told(h: Harness, url: str) -> str:
    return " ".join(json.dumps(r.body) for r in h.double.responses_for(url))


async def test_an_update_posted_while_slack_fails_arrives_once_slack_recovers(
    quick: Harness,
) -> None:
    h = quick
    channel = await declare(h, "SEV3")
    view = await open_composer(h, channel)
    url = str(view_metadata(view)["response_url"])
    outbox = h.runtime.services.updates.outbox
    await outbox.stop()  # hold the retries until the failure has been observed
    h.double.fail_next("chat.postMessage", http_status=500, times=2 * ATTEMPTS)

    reply = await h.driver.submit_view(view["id"], text_input(view, CLEAN), user_id=MARIA)
    assert reply.status == 200
    # slack-sdk backs off between its attempts, so being told takes a few seconds.
    await h.double.wait_for(lambda: "Slack is not answering" in told(h, url) or None, timeout=20)
    assert "customer update #1 in the incident channel" in told(h, url)
    assert "customer update #1 in the customer channel" in told(h, url)
    assert posts(h, channel, "Customer update #1") == []
    assert h.double.messages(h.customers) == []
    incident = await h.store.by_number(TEAM, 1)
    assert [u.text for u in await h.store.updates(incident.id)] == [CLEAN]
    assert await outbox.store.pending() == 2

    outbox.start()
    await h.double.wait_for(lambda: posts(h, channel, "Customer update #1"), timeout=10)
    await h.double.wait_for(lambda: h.double.messages(h.customers), timeout=10)
    assert len(posts(h, channel, "Customer update #1")) == 1
    assert [m["text"] for m in h.double.messages(h.customers)] == [CLEAN]
    for _ in range(50):
        if not await outbox.store.pending():
            break
        await asyncio.sleep(0.1)
    assert await outbox.store.pending() == 0


async def test_parked_header_edits_keep_only_the_newest_state(quick: Harness) -> None:
    h = quick
    channel = await declare(h, "SEV3")
    outbox = h.runtime.services.updates.outbox
    await outbox.stop()
    before = len(h.double.ok_calls_to("chat.update"))
    h.double.fail_next("chat.update", http_status=503, times=100)  # down until recover()
    for status in ("identified", "monitoring"):
        reply = await h.driver.command(
            "/incident", f"status {status}", user_id=ALICE, channel_id=channel
        )
        assert reply.status == 200
        await stored_status(h, status)
    await h.double.wait_for(
        lambda: len(h.double.calls_to("chat.update")) >= 2 * ATTEMPTS, timeout=20
    )
    await h.double.wait_for(
        lambda: len(h.double.responses_for(str(reply.response_url))) >= 1 or None, timeout=20
    )
    assert "Slack is not answering" in told(h, str(reply.response_url))
    assert "investigating" in shown_text(header_message(h, channel)["blocks"]).lower()
    assert await outbox.store.pending() == 1

    h.double.recover()
    outbox.start()
    await h.double.wait_for(
        lambda: "monitoring" in shown_text(header_message(h, channel)["blocks"]).lower(),
        timeout=10,
    )
    edits = h.double.ok_calls_to("chat.update")[before:]
    assert [c.args["channel"] for c in edits] == [channel], "one edit, with the newest state"
    assert "Monitoring" in str(edits[0].args["text"])


async def test_a_refusal_from_slack_is_not_parked_but_reported(quick: Harness) -> None:
    h = quick
    channel = await declare(h, "SEV3")
    h.double.fail_next("chat.update", error="message_not_found")
    reply = await h.driver.command(
        "/incident", "status identified", user_id=ALICE, channel_id=channel
    )
    await h.double.wait_for(
        lambda: h.double.responses_for(str(reply.response_url)) or None, timeout=20
    )
    assert "failed on my side" in told(h, str(reply.response_url))
    assert await h.runtime.services.updates.outbox.store.pending() == 0
