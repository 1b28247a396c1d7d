"""A burst of due reminders keeps Slack busy without flooding it.

Every Slack call of a reminder delivery holds one of ``DELIVERY_CONCURRENCY`` slots while
it is in flight; the database steps between a delivery's calls hold none. Slack (the
double) answers each post ``ANSWER_SECONDS`` late here, so the calls in flight at any
moment are the posts the double received in the last ``ANSWER_SECONDS``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.incidents.reminder_delivery import DELIVERY_CONCURRENCY
from bot.sandbox.double.records import RecordedCall
from storage.models import Status, utcnow
from storage.repository import NewIncident
from tests.support.harness import ALICE, TEAM, Harness, start_harness, stop_harness

DUE = 3 * DELIVERY_CONCURRENCY
ANSWER_SECONDS = 0.4


@pytest.fixture
async def quiet(engine: AsyncEngine) -> AsyncIterator[Harness]:
    """No reminder falls due unless the test schedules it."""
    h = await start_harness(
        engine, customer_update_cadence="SEV1=1h,SEV2=1h,SEV3=1h", reminder_grace="1h"
    )
    yield h
    await stop_harness(h)


async def reminders_due_at_once(h: Harness, n: int) -> list[str]:
    """``n`` open incidents, each with its channel and a reminder due now."""
    services = h.runtime.services
    channels = []
    for i in range(n):
        channel = h.double.add_channel(f"inc-burst-{i}", bot_member=True)["id"]
        incident = await services.store.create_pending(
            NewIncident(
                team_id=TEAM,
                title=f"Outage {i}",
                severity="SEV2",
                status=Status.INVESTIGATING,
                reporter_id=ALICE,
            )
        )
        await services.store.attach_channel(incident.id, channel, f"inc-burst-{i}")
        await services.reminders.schedule(incident.id, TEAM, utcnow() - timedelta(seconds=1))
        channels.append(channel)
    services.engine.wake_at(utcnow())
    return channels


def most_in_flight(calls: list[RecordedCall], answered_after: float) -> int:
    """The most calls received within any stretch shorter than their answer time: calls
    that were all in flight at once."""
    times = sorted(call.at for call in calls)
    window = answered_after * 0.9
    return max((sum(1 for t in times if start <= t < start + window) for start in times), default=0)


async def test_a_burst_keeps_at_most_the_delivery_slots_of_slack_calls_in_flight(
    quiet: Harness,
) -> None:
    h = quiet
    h.double.slow_down("chat.postMessage", ANSWER_SECONDS)
    channels = set(await reminders_due_at_once(h, DUE))

    def reminders() -> list[RecordedCall]:
        return [
            c
            for c in h.double.calls_to("chat.postMessage")
            if c.args.get("channel") in channels and "is due" in str(c.args.get("text"))
        ]

    await h.double.wait_for(lambda: len(reminders()) >= DUE, timeout=30)
    assert len({c.args["channel"] for c in reminders()}) == DUE
    in_flight = most_in_flight(reminders(), ANSWER_SECONDS)
    assert 1 < in_flight <= DELIVERY_CONCURRENCY
