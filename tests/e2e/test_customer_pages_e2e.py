"""Each affected customer's private page: its own incidents, what it was told, its amends."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.harness import Harness, start_harness, stop_harness
from tests.support.status_helpers import (
    INTERNAL_TITLE,
    PERSON,
    PUBLIC_TITLE,
    SECOND,
    command,
    customer_link,
    fetch,
    post_update,
    scripted_incident,
    set_public,
)

AMENDS = "A 20% credit on this month's invoice."  # what close_values records


@pytest.fixture
async def h(engine: AsyncEngine) -> AsyncIterator[Harness]:
    harness = await start_harness(engine)
    yield harness
    await stop_harness(harness)


async def test_a_customer_page_shows_its_incident_updates_and_amends(h: Harness) -> None:
    channel = await scripted_incident(h, "Acme Bank, Globex")
    page = await fetch(h, await customer_link(h, channel, "Acme Bank"))
    assert page.status == 200
    shown = html.unescape(page.text)
    assert "Incidents affecting Acme Bank" in shown
    assert PUBLIC_TITLE in shown and SECOND in shown and AMENDS in shown
    assert "We will follow up with you by" in shown


async def test_a_customer_page_never_names_another_customer_or_anything_internal(
    h: Harness,
) -> None:
    channel = await scripted_incident(h, "Acme Bank, Globex")
    page = await fetch(h, await customer_link(h, channel, "Acme Bank"))
    for hidden in ("Globex", INTERNAL_TITLE, PERSON):
        assert hidden not in page.text, hidden


async def test_a_customer_sees_only_updates_sent_after_it_was_added(h: Harness) -> None:
    channel = await scripted_incident(h, "Acme Bank", resolved=False)
    await command(h, channel, "customers add Initech")
    await post_update(h, channel, "We're sorry: still on it. Next update by 16:00 UTC.")
    page = await fetch(h, await customer_link(h, channel, "Initech"))
    assert "still on it" in page.text and SECOND not in html.unescape(page.text)


async def test_the_same_customer_gets_the_same_link_again(h: Harness) -> None:
    channel = await scripted_incident(h, "Acme Bank", resolved=False)
    assert await customer_link(h, channel, "Acme Bank") == await customer_link(
        h, channel, "acme bank"
    )


async def test_a_revoked_link_stops_working(h: Harness) -> None:
    channel = await scripted_incident(h, "Acme Bank", resolved=False)
    path = await customer_link(h, channel, "Acme Bank")
    assert "no longer works" in await command(h, channel, "customers revoke-link Acme Bank")
    gone = await fetch(h, path)
    assert gone.status == 404 and "Acme Bank" not in gone.text


async def test_a_new_link_after_a_revoke_is_a_different_one(h: Harness) -> None:
    channel = await scripted_incident(h, "Acme Bank", resolved=False)
    old = await customer_link(h, channel, "Acme Bank")
    await command(h, channel, "customers revoke-link Acme Bank")
    new = await customer_link(h, channel, "Acme Bank")
    assert new != old and (await fetch(h, new)).status == 200


async def test_a_link_is_only_for_an_affected_customer(h: Harness) -> None:
    channel = await scripted_incident(h, "Acme Bank", resolved=False)
    answer = await command(h, channel, "customers link Acme Bnak")
    assert "is not an affected customer" in answer and "Acme Bank" in answer


async def test_a_customer_page_is_not_cached_indexed_or_referred(h: Harness) -> None:
    channel = await scripted_incident(h, "Acme Bank", resolved=False)
    page = await fetch(h, await customer_link(h, channel, "Acme Bank"))
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in page.headers["X-Robots-Tag"]


async def test_a_customer_page_shows_incidents_kept_off_the_status_page(h: Harness) -> None:
    channel = await scripted_incident(h, "Acme Bank", resolved=False)
    await set_public(h, channel, "off")
    page = await fetch(h, await customer_link(h, channel, "Acme Bank"))
    assert PUBLIC_TITLE in page.text
