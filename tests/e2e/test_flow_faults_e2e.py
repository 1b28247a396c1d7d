"""Nothing is lost at the close, the declare, the reopen and the report when Slack fails
several times in a row at that moment: every post is parked and, once Slack answers
again, each one appears exactly once and in the order it was made.

slack-sdk tries a failing call three times (two retries) before Amends sees the error, so
``FAILS`` failures in a row outlast the first attempt and at least one retry of the outbox.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from messages import ids
from tests.support.customer_helpers import close_values, declare_with, opened_view
from tests.support.harness import ALICE, TEAM, Harness, start_harness, stop_harness
from tests.support.helpers import created_channel, eventually, said, shown_text, team_joins

ATTEMPTS = 3
FAILS = 2 * ATTEMPTS + 1
RATE_LIMITED = 4 + 1
"""One more 429 than slack-sdk's rate-limit handler absorbs (three retries)."""
FAULTY = {
    "customer_update_cadence": "SEV1=30m,SEV2=60m,SEV3=120m",
    "outbox_retry_seconds": 0.3,
    "reminder_sweep_seconds": 0.5,
    "reminder_lease_seconds": 2,
    "follow_up_reminder": "3s",
    "archive_on_close": True,
}
RESOLVED, CHECKLIST = "is resolved* by", "customers followed up"
FINAL, FOLLOW_UP_REMINDER = "Final customer update #1", "still need a follow-up"
CLOSED, REPORT, FILE = "the incident is closed", "Remediation report for", "file_share"


@pytest.fixture
async def faulty(engine: AsyncEngine) -> AsyncIterator[Harness]:
    h = await start_harness(engine, **FAULTY)
    yield h
    await stop_harness(h)


def bot_messages(h: Harness, channel: str) -> list[str]:
    """Every message in ``channel`` as one searchable string each, oldest first."""
    return [json.dumps(m, ensure_ascii=False) for m in h.double.messages(channel)]


def positions(h: Harness, channel: str, marker: str) -> list[int]:
    return [i for i, m in enumerate(bot_messages(h, channel)) if marker in m]


def assert_once_in_order(h: Harness, channel: str, *markers: str) -> None:
    """Each marker is in exactly one message, and those messages come in this order."""
    found = [positions(h, channel, marker) for marker in markers]
    assert all(len(p) == 1 for p in found), dict(zip(markers, found, strict=True))
    order = [p[0] for p in found]
    assert order == sorted(order), dict(zip(markers, order, strict=True))


async def all_delivered(h: Harness) -> None:
    outbox = h.runtime.services.updates.outbox

    async def nothing_parked() -> bool:
        return await outbox.store.pending() == 0

    await eventually(nothing_parked, timeout=30)


async def resolve_while_slack_fails(h: Harness, channel: str) -> str:
    """Submit the close form with chat.postMessage failing ``FAILS`` times; returns the
    id of the view, now the final-update composer."""
    before = len(h.double.ok_calls_to("views.open"))
    await h.driver.command("/incident", "close", user_id=ALICE, channel_id=channel)
    await h.double.wait_for(lambda: len(h.double.ok_calls_to("views.open")) > before)
    form = opened_view(h, ids.CLOSE_CALLBACK_ID)
    h.double.fail_next("chat.postMessage", http_status=500, times=FAILS)
    reply = await h.driver.submit_view(str(form["id"]), close_values(), user_id=ALICE)
    assert reply.json and reply.json["response_action"] == "update", reply.text
    return str(form["id"])


