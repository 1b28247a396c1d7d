"""The public status page, served by the running bot: only what customers were told."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import Incident, utcnow
from tests.support.customer_helpers import declare_with
from tests.support.harness import MARIA, TEAM, Harness, start_harness, stop_harness
from tests.support.status_helpers import (
    FIRST,
    INTERNAL_TITLE,
    PERSON,
    PUBLIC_TITLE,
    SECOND,
    command,
    composer_values,
    fetch,
    open_composer,
    post_update,
    scripted_incident,
    set_public,
)


@pytest.fixture
async def h(engine: AsyncEngine) -> AsyncIterator[Harness]:
    harness = await start_harness(engine, status_page_title="Acme Cloud status")
    yield harness
    await stop_harness(harness)


async def public_id(h: Harness) -> str:
    incident = await h.store.by_number(TEAM, 1)
    assert incident is not None
    return str(incident.public_id)


async def test_the_status_page_shows_the_customer_facing_title_not_the_internal_one(
    h: Harness,
) -> None:
    await scripted_incident(h, resolved=False)
    page = await fetch(h, "/status")
    assert page.status == 200
    assert PUBLIC_TITLE in page.text
    assert INTERNAL_TITLE not in page.text


async def test_an_incident_page_shows_its_updates_newest_first(h: Harness) -> None:
    await scripted_incident(h, resolved=False)
    page = await fetch(h, f"/status/incidents/{await public_id(h)}")
    assert page.status == 200
    assert page.text.index("payments work again") < page.text.index("card payments at checkout")


async def test_an_open_incident_page_says_by_when_the_next_update_comes(h: Harness) -> None:
    await scripted_incident(h, resolved=False)
    page = await fetch(h, f"/status/incidents/{await public_id(h)}")
    assert re.search(r"Next update by <time datetime=\"[0-9T:-]+Z\">[^<]+ UTC</time>", page.text)


async def test_a_resolved_incident_promises_no_next_update(h: Harness) -> None:
    await scripted_incident(h)
    page = await fetch(h, f"/status/incidents/{await public_id(h)}")
    assert "Resolved" in page.text and "Next update by <time" not in page.text


async def test_the_page_never_shows_people_customers_or_tone_findings(h: Harness) -> None:
    channel = await scripted_incident(h, resolved=False)
    await post_update(
        h, channel, "Our provider had an outage. We regret any inconvenience.", anyway=True
    )
    page = await fetch(h, f"/status/incidents/{await public_id(h)}")
    assert "Our provider had an outage" in page.text
    for internal in (PERSON, MARIA, "Acme Bank", "tone", "despite", "Blame"):
        assert internal.lower() not in page.text.lower(), internal


async def test_a_direct_contact_touchpoint_is_not_shown_as_an_update(h: Harness) -> None:
    await scripted_incident(h, resolved=False)
    incident = await h.store.by_number(TEAM, 1)
    assert incident is not None
    await h.runtime.services.updates.customers_contacted(h.runtime.app.client, incident, MARIA)
    page = await fetch(h, f"/status/incidents/{await public_id(h)}")
    assert "contacted" not in page.text.lower()


async def test_the_first_update_is_refused_without_a_customer_facing_title(h: Harness) -> None:
    channel = await declare_with(h, "Acme Bank")
    view = await open_composer(h, channel)
    reply = await h.driver.submit_view(view["id"], composer_values(FIRST), user_id=MARIA)
    assert reply.json and reply.json["response_action"] == "errors"
    assert "customer-facing title" in reply.json["errors"]["update_public_title"]


async def test_the_customer_facing_title_is_tone_checked(h: Harness) -> None:
    channel = await declare_with(h, "Acme Bank")
    view = await open_composer(h, channel)
    values = composer_values(FIRST, "DNS failover broke checkout")
    reply = await h.driver.submit_view(view["id"], values, user_id=MARIA)
    assert reply.json and reply.json["response_action"] == "update"
    assert "Customer-facing title: " in json.dumps(reply.json["view"]["blocks"])


async def test_later_updates_keep_the_title_without_asking_again(h: Harness) -> None:
    channel = await declare_with(h, "Acme Bank")
    await post_update(h, channel, FIRST, PUBLIC_TITLE)
    await post_update(h, channel, SECOND)
    incident = await h.store.by_number(TEAM, 1)
    assert incident is not None and incident.public_title == PUBLIC_TITLE


async def test_public_off_keeps_the_incident_off_the_page(h: Harness) -> None:
    channel = await scripted_incident(h, resolved=False)
    await set_public(h, channel, "off")
    assert PUBLIC_TITLE not in (await fetch(h, "/status")).text
    assert (await fetch(h, f"/status/incidents/{await public_id(h)}")).status == 404


async def test_public_on_brings_it_back(h: Harness) -> None:
    channel = await scripted_incident(h, resolved=False)
    await set_public(h, channel, "off")
    await set_public(h, channel, "on")
    assert PUBLIC_TITLE in (await fetch(h, "/status")).text


async def test_public_off_twice_says_it_already_is(h: Harness) -> None:
    channel = await declare_with(h, "Acme Bank")
    await set_public(h, channel, "off")
    assert "already off the status page" in await command(h, channel, "public off")


async def test_an_incident_older_than_90_days_is_off_the_page(h: Harness) -> None:
    await scripted_incident(h)
    long_ago = utcnow() - timedelta(days=91)
    async with h.store.engine.begin() as connection:
        await connection.execute(
            update(Incident).values(created_at=long_ago, last_update_at=long_ago)
        )
    assert PUBLIC_TITLE not in (await fetch(h, "/status")).text


async def test_an_incident_is_not_reachable_by_its_number(h: Harness) -> None:
    await scripted_incident(h, resolved=False)
    assert not (await public_id(h)).isdigit()
    assert (await fetch(h, "/status/incidents/1")).status == 404


async def test_customer_text_is_escaped_not_run(h: Harness) -> None:
    channel = await declare_with(h, "Acme Bank")
    await post_update(h, channel, f"{FIRST} <script>alert(1)</script>", "<b>Payments</b>")
    page = await fetch(h, f"/status/incidents/{await public_id(h)}")
    assert "<script>alert" not in page.text and "<b>Payments" not in page.text
    assert "&lt;script&gt;" in page.text


async def test_the_page_is_readable_on_a_phone_and_by_a_screen_reader(h: Harness) -> None:
    await scripted_incident(h, resolved=False)
    page = (await fetch(h, "/status")).text
    assert '<html lang="en">' in page
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "<main" in page and "<header" in page and "<h1>Acme Cloud status</h1>" in page
    assert "<script" not in page


async def test_status_json_lists_what_the_page_shows(h: Harness) -> None:
    await scripted_incident(h)
    page = await fetch(h, "/status.json")
    body = json.loads(page.text)
    [incident] = body["incidents"]
    assert incident["title"] == PUBLIC_TITLE and incident["status"] == "resolved"
    assert [u["final"] for u in incident["updates"]] == [True, False, False]
    assert INTERNAL_TITLE not in page.text and "Acme Bank" not in page.text
