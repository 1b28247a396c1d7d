"""A reminder is delivered once even when Slack answers slower than the lease.

The Slack double applies each call at once and answers late (``slow_down``), as a slow
Slack does: the message is in the channel while its poster still waits. Leases are short
here (seconds), so "slower than the lease" is real, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.incidents.reminder_delivery import reminder_metadata
from bot.runtime.process import Runtime
from storage.models import Reminder, utcnow
from storage.reminders import CLAIMED
from tests.support.harness import (
    ALICE,
    BOB,
    TEAM,
    Harness,
    make_settings,
    start_harness,
    stop_harness,
)
from tests.support.helpers import completion, created_channel, team_joins

SLOW_SLACK = 2.0
"""How late Slack answers the calls that are slowed down, in seconds."""
SHORT_LEASE = {
    "customer_update_cadence": "SEV1=2s,SEV2=2s,SEV3=2s",
    "reminder_grace": "1h",
    "reminder_sweep_seconds": 0.2,
    "reminder_lease_seconds": 0.6,
}
"""A lease far shorter than Slack's answers: only the heartbeat can keep a claim alive."""
LONG_LEASE = {**SHORT_LEASE, "reminder_lease_seconds": 60}
"""A lease the heartbeat never needs to renew: the tests run it out on purpose."""
QUIET_LEASE = {**SHORT_LEASE, "customer_update_cadence": "SEV1=1h,SEV2=1h,SEV3=1h"}


@pytest.fixture
async def short_lease(engine: AsyncEngine) -> AsyncIterator[Harness]:
    h = await start_harness(engine, **SHORT_LEASE)
    yield h
    await stop_harness(h)


@pytest.fixture
async def quiet_lease(engine: AsyncEngine) -> AsyncIterator[Harness]:
    """A short lease, and no reminder falls due unless the test schedules it."""
    h = await start_harness(engine, **QUIET_LEASE)
    yield h
    await stop_harness(h)


@pytest.fixture
async def long_lease(engine: AsyncEngine) -> AsyncIterator[Harness]:
    h = await start_harness(engine, **LONG_LEASE)
    yield h
    await stop_harness(h)


async def declare(h: Harness) -> str:
    await h.driver.command(
        "/incident", "declare Checkout down", user_id=ALICE, channel_id=h.general
    )
    await h.double.wait_for(lambda: h.double.ok_calls_to("pins.add"))
    channel = str(created_channel(h)["id"])
    team_joins(h, channel)
    return channel


def posted(h: Harness, channel: str, marker: str) -> list[str]:
    """The ts of every reminder message (text has ``marker``) the bot posted to ``channel``."""
    return [
        str(c.response["ts"])
        for c in h.double.ok_calls_to("chat.postMessage")
        if c.args.get("channel") == channel and marker in str(c.args.get("text"))
    ]


def has_buttons(h: Harness, channel: str, ts: str) -> bool:
    message = next(m for m in h.double.messages(channel) if m["ts"] == ts)
    return any(b["type"] == "actions" for b in message.get("blocks") or [])


def edits_of(h: Harness, ts: str) -> list[str]:
    return [json.dumps(c.args) for c in h.double.ok_calls_to("chat.update") if c.args["ts"] == ts]


def claims(runtime: Runtime) -> float:
    """How many claims this replica took (``amends_reminders_due``)."""
    value = runtime.metrics.registry.get_sample_value("amends_reminders_due_total")
    return float(value or 0)


async def row_of(h: Harness) -> Reminder:
    incident = await h.store.by_number(TEAM, 1)
    assert incident is not None
    row = await h.runtime.services.reminders.get(incident.id)
    assert row is not None
    return row


async def delivered(h: Harness, stage: str) -> Reminder:
    """Wait until the reminder row moved on to ``stage`` (the delivery completed)."""
    for _ in range(200):
        row = await row_of(h)
        if row.stage == stage and row.state != CLAIMED:
            return row
        await asyncio.sleep(0.05)
    raise AssertionError(f"the reminder never reached {stage}: {await row_of(h)}")