async def test_the_close_announcement_checklist_final_update_and_follow_up_survive_failures(
    faulty: Harness,
) -> None:
    h = faulty
    channel = await declare_with(h, "Acme")
    composer_id = await resolve_while_slack_fails(h, channel)
    outbox = h.runtime.services.updates.outbox

    async def both_parked() -> bool:
        return await outbox.store.pending() >= 2

    await eventually(both_parked, timeout=20)
    posted = await h.driver.submit_view(composer_id, {}, user_id=ALICE)
    assert posted.status == 200

    await h.double.wait_for(lambda: positions(h, channel, FOLLOW_UP_REMINDER), timeout=30)
    await all_delivered(h)
    # The final update waits for a person to submit it, so the follow-up reminder may come
    # before or after it; each must come after the checklist it points at.
    assert_once_in_order(h, channel, RESOLVED, CHECKLIST, FINAL)
    assert_once_in_order(h, channel, RESOLVED, CHECKLIST, FOLLOW_UP_REMINDER)
    assert len(h.double.messages(h.customers)) == 1, "the customers hear the final update once"
    incident = await h.store.by_number(TEAM, 1)
    assert incident is not None and incident.status == "resolved"


async def test_a_resolve_keeps_its_follow_up_reminder_although_nothing_reached_slack(
    faulty: Harness,
) -> None:
    h = faulty
    channel = await declare_with(h, "Acme")
    await h.runtime.services.updates.outbox.stop()  # Slack stays away as far as we know
    await resolve_while_slack_fails(h, channel)
    incident = await h.store.by_number(TEAM, 1)
    assert incident is not None and incident.status == "resolved"
    follow_up = await h.runtime.services.reminders.get(incident.id, "follow_up")
    assert follow_up is not None and follow_up.state in ("pending", "claimed")
    assert positions(h, channel, RESOLVED) == [] and positions(h, channel, CHECKLIST) == []


async def test_a_close_without_customers_reports_then_archives_in_order_despite_failures(
    faulty: Harness,
) -> None:
    h = faulty
    channel = await declare_with(h)
    await resolve_while_slack_fails(h, channel)

    await h.double.wait_for(lambda: h.double.channel(channel)["is_archived"], timeout=30)  # type: ignore[index]
    await all_delivered(h)
    assert_once_in_order(h, channel, RESOLVED, CLOSED, REPORT, FILE)
    assert len(h.double.ok_calls_to("conversations.archive")) == 1


async def test_a_header_parked_at_the_declare_is_posted_recorded_and_pinned_once(
    faulty: Harness,
) -> None:
    h = faulty
    h.double.fail_next("chat.postMessage", http_status=500, times=FAILS)
    reply = await h.driver.command(
        "/incident", "declare Checkout down", user_id=ALICE, channel_id=h.general
    )
    assert reply.status == 200
    assert "incident header" in await h.double.wait_for(
        lambda: next((t for t in _told(h, reply) if "Slack is not answering" in t), None),
        timeout=20,
    )
    channel = str(created_channel(h)["id"])
    team_joins(h, channel)
    await h.double.wait_for(lambda: h.double.ok_calls_to("pins.add"), timeout=30)
    await all_delivered(h)

    headers = [m for m in h.double.messages(channel) if "INC-1 · SEV" in str(m.get("text"))]
    assert len(headers) == 1
    pinned = [p["ts"] if isinstance(p, dict) else p for p in h.double.pins(channel)]
    assert pinned == [headers[0]["ts"]]
    assert len(h.double.ok_calls_to("pins.add")) == 1
    incident = await h.store.by_number(TEAM, 1)
    assert incident is not None and incident.header_ts == headers[0]["ts"]


async def test_a_parked_header_shows_what_changed_while_it_waited(faulty: Harness) -> None:
    h = faulty
    outbox = h.runtime.services.updates.outbox
    await outbox.stop()
    h.double.fail_next("chat.postMessage", http_status=500, times=ATTEMPTS)
    await h.driver.command(
        "/incident", "declare Checkout down", user_id=ALICE, channel_id=h.general
    )

    async def header_parked() -> bool:
        return await outbox.store.pending() >= 1

    await eventually(header_parked, timeout=20)
    channel = str(created_channel(h)["id"])
    team_joins(h, channel)
    changed = await h.driver.command(
        "/incident", "status identified", user_id=ALICE, channel_id=channel
    )
    assert changed.status == 200

    async def identified() -> bool:
        incident = await h.store.by_number(TEAM, 1)
        return incident is not None and incident.status == "identified"

    await eventually(identified)
    outbox.start()
    await h.double.wait_for(lambda: h.double.ok_calls_to("pins.add"), timeout=20)
    await all_delivered(h)
    header = next(m for m in h.double.messages(channel) if "INC-1 · SEV" in str(m.get("text")))
    assert "dentified" in shown_text(header["blocks"])
    assert positions(h, channel, "INC-1 · SEV") == [0], "the header comes before the note"


