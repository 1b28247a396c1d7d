"""Two people at once: the last two confirmations, the same customer added twice, update
numbers. Each test races real signed requests (or store calls) against each other."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from messages import ids
from storage.db import migrate
from storage.models import Status, utcnow
from storage.repository import IncidentStore, NewIncident, NewUpdate
from tests.e2e.test_updates_e2e import CLEAN, declare, open_composer, text_input
from tests.support.customer_helpers import (
    declare_with,
    ephemerals_for,
    latest_ephemeral,
    row_action,
    row_of,
    stored_customers,
)
from tests.support.harness import ALICE, BOB, MARIA, TEAM, Harness
from tests.support.helpers import header_message, said

ROUNDS = 3
"""Races per test: one lost race proves nothing, a few make a missing guard show reliably."""


def update_posts(h: Harness, channel: str) -> list[str]:
    return [
        str(m.get("text"))
        for m in h.double.messages(channel)
        if "ustomer update #" in str(m.get("text"))
    ]


async def confirm_last_two_at_once(h: Harness, names: tuple[str, str]) -> str:
    channel = await declare_with(h, ", ".join(names))
    header = header_message(h, channel)
    for user in (ALICE, BOB):
        await h.driver.click(header, ids.SHOW_CHECKLIST, user_id=user)
    await h.double.wait_for(
        lambda: ephemerals_for(h, channel, ALICE) and ephemerals_for(h, channel, BOB)
    )
    lists = {user: latest_ephemeral(h, channel, user) for user in (ALICE, BOB)}
    rows = {user: row_of(lists[user], name) for user, name in zip((ALICE, BOB), names, strict=True)}
    replies = await asyncio.gather(
        *(h.driver.click(rows[u], row_action(rows[u]), user_id=u) for u in (ALICE, BOB))
    )
    assert [r.status for r in replies] == [200, 200]
    await h.double.wait_for(
        lambda: all(
            f"Recorded: {name} was contacted." in json.dumps(latest_ephemeral(h, channel, u))
            for u, name in zip((ALICE, BOB), names, strict=True)
        )
    )
    return channel


async def test_confirming_the_last_two_customers_at_once_counts_one_customer_update(
    harness: Harness,
) -> None:
    h = harness
    for number in range(1, ROUNDS + 1):
        channel = await confirm_last_two_at_once(h, (f"Acme {number}", f"Globex {number}"))
        incident = await h.store.by_number(TEAM, number)
        updates = await h.store.updates(incident.id)
        assert [u.kind for u in updates] == ["contacted"], f"round {number}"
        assert update_posts(h, channel) == [f"Customer update #1 for INC-{number}"]


async def test_two_updates_submitted_at_once_get_their_own_numbers(harness: Harness) -> None:
    h = harness
    channel = await declare(h, "SEV3")
    for _ in range(ROUNDS):
        views = [await open_composer(h, channel, user) for user in (MARIA, BOB)]
        replies = await asyncio.gather(
            *(
                h.driver.submit_view(v["id"], text_input(v, CLEAN), user_id=u)
                for v, u in zip(views, (MARIA, BOB), strict=True)
            )
        )
        assert [r.status for r in replies] == [200, 200]
    expected = [f"Customer update #{n} for INC-1" for n in range(1, 2 * ROUNDS + 1)]
    await h.double.wait_for(lambda: len(update_posts(h, channel)) == len(expected))
    assert sorted(update_posts(h, channel), key=lambda t: int(t.split("#")[1].split()[0])) == (
        expected
    )
    incident = await h.store.by_number(TEAM, 1)
    numbers = [u.number for u in await h.store.updates(incident.id)]
    assert numbers == list(range(1, 2 * ROUNDS + 1))


async def test_updates_recorded_at_once_are_numbered_one_to_n(engine: AsyncEngine) -> None:
    await migrate(engine)
    store = IncidentStore(engine)
    incident = await store.create_pending(
        NewIncident(TEAM, "Checkout down", "SEV2", Status.INVESTIGATING, ALICE)
    )
    now = utcnow()
    recorded = await asyncio.gather(
        *(
            store.record_update(incident.id, NewUpdate(ALICE, f"update {i}", now), None)
            for i in range(8)
        )
    )
    assert sorted(r.number for r in recorded) == list(range(1, 9))
    later = await store.record_update(
        incident.id, NewUpdate(BOB, "later", now + timedelta(seconds=1)), None
    )
    assert later.number == 9


async def test_two_people_adding_the_same_customer_at_once_add_it_once(harness: Harness) -> None:
    h = harness
    channel = await declare_with(h)
    for number in range(1, ROUNDS + 1):
        name = f"Acme {number}"
        replies = await asyncio.gather(
            *(
                h.driver.command(
                    "/incident", f"customers add {name}", user_id=user, channel_id=channel
                )
                for user in (ALICE, BOB)
            )
        )
        told = sorted([json.loads(await said(h, reply))["text"] for reply in replies])
        assert told == [
            f"Added 1 affected customer(s): {name}.",
            f"Already listed: {name}.",
        ], f"round {number}"
    incident = await h.store.by_number(TEAM, 1)
    assert [c.name for c in await stored_customers(h)] == [
        f"Acme {n}" for n in range(1, ROUNDS + 1)
    ]
    added = [e for e in await h.store.timeline(incident.id) if e.kind == "customer_added"]
    assert len(added) == ROUNDS


async def test_a_customer_added_after_everyone_was_contacted_counts_again_once_confirmed(
    harness: Harness,
) -> None:
    h = harness
    channel = await declare_with(h, "Acme")
    for name in ("Acme", "Globex"):
        if name != "Acme":
            reply = await h.driver.command(
                "/incident", f"customers add {name}", user_id=ALICE, channel_id=channel
            )
            assert "Added 1" in await said(h, reply)
        await h.driver.click(header_message(h, channel), ids.SHOW_CHECKLIST, user_id=ALICE)
        await h.double.wait_for(
            lambda name=name: any(
                f"*{name}*" in json.dumps(m) for m in ephemerals_for(h, channel, ALICE)
            )
        )
        row = row_of(latest_ephemeral(h, channel, ALICE), name)
        await h.driver.click(row, row_action(row), user_id=ALICE)
        await h.double.wait_for(
            lambda name=name: (
                f"Recorded: {name} was contacted."
                in json.dumps(latest_ephemeral(h, channel, ALICE))
            )
        )
    incident = await h.store.by_number(TEAM, 1)
    assert [u.kind for u in await h.store.updates(incident.id)] == ["contacted", "contacted"]
    assert update_posts(h, channel) == [
        "Customer update #1 for INC-1",
        "Customer update #2 for INC-1",
    ]