async def run_out_the_lease(engine: AsyncEngine) -> None:
    """The lease of the claimed row ends now, as when its heartbeat cannot reach the database."""
    async with engine.begin() as connection:
        await connection.execute(
            update(Reminder)
            .where(Reminder.state == CLAIMED)
            .values(lease_until=utcnow() - timedelta(seconds=1))
        )


async def test_a_reminder_is_posted_once_with_its_buttons_when_slack_is_slower_than_the_lease(
    short_lease: Harness,
) -> None:
    h = short_lease
    channel = await declare(h)
    h.double.slow_down("chat.postMessage", SLOW_SLACK, channel=channel)
    await delivered(h, "escalate")
    await asyncio.sleep(0.5)
    [ts] = posted(h, channel, "is due")
    assert has_buttons(h, channel, ts), "the live reminder kept its buttons"
    assert edits_of(h, ts) == [], "nobody acted, so nothing took the reminder back"
    assert claims(h.runtime) == 1, "claimed once, however long Slack took"


async def test_a_second_replica_does_not_claim_a_row_whose_delivery_is_in_flight(
    engine: AsyncEngine,
) -> None:
    h = await start_harness(engine, **SHORT_LEASE)
    other = await Runtime.start(make_settings(h.double.api_url, **SHORT_LEASE), engine)
    try:
        channel = await declare(h)
        h.double.slow_down("chat.postMessage", SLOW_SLACK, channel=channel)
        await delivered(h, "escalate")
        await asyncio.sleep(0.5)
        [ts] = posted(h, channel, "is due")
        assert has_buttons(h, channel, ts) and edits_of(h, ts) == []
        assert claims(h.runtime) + claims(other) == 1, "the other replica never took it over"
        assert h.double.calls_to("conversations.history") == [], "nobody had to look for it"
    finally:
        await other.stop()
        await stop_harness(h)


async def test_a_row_in_flight_is_not_claimed_again_by_its_process_when_its_lease_ran_out(
    long_lease: Harness,
) -> None:
    h = long_lease
    channel = await declare(h)
    h.double.slow_down("chat.postMessage", SLOW_SLACK, channel=channel)
    await h.double.wait_for(lambda: posted(h, channel, "is due"), timeout=6)
    await run_out_the_lease(h.runtime.engine)
    assert await h.runtime.services.engine.tick() == 0, "its own delivery is not claimed again"
    await delivered(h, "escalate")
    [ts] = posted(h, channel, "is due")
    assert has_buttons(h, channel, ts) and edits_of(h, ts) == []
    assert claims(h.runtime) == 1


async def test_a_claim_taken_over_under_a_slow_delivery_leaves_no_visible_trace(
    long_lease: Harness,
) -> None:
    """Another claim takes the row while Slack is still answering the first one (with the
    same worker name, so only the claim token tells the two apart): the first one, once
    Slack answers, neither edits the message nor writes to the row."""
    h = long_lease
    store = h.runtime.services.reminders
    channel = await declare(h)
    h.double.slow_down("chat.postMessage", SLOW_SLACK, channel=channel)
    [ts] = await h.double.wait_for(lambda: posted(h, channel, "is due"), timeout=6)
    await run_out_the_lease(h.runtime.engine)
    worker = h.runtime.services.engine.worker
    [winner] = await store.claim_due(utcnow(), worker, timedelta(minutes=1), 10)
    await asyncio.sleep(SLOW_SLACK + 0.5)
    assert edits_of(h, ts) == [] and has_buttons(h, channel, ts), "the message was left alone"
    row = await row_of(h)
    assert (row.claim_token, row.seq, row.stage) == (winner.claim_token, winner.seq, "due")
    assert row.posted_ts is None, "the lost claim recorded nothing"
    assert await store.complete_many([completion(winner, (channel, ts))]) == [True], (
        "the winner completes the row"
    )
    assert posted(h, channel, "is due") == [ts]