async def test_a_reopen_while_slack_fails_unarchives_then_posts_its_note_once(
    faulty: Harness,
) -> None:
    h = faulty
    channel = await declare_with(h)
    await resolve_while_slack_fails(h, channel)
    await h.double.wait_for(lambda: h.double.channel(channel)["is_archived"], timeout=30)  # type: ignore[index]
    await all_delivered(h)

    h.double.fail_next("conversations.unarchive", http_status=503, times=FAILS)
    reply = await h.driver.command(
        "/incident", "reopen INC-1 errors are back", user_id=ALICE, channel_id=h.general
    )
    assert reply.status == 200
    await h.double.wait_for(lambda: positions(h, channel, "reopened INC-1"), timeout=30)
    await all_delivered(h)
    assert not h.double.channel(channel)["is_archived"]  # type: ignore[index]
    assert len(h.double.ok_calls_to("conversations.unarchive")) == 1
    assert_once_in_order(h, channel, RESOLVED, CLOSED, REPORT, FILE, "reopened INC-1")
    incident = await h.store.by_number(TEAM, 1)
    assert incident is not None and incident.status == "investigating"


async def test_a_report_asked_for_while_slack_fails_is_posted_then_attached_once(
    faulty: Harness,
) -> None:
    h = faulty
    channel = await declare_with(h, "Acme")
    await resolve_while_slack_fails(h, channel)
    await h.double.wait_for(lambda: positions(h, channel, FOLLOW_UP_REMINDER), timeout=30)
    await all_delivered(h)

    h.double.fail_next("chat.postMessage", http_status=500, times=FAILS)
    reply = await h.driver.command("/incident", "report", user_id=ALICE, channel_id=channel)
    assert "the remediation report" in await said(h, reply)
    await h.double.wait_for(lambda: positions(h, channel, FILE), timeout=30)
    await all_delivered(h)
    assert_once_in_order(h, channel, RESOLVED, CHECKLIST, REPORT, FILE)
    assert len(h.double.files()) == 1


def _told(h: Harness, reply: Any) -> list[str]:
    return [
        json.dumps(r.body, ensure_ascii=False) for r in h.double.responses_for(reply.response_url)
    ]


async def test_a_parked_post_waits_for_the_older_one_of_its_incident_in_the_retry_loop(
    faulty: Harness,
) -> None:
    """The retry loop does not even try the checklist while the announcement parked
    before it is undelivered, so Slack answering again in between cannot swap them."""
    h = faulty
    channel = await declare_with(h, "Acme")
    outbox = h.runtime.services.updates.outbox
    await outbox.stop()  # the test runs the retry loop by hand
    h.double.fail_next("chat.postMessage", http_status=500, times=100)  # down until recover()
    before = len(h.double.ok_calls_to("views.open"))
    await h.driver.command("/incident", "close", user_id=ALICE, channel_id=channel)
    await h.double.wait_for(lambda: len(h.double.ok_calls_to("views.open")) > before)
    form = opened_view(h, ids.CLOSE_CALLBACK_ID)
    await h.driver.submit_view(str(form["id"]), close_values(), user_id=ALICE)

    async def both_parked() -> bool:
        return await outbox.store.pending() >= 2

    await eventually(both_parked, timeout=20)
    assert await outbox.flush() == 0
    tried = [str(c.args.get("text")) for c in h.double.calls_to("chat.postMessage")]
    assert not any(CHECKLIST in text for text in tried), "the checklist was tried first"

    h.double.recover()

    async def flushed() -> bool:
        await outbox.flush()
        return await outbox.store.pending() == 0

    await eventually(flushed, timeout=20)
    assert_once_in_order(h, channel, RESOLVED, CHECKLIST)


