"""The App Home tab: what a person has on their plate, refreshed as it changes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage.models import AffectedCustomer, Closure, Incident, utcnow
from tests.support.customer_helpers import declare_with
from tests.support.harness import (
    ALICE,
    MARIA,
    SIGNING_SECRET,
    TEAM,
    Harness,
    start_harness,
    stop_harness,
)
from tests.support.playbook_helpers import playbook, write
from tests.support.status_helpers import FIRST, PUBLIC_TITLE, post_update, resolve

VIEW_BLOCKS_MAX = 100


@pytest.fixture
async def h(engine: AsyncEngine, tmp_path: Path) -> AsyncIterator[Harness]:
    books = tmp_path / "playbooks"
    write(books, "due.yaml", playbook(owner=ALICE, review_by="2020-01-01"))
    write(books, "later.yaml", playbook(name="Login outage", owner=ALICE, review_by="2099-01-01"))
    harness = await start_harness(engine, playbooks_dir=str(books))
    harness.double.events.subscribe(harness.runtime.events_url, SIGNING_SECRET)
    yield harness
    await stop_harness(harness)


def home_of(h: Harness, user: str) -> dict[str, Any] | None:
    ws = h.double.workspace()
    for view_id, owner in ws.view_users.items():
        view = ws.views[view_id]
        if owner == user and view["type"] == "home":
            return dict(view)
    return None


def publishes_for(h: Harness, user: str) -> int:
    return sum(1 for c in h.double.ok_calls_to("views.publish") if c.args.get("user_id") == user)


async def open_home(h: Harness, user: str) -> dict[str, Any]:
    before = publishes_for(h, user)
    await h.double.events.send(
        h.double.event(
            {
                "type": "app_home_opened",
                "user": user,
                "channel": "D0HOME",
                "tab": "home",
                "event_ts": "1.1",
            }
        )
    )
    await h.double.wait_for(lambda: publishes_for(h, user) > before)
    view = home_of(h, user)
    assert view is not None
    return view


def part(view: dict[str, Any], title: str) -> str:
    """The text of one list of the Home, from its heading to the next one."""
    shown, inside = [], False
    for block in view["blocks"]:
        text = json.dumps(block, ensure_ascii=False)
        if (
            block["type"] == "section"
            and block["text"]["text"].startswith("*")
            and "block_id" not in block
            and "accessory" not in block
        ):
            inside = block["text"]["text"] == f"*{title}*"
            continue
        if inside:
            shown.append(text)
    return "\n".join(shown)


async def test_opening_the_home_shows_the_persons_open_incidents_and_roles(h: Harness) -> None:
    await declare_with(h, "Acme Bank")
    view = await open_home(h, ALICE)
    incidents = part(view, "Your open incidents")
    assert "INC-1" in incidents and "Incident lead" in incidents


async def test_the_home_shows_the_customer_update_owed_with_a_button_to_write_it(
    h: Harness,
) -> None:
    await declare_with(h, "Acme Bank")
    owed = part(await open_home(h, ALICE), "Customer updates you owe")
    assert "INC-1" in owed and "Write update" in owed


async def test_write_update_on_the_home_opens_the_composer(h: Harness) -> None:
    await declare_with(h, "Acme Bank")
    view = await open_home(h, ALICE)
    before = len(h.double.ok_calls_to("views.open"))
    await h.driver.click(view, "home_write:1", user_id=ALICE)
    opened = await h.double.wait_for(lambda: h.double.ok_calls_to("views.open")[before:])
    assert opened[0].args["view"]


async def test_a_paused_incident_owes_no_update(h: Harness) -> None:
    channel = await declare_with(h, "Acme Bank")
    await h.driver.command("/incident", "pause", user_id=ALICE, channel_id=channel)
    await h.double.wait_for(lambda: "paused" in json.dumps(h.double.messages(channel)))
    assert "INC-1" not in part(await open_home(h, ALICE), "Customer updates you owe")


async def test_a_role_change_refreshes_the_new_holders_home(h: Harness) -> None:
    channel = await declare_with(h, "Acme Bank")
    before = publishes_for(h, MARIA)
    await h.driver.command("/incident", f"role comms <@{MARIA}>", user_id=ALICE, channel_id=channel)
    await h.double.wait_for(lambda: publishes_for(h, MARIA) > before)
    view = home_of(h, MARIA)
    assert view is not None and "Customer comms" in part(view, "Your open incidents")
    assert "INC-1" in part(view, "Customer updates you owe")


async def test_a_posted_update_refreshes_the_home(h: Harness) -> None:
    channel = await declare_with(h, "Acme Bank")
    await open_home(h, ALICE)
    before = publishes_for(h, ALICE)
    await post_update(h, channel, FIRST, PUBLIC_TITLE)
    await h.double.wait_for(lambda: publishes_for(h, ALICE) > before)


async def test_customers_waiting_for_the_follow_up_are_on_the_owners_home(h: Harness) -> None:
    channel = await declare_with(h, "Acme Bank, Globex")
    await post_update(h, channel, FIRST, PUBLIC_TITLE)
    await resolve(h, channel)
    waiting = part(await open_home(h, ALICE), "Customers waiting for your follow-up")
    assert "INC-1" in waiting and "2 customer(s) to follow up" in waiting


async def test_playbooks_past_their_review_date_are_on_the_owners_home(h: Harness) -> None:
    due = part(await open_home(h, ALICE), "Playbooks due for review")
    assert "Card payments failing" in due and "Login outage" not in due


async def test_someone_elses_playbooks_are_not_on_the_home(h: Harness) -> None:
    assert "Card payments failing" not in part(
        await open_home(h, MARIA), "Playbooks due for review"
    )


async def test_the_home_stays_within_100_blocks_with_every_list_full(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    books = tmp_path / "many"
    for n in range(30):
        write(
            books, f"p{n}.yaml", playbook(name=f"Playbook {n}", owner=ALICE, review_by="2020-01-01")
        )
    h = await start_harness(engine, playbooks_dir=str(books))
    h.double.events.subscribe(h.runtime.events_url, SIGNING_SECRET)
    try:
        await many_incidents(h, open_ones=120, waiting_ones=30)
        view = await open_home(h, ALICE)
    finally:
        await stop_harness(h)
    assert len(view["blocks"]) <= VIEW_BLOCKS_MAX
    assert "…and 130 more" in part(view, "Your open incidents")
    assert "overdue" in part(view, "Customer updates you owe")
    assert "…and 10 more" in part(view, "Customers waiting for your follow-up")
    assert "…and 10 more" in part(view, "Playbooks due for review")


async def many_incidents(h: Harness, open_ones: int, waiting_ones: int) -> None:
    """Alice's incidents written straight to the database: open ones with an update
    overdue, and resolved ones whose follow-up she owes."""
    due = utcnow() - timedelta(minutes=5)
    async with AsyncSession(h.store.engine) as session, session.begin():
        for n in range(open_ones + waiting_ones):
            waiting = n >= open_ones
            incident = Incident(
                team_id=TEAM,
                number=n + 1,
                title=f"Incident {n}",
                severity="SEV2",
                status="resolved" if waiting else "investigating",
                reporter_id=ALICE,
                channel_id=f"C{n:08d}",
                next_update_due=None if waiting else due,
            )
            session.add(incident)
            await session.flush()
            if waiting:
                session.add(
                    Closure(
                        incident_id=incident.id,
                        root_cause="x",
                        follow_up_owner=ALICE,
                        follow_up_due=date.today(),
                        resolved_by=ALICE,
                    )
                )
                session.add(
                    AffectedCustomer(
                        incident_id=incident.id,
                        position=0,
                        name="Acme",
                        name_key="acme",
                        added_by=ALICE,
                    )
                )
