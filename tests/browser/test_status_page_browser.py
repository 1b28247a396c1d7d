"""The status page and the customer pages as a person sees them in headless Chromium,
after a scripted incident driven through the harness (declare, two updates, resolve),
on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.browser import PHONE, browser_session, screenshot
from tests.support.harness import TEAM, Harness, start_harness, stop_harness
from tests.support.status_helpers import (
    FIRST,
    INTERNAL_TITLE,
    PERSON,
    PUBLIC_TITLE,
    SECOND,
    customer_link,
    page_base,
    scripted_incident,
)


@pytest.fixture
async def h(engine: AsyncEngine) -> AsyncIterator[Harness]:
    harness = await start_harness(engine, status_page_title="Acme Cloud status")
    yield harness
    await stop_harness(harness)


@pytest.fixture
def chrome() -> Iterator[webdriver.Chrome]:
    yield from browser_session()


@pytest.fixture
def phone() -> Iterator[webdriver.Chrome]:
    yield from browser_session(*PHONE)


async def visible_text(chrome: webdriver.Chrome, url: str, shot: str) -> str:
    """Load ``url`` and return the text a person sees (a screenshot is kept)."""

    def load() -> str:
        chrome.get(url)
        screenshot(chrome, shot)
        return str(chrome.find_element(By.TAG_NAME, "body").text)

    return await asyncio.to_thread(load)


async def incident_url(h: Harness) -> str:
    incident = await h.store.by_number(TEAM, 1)
    assert incident is not None
    return f"{page_base(h)}/status/incidents/{incident.public_id}"


async def test_a_person_reads_the_customer_facing_title_and_both_updates_newest_first(
    h: Harness, chrome: webdriver.Chrome
) -> None:
    await scripted_incident(h)
    seen = await visible_text(chrome, await incident_url(h), "status-incident")
    assert PUBLIC_TITLE in seen
    assert seen.index("Resolved\n") < seen.index(SECOND) < seen.index(FIRST)
    assert "UTC" in seen


async def test_a_person_never_reads_the_internal_title_a_name_or_a_customer(
    h: Harness, chrome: webdriver.Chrome
) -> None:
    await scripted_incident(h)
    for path, shot in (
        (await incident_url(h), "status-incident"),
        (f"{page_base(h)}/status", "status"),
    ):
        seen = await visible_text(chrome, path, shot)
        for hidden in (INTERNAL_TITLE, PERSON, "Acme Bank"):
            assert hidden.lower() not in seen.lower(), (shot, hidden)


async def test_the_status_page_lists_the_incident_in_the_last_90_days(
    h: Harness, chrome: webdriver.Chrome
) -> None:
    await scripted_incident(h)
    seen = await visible_text(chrome, f"{page_base(h)}/status", "status")
    assert "Acme Cloud status" in seen and "No current incidents" in seen
    assert seen.index("The last 90 days") < seen.index(PUBLIC_TITLE)


async def test_on_a_phone_the_page_fits_the_screen_width(
    h: Harness, phone: webdriver.Chrome
) -> None:
    await scripted_incident(h)
    url = await incident_url(h)

    def widths() -> tuple[int, int]:
        phone.get(url)
        screenshot(phone, "status-incident-phone")
        page, screen = phone.execute_script(
            "return [document.documentElement.scrollWidth, window.innerWidth]"
        )
        return int(page), int(screen)

    page, screen = await asyncio.to_thread(widths)
    assert page <= screen


async def test_each_customer_reads_only_its_own_page(h: Harness, chrome: webdriver.Chrome) -> None:
    channel = await scripted_incident(h, "Acme Bank, Globex")
    pages = {name: await customer_link(h, channel, name) for name in ("Acme Bank", "Globex")}
    for name, other in (("Acme Bank", "Globex"), ("Globex", "Acme Bank")):
        seen = await visible_text(chrome, f"{page_base(h)}{pages[name]}", f"customer-{name}")
        assert f"Incidents affecting {name}" in seen and PUBLIC_TITLE in seen
        assert SECOND in seen and "A 20% credit" in seen
        for hidden in (other, INTERNAL_TITLE, PERSON):
            assert hidden not in seen, (name, hidden)
