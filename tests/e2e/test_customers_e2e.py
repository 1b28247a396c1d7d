"""Affected customers end to end: adding, removing, the contact checklist, 1,000 customers."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from messages import ids, refusals
from storage.models import CONTACTED
from tests.support.customer_helpers import (
    assert_within_limits,
    declare_with,
    ephemerals_for,
    latest_ephemeral,
    row_action,
    row_of,
    stored_customers,
)
from tests.support.harness import ALICE, BOB, TEAM, Harness, start_harness, stop_harness
from tests.support.helpers import header_message, said


async def click_row(h: Harness, message: dict[str, Any], name: str, user: str) -> Any:
    row = row_of(message, name)
    return await h.driver.click(row, row_action(row), user_id=user)


async def customers_cmd(h: Harness, channel: str, text: str, user: str = ALICE) -> str:
    reply = await h.driver.command(
        "/incident", f"customers {text}", user_id=user, channel_id=channel
    )
    return await said(h, reply)


async def test_customers_are_added_listed_and_removed_with_clear_answers(harness: Harness) -> None:
    h = harness
    channel = await declare_with(h)
    said_add = await customers_cmd(h, channel, "add Acme, Globex Corp\nacme; Initech")
    assert "Added 3 affected customer(s): Acme, Globex Corp, Initech." in said_add
    assert "Already listed: ACME." in await customers_cmd(h, channel, "add ACME")
    assert refusals.name_a_customer() in await customers_cmd(h, channel, "add , ;")
    assert "Did you mean “Acme”?" in await customers_cmd(h, channel, "remove Acmee")
    assert "Removed Initech" in await customers_cmd(h, channel, "remove initech")
    assert refusals.customers_usage() in await customers_cmd(h, channel, "frobnicate")
    too_long = await customers_cmd(h, channel, "add " + "x" * 250)
    assert refusals.customer_name_too_long("x" * 250, 200) in too_long
    incident = await h.store.by_number(TEAM, 1)
    assert [c.name for c in await stored_customers(h)] == ["Acme", "Globex Corp"]
    kinds = [e.kind for e in await h.store.timeline(incident.id)]
    assert kinds.count("customer_added") == 3 and kinds.count("customer_removed") == 1
    await h.double.wait_for(
        lambda: "Affected customers (2)" in json.dumps(header_message(h, channel)["blocks"])
    )
    outside = await customers_cmd(h, h.general, "")
    assert refusals.not_an_incident_channel("customers") in outside


async def test_confirming_a_contact_edits_the_checklist_and_counts_once(harness: Harness) -> None:
    h = harness
    channel = await declare_with(h, "Acme, Globex Corp, Initech")
    header = header_message(h, channel)
    for user in (ALICE, BOB):
        await h.driver.click(header, ids.SHOW_CHECKLIST, user_id=user)
    await h.double.wait_for(lambda: all(ephemerals_for(h, channel, u) for u in (ALICE, BOB)))
    alice_list, bob_list = latest_ephemeral(h, channel, ALICE), latest_ephemeral(h, channel, BOB)
    assert "0 of 3 contacted" in json.dumps(alice_list["blocks"])
    await asyncio.gather(
        click_row(h, alice_list, "Acme", ALICE),
        click_row(h, bob_list, "Acme", BOB),
    )

    def both_edited() -> bool:
        return all("edited" in latest_ephemeral(h, channel, user) for user in (ALICE, BOB))

    await h.double.wait_for(both_edited)
    incident = await h.store.by_number(TEAM, 1)
    timeline = await h.store.timeline(incident.id)
    assert [e.detail for e in timeline if e.kind == "customer_contacted"] == ["Acme"]
    acme = next(c for c in await stored_customers(h) if c.name == "Acme")
    assert acme.contact_state == CONTACTED and acme.contacted_by in (ALICE, BOB)
    texts = [json.dumps(latest_ephemeral(h, channel, u)["blocks"]) for u in (ALICE, BOB)]
    assert sum("Recorded: Acme was contacted." in t for t in texts) == 1
    assert sum("Acme was already confirmed by" in t for t in texts) == 1
    assert all("1 of 3 contacted" in t for t in texts)
    checklists = [
        m for m in ephemerals_for(h, channel, ALICE) if "customers contacted" in m["text"]
    ]
    assert len(checklists) == 1, "edited in place, not a new message"

    await h.driver.click(latest_ephemeral(h, channel, ALICE), ids.CONTACT_ALL, user_id=ALICE)
    await h.double.wait_for(
        lambda: "3 of 3 contacted" in json.dumps(latest_ephemeral(h, channel, ALICE)["blocks"])
    )
    incident = await h.store.by_number(TEAM, 1)
    assert {c.contact_state for c in await stored_customers(h)} == {CONTACTED}
    assert [u.kind for u in await h.store.updates(incident.id)] == ["contacted"]
    again = await h.driver.click(alice_list, ids.CONTACT_ALL, user_id=ALICE)
    assert again.status == 200
    await h.double.wait_for(
        lambda: "already been confirmed" in json.dumps(latest_ephemeral(h, channel, ALICE))
    )


async def test_a_thousand_customers_page_within_limits_and_all_can_be_confirmed(
    harness: Harness,
) -> None:
    h = harness
    names = [f"Customer {i:04d}" for i in range(1000)]
    channel = await declare_with(h, ", ".join(names))
    assert len(await stored_customers(h)) == 1000
    calls_before = len(h.double.calls)
    started = time.perf_counter()
    await h.driver.click(header_message(h, channel), ids.SHOW_CHECKLIST, user_id=ALICE)
    page = await h.double.wait_for(lambda: (ephemerals_for(h, channel, ALICE) or [None])[-1])
    first_render = time.perf_counter() - started
    seen: list[str] = []
    for number in range(1, 26):
        text = json.dumps(page["blocks"], ensure_ascii=False)
        assert f"page {number} of 25" in text
        assert_within_limits(page["blocks"])
        seen += [n for n in names[(number - 1) * 40 : number * 40] if f"*{n}*" in text]
        if number == 3:
            await click_row(h, page, "Customer 0085", ALICE)
            await h.double.wait_for(
                lambda: (
                    "Customer 0085 was contacted" in json.dumps(latest_ephemeral(h, channel, ALICE))
                )
            )
            page = latest_ephemeral(h, channel, ALICE)
        if number < 25:
            edits = page.get("edited", {}).get("ts")
            await h.driver.click(page, ids.CHECKLIST_NEXT, user_id=ALICE)
            await h.double.wait_for(
                lambda edits=edits: (
                    latest_ephemeral(h, channel, ALICE).get("edited", {}).get("ts") != edits
                )
            )
            page = latest_ephemeral(h, channel, ALICE)
    assert seen == names, "every customer appears on exactly one page, in order"
    assert "All remaining ✓ (999)" in json.dumps(page["blocks"], ensure_ascii=False)
    await h.driver.click(page, ids.CONTACT_ALL, user_id=ALICE)
    await h.double.wait_for(
        lambda: "1000 of 1000 contacted" in json.dumps(latest_ephemeral(h, channel, ALICE))
    )
    assert all(c.contact_state == CONTACTED for c in await stored_customers(h))
    calls = h.double.calls[calls_before:]
    responses = len(h.double.responses)
    print(
        f"\n1,000 customers: first checklist page in {first_render * 1000:.0f} ms; "
        f"{len(calls)} Web API calls and {responses} response_url posts for 25 pages, "
        "one single confirm and 'all remaining'"
    )


async def test_customers_add_without_names_opens_a_form(harness: Harness) -> None:
    h = harness
    channel = await declare_with(h)
    await h.driver.command("/incident", "customers add", user_id=ALICE, channel_id=channel)
    f = ids.CustomersFields
    form = await h.double.wait_for(
        lambda: next(
            (
                v
                for v in h.double.views.values()
                if v.get("callback_id") == ids.CUSTOMERS_CALLBACK_ID
            ),
            None,
        )
    )
    empty = await h.driver.submit_view(
        form["id"], {f.NAMES_BLOCK: {f.NAMES_ACTION: " , "}}, user_id=ALICE
    )
    assert empty.json and empty.json["errors"][f.NAMES_BLOCK] == refusals.name_a_customer()
    done = await h.driver.submit_view(
        form["id"], {f.NAMES_BLOCK: {f.NAMES_ACTION: "Acme\nGlobex"}}, user_id=ALICE
    )
    assert done.status == 200 and not done.text
    await h.double.wait_for(
        lambda: any("Added 2" in m["text"] for m in h.double.ephemerals(channel))
    )
    assert [c.name for c in await stored_customers(h)] == ["Acme", "Globex"]


async def test_the_reminders_contacted_button_opens_the_checklist(engine: AsyncEngine) -> None:
    h = await start_harness(
        engine,
        customer_update_cadence="SEV1=1s,SEV2=1s,SEV3=1s",
        reminder_grace="1h",
        reminder_sweep_seconds=0.5,
    )
    try:
        channel = await declare_with(h, "Acme, Globex")
        reminder = await h.double.wait_for(
            lambda: next(
                (m for m in h.double.messages(channel) if ids.REMINDER_CONTACTED in json.dumps(m)),
                None,
            )
        )
        await h.driver.click(reminder, ids.REMINDER_CONTACTED, user_id=ALICE)
        checklist = await h.double.wait_for(lambda: ephemerals_for(h, channel, ALICE))
        assert "0 of 2 contacted" in json.dumps(checklist[-1]["blocks"])
        await h.driver.click(checklist[-1], ids.CONTACT_ALL, user_id=ALICE)
        await h.double.wait_for(
            lambda: "2 of 2 contacted" in json.dumps(latest_ephemeral(h, channel, ALICE))
        )
        incident = await h.store.by_number(TEAM, 1)
        assert [u.kind for u in await h.store.updates(incident.id)] == ["contacted"]
    finally:
        await stop_harness(h)