async def test_a_header_rate_limited_at_the_declare_is_posted_and_pinned_once_allowed(
    faulty: Harness,
) -> None:
    """429 with Retry-After: slack-sdk waits and retries four times in all, then the
    header is parked and goes out, recorded and pinned, once Slack lets it through."""
    h = faulty
    h.double.fail_next("chat.postMessage", retry_after=1, times=RATE_LIMITED)
    reply = await h.driver.command(
        "/incident", "declare Checkout down", user_id=ALICE, channel_id=h.general
    )
    assert "incident header" in await h.double.wait_for(
        lambda: next((t for t in _told(h, reply) if "Slack is not answering" in t), None),
        timeout=20,
    )
    await h.double.wait_for(lambda: h.double.ok_calls_to("pins.add"), timeout=40)
    await all_delivered(h)
    channel = str(created_channel(h)["id"])
    headers = [m for m in h.double.messages(channel) if "INC-1 · SEV" in str(m.get("text"))]
    assert len(headers) == 1
    assert len(h.double.ok_calls_to("pins.add")) == 1
    incident = await h.store.by_number(TEAM, 1)
    assert incident is not None and incident.header_ts == headers[0]["ts"]


REMINDER = "a customer update for"


async def test_dropped_connections_at_the_close_lose_neither_the_checklist_nor_the_reminder_edit(
    engine: AsyncEngine,
) -> None:
    """The network gives way (no answer at all) while the close marks the open reminder
    handled and posts the checklist: both are parked, and each arrives once."""
    h = await start_harness(
        engine, **{**FAULTY, "customer_update_cadence": "SEV2=1s", "reminder_grace": "1h"}
    )
    try:
        channel = await declare_with(h, "Acme")
        await h.double.wait_for(lambda: positions(h, channel, REMINDER), timeout=10)
        h.double.fail_next("chat.update", drop=True, times=FAILS)
        h.double.fail_next("chat.postMessage", drop=True, times=FAILS)
        form_before = len(h.double.ok_calls_to("views.open"))
        await h.driver.command("/incident", "close", user_id=ALICE, channel_id=channel)
        await h.double.wait_for(lambda: len(h.double.ok_calls_to("views.open")) > form_before)
        form = opened_view(h, ids.CLOSE_CALLBACK_ID)
        reply = await h.driver.submit_view(str(form["id"]), close_values(), user_id=ALICE)
        assert reply.status == 200

        await h.double.wait_for(lambda: positions(h, channel, CHECKLIST), timeout=30)
        await all_delivered(h)
        assert_once_in_order(h, channel, RESOLVED, CHECKLIST)
        retired = [m for m in bot_messages(h, channel) if "the incident is resolved." in m]
        assert len(retired) == 1, "the reminder message is marked handled once"
    finally:
        await stop_harness(h)


async def test_the_follow_up_reminder_waits_for_a_close_flow_that_slack_is_slow_to_answer(
    faulty: Harness,
) -> None:
    """Each post of the close takes effect at once but is answered 4 s late, so the follow-up
    reminder falls due (3 s) between the announcement and the checklist; it must wait."""
    h = faulty
    channel = await declare_with(h, "Acme")
    h.double.slow_down("chat.postMessage", 4, channel=channel)
    await h.driver.command("/incident", "close", user_id=ALICE, channel_id=channel)
    await h.double.wait_for(lambda: h.double.ok_calls_to("views.open"))
    form = opened_view(h, ids.CLOSE_CALLBACK_ID)
    await h.driver.submit_view(str(form["id"]), close_values(), user_id=ALICE)

    await h.double.wait_for(lambda: positions(h, channel, FOLLOW_UP_REMINDER), timeout=30)
    assert_once_in_order(h, channel, RESOLVED, CHECKLIST, FOLLOW_UP_REMINDER)