async def test_a_claim_taken_over_before_it_posts_posts_nothing(long_lease: Harness) -> None:
    """A claim is taken over while it is still searching the history (Slack slow to
    answer): it finds nothing, and posts nothing either, for the row is no longer its own."""
    h = long_lease
    store = h.runtime.services.reminders
    channel = await declare(h)
    row = await row_of(h)
    await store.schedule(row.incident_id, TEAM, utcnow())
    await store.claim_due(utcnow(), "crashed-replica", timedelta(seconds=0.5), 10)
    h.double.slow_down("conversations.history", SLOW_SLACK)
    await h.double.wait_for(lambda: h.double.calls_to("conversations.history"), timeout=20)
    await run_out_the_lease(h.runtime.engine)
    [winner] = await store.claim_due(utcnow(), "other-replica", timedelta(minutes=1), 10)
    await asyncio.sleep(SLOW_SLACK + 0.5)
    assert posted(h, channel, "is due") == [], "the claim that lost the row posted nothing"
    assert (await row_of(h)).claim_token == winner.claim_token


async def test_someone_acting_during_a_slow_delivery_takes_the_reminder_back(
    long_lease: Harness,
) -> None:
    """The other way a claim fails: it still holds its token, but the reminder was paused
    meanwhile, so the message it posted is its own to take back."""
    h = long_lease
    channel = await declare(h)
    h.double.slow_down("chat.postMessage", SLOW_SLACK, channel=channel)
    [ts] = await h.double.wait_for(lambda: posted(h, channel, "is due"), timeout=6)
    await h.driver.command("/incident", "pause", user_id=ALICE, channel_id=channel)
    edits = await h.double.wait_for(lambda: edits_of(h, ts), timeout=SLOW_SLACK + 3)
    assert "handled meanwhile" in edits[0]
    assert not has_buttons(h, channel, ts)
    row = await row_of(h)
    assert row.state == "paused" and row.claim_token is None


async def test_the_escalation_dm_is_sent_once_when_another_replica_takes_the_row_over(
    engine: AsyncEngine,
) -> None:
    settings = {**LONG_LEASE, "reminder_grace": "1s"}
    h = await start_harness(engine, **settings)
    other = await Runtime.start(make_settings(h.double.api_url, **settings), engine)
    try:
        channel = await declare(h)
        h.double.slow_down("chat.postMessage", SLOW_SLACK, channel=ALICE)
        await h.double.wait_for(lambda: h.double.dm_messages(ALICE), timeout=8)
        holder = (await row_of(h)).claimed_by
        replicas = {
            h.runtime.services.engine.worker: other,
            other.services.engine.worker: h.runtime,
        }
        taker = replicas[str(holder)]
        await run_out_the_lease(engine)
        assert await taker.services.engine.tick() == 1, "the other replica took it over"
        await delivered(h, "due")
        await asyncio.sleep(SLOW_SLACK + 0.5)
        assert len(h.double.dm_messages(ALICE)) == 1, "the owner was DMed once"
        [ts] = posted(h, channel, "overdue")
        assert has_buttons(h, channel, ts) and edits_of(h, ts) == []
    finally:
        await other.stop()
        await stop_harness(h)


async def test_a_reminder_posted_before_a_crash_is_found_behind_more_than_200_messages(
    quiet_lease: Harness,
) -> None:
    """A replica posted the reminder and died before recording it; the channel then got
    busy. The next claim pages through the history and adopts it instead of posting again."""
    h = quiet_lease
    channel = await declare(h)
    row = await row_of(h)
    store = h.runtime.services.reminders
    ours = h.runtime.services.engine
    ours.stop()  # the "crashed" replica claims it, not ours
    await ours.drain()
    await store.schedule(row.incident_id, TEAM, utcnow())
    [crashed] = await store.claim_due(utcnow(), "crashed-replica", timedelta(seconds=1), 10)
    ours.start()
    await h.runtime.app.client.chat_postMessage(
        channel=channel,
        text=f"<@{ALICE}>, a customer update for INC-1 is due.",
        metadata=reminder_metadata(crashed),
    )
    for i in range(250):
        h.double.add_message(channel, f"investigating, step {i}", user_id=BOB)
    row = await delivered(h, "escalate")
    assert row.seq == crashed.seq + 1
    assert len(posted(h, channel, "is due")) == 1, "adopted, not posted again"
    pages = h.double.ok_calls_to("conversations.history")
    assert len(pages) >= 2 and pages[-1].args.get("cursor"), "it took more than one page"
