"""The status page's Atom feed, checked against RFC 4287's required elements."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.harness import Harness, start_harness, stop_harness
from tests.support.status_helpers import INTERNAL_TITLE, PUBLIC_TITLE, fetch, scripted_incident

A = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
async def feed(engine: AsyncEngine) -> AsyncIterator[ET.Element]:
    h: Harness = await start_harness(engine, public_url="https://status.example.com")
    try:
        await scripted_incident(h)
        page = await fetch(h, "/status/feed.atom")
        assert page.status == 200
        assert page.headers["Content-Type"].startswith("application/atom+xml")
        yield ET.fromstring(page.text.encode())
    finally:
        await stop_harness(h)


def is_date_construct(text: str | None) -> bool:
    """RFC 4287 §3.3: an RFC 3339 date-time with an upper-case T and a zone."""
    assert text is not None
    return "T" in text and datetime.fromisoformat(text.replace("Z", "+00:00")).tzinfo is not None


async def test_the_feed_element_is_atom(feed: ET.Element) -> None:
    # §4.1.1: the root is atom:feed in the Atom namespace.
    assert feed.tag == f"{A}feed"


async def test_the_feed_has_exactly_one_id_title_and_updated(feed: ET.Element) -> None:
    # §4.1.1: atom:feed MUST contain exactly one atom:id, atom:title and atom:updated.
    for name in ("id", "title", "updated"):
        assert len(feed.findall(f"{A}{name}")) == 1, name
    assert is_date_construct(feed.findtext(f"{A}updated"))  # §4.2.15


async def test_the_feed_id_is_an_absolute_iri(feed: ET.Element) -> None:
    # §4.2.6: atom:id is a permanent, universally unique, absolute IRI.
    assert feed.findtext(f"{A}id") == "https://status.example.com/status"


async def test_the_feed_names_an_author_for_its_entries(feed: ET.Element) -> None:
    # §4.1.1: one or more atom:author unless every entry has one; §3.2: it has a name.
    authors = feed.findall(f"{A}author")
    assert authors and all(a.findtext(f"{A}name") for a in authors)


async def test_the_feed_links_to_itself_and_to_the_page(feed: ET.Element) -> None:
    # §4.1.1: SHOULD contain one atom:link with rel="self"; §4.2.7 href is required.
    rels = {link.get("rel"): link.get("href") for link in feed.findall(f"{A}link")}
    assert rels["self"] == "https://status.example.com/status/feed.atom"
    assert rels["alternate"] == "https://status.example.com/status"


async def test_every_entry_has_one_id_title_updated_and_alternate_link(feed: ET.Element) -> None:
    # §4.1.2: atom:entry MUST contain exactly one atom:id, atom:title and atom:updated; one
    # without atom:content MUST have an alternate atom:link (ours have content and the link).
    entries = feed.findall(f"{A}entry")
    assert len(entries) == 3  # two updates and the final one
    for entry in entries:
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"{A}{name}")) == 1, name
        assert is_date_construct(entry.findtext(f"{A}updated"))
        links = [link for link in entry.findall(f"{A}link") if link.get("rel") == "alternate"]
        assert len(links) == 1 and str(links[0].get("href")).startswith("https://")


async def test_entry_ids_are_unique(feed: ET.Element) -> None:
    # §4.2.6: an entry's atom:id is unique to it.
    ids = [entry.findtext(f"{A}id") for entry in feed.findall(f"{A}entry")]
    assert len(set(ids)) == len(ids)


async def test_entries_carry_the_customer_facing_title_only(feed: ET.Element) -> None:
    text = ET.tostring(feed, encoding="unicode")
    assert PUBLIC_TITLE in text and INTERNAL_TITLE not in text
