"""A scripted incident for the status page and customer page tests, and reading the pages."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import aiohttp

from tests.support.customer_helpers import close_values, declare_with
from tests.support.harness import ALICE, MARIA, Harness
from tests.support.helpers import open_form, said

INTERNAL_TITLE = "Checkout down"
"""What ``declare_with`` names every incident; the status page must never show it."""
PUBLIC_TITLE = "Card payments are failing"
FIRST = (
    "We're sorry: card payments at checkout fail for some of you. We are finding out why. "
    "Next update by 14:00 UTC."
)
SECOND = (
    "We're sorry for the wait: payments work again for most of you. We are watching it "
    "closely. Next update by 15:00 UTC."
)
PERSON = "maria"
"""The name of the person who posts the updates (the double's user ``UMARIA``)."""


@dataclass(frozen=True)
class Page:
    status: int
    text: str
    headers: dict[str, str]


async def fetch(h: Harness, path: str) -> Page:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{page_base(h)}{path}", allow_redirects=False) as response,
    ):
        return Page(response.status, await response.text(), dict(response.headers))


def page_base(h: Harness) -> str:
    return f"http://127.0.0.1:{h.runtime.port}"


async def open_composer(h: Harness, channel: str, user: str = MARIA) -> dict[str, Any]:
    return await open_form(h, "update", user, channel)


def composer_values(text: str, title: str | None = None, anyway: bool = False) -> dict[str, Any]:
    values: dict[str, Any] = {"update_text": {"text": text}}
    if title is not None:
        values["update_public_title"] = {"public_title": title}
    if anyway:
        values["update_anyway"] = {"anyway": ["post_anyway"]}
    return values


async def post_update(
    h: Harness, channel: str, text: str, title: str | None = None, anyway: bool = False
) -> None:
    """Post a customer update through the composer as Maria and wait until it is out."""
    before = len(_update_posts(h, channel))
    view = await open_composer(h, channel)
    reply = await h.driver.submit_view(view["id"], composer_values(text, title), user_id=MARIA)
    if anyway:
        assert reply.json and reply.json["response_action"] == "update", "no tone findings"
        reply = await h.driver.submit_view(
            view["id"], composer_values(text, title, anyway), user_id=MARIA
        )
    assert reply.status == 200 and not reply.text, reply.text
    await h.double.wait_for(lambda: len(_update_posts(h, channel)) > before)


def _update_posts(h: Harness, channel: str) -> list[dict[str, Any]]:
    return [
        m
        for m in h.double.messages(channel)
        if "ustomer update #" in m.get("text", "") + json.dumps(m.get("blocks") or [])
    ]


async def resolve(h: Harness, channel: str) -> None:
    """Close the incident and post the final update as drafted."""
    form = await open_form(h, "close", ALICE, channel)
    assert form["callback_id"] == "close_incident", form["callback_id"]
    reply = await h.driver.submit_view(str(form["id"]), close_values(), user_id=ALICE)
    assert reply.json and reply.json["response_action"] == "update"
    posts = len(_update_posts(h, channel))
    posted = await h.driver.submit_view(str(form["id"]), {}, user_id=ALICE)
    assert posted.status == 200 and not posted.text
    await h.double.wait_for(lambda: len(_update_posts(h, channel)) > posts)


async def scripted_incident(
    h: Harness, customers: str = "Acme Bank", *, resolved: bool = True
) -> str:
    """Declare (with ``customers``), post two updates (the first names the customer-facing
    title) and, unless told not to, resolve; returns the incident channel."""
    channel = await declare_with(h, customers)
    await post_update(h, channel, FIRST, PUBLIC_TITLE)
    await post_update(h, channel, SECOND)
    if resolved:
        await resolve(h, channel)
    return channel


async def command(h: Harness, channel: str, text: str, user: str = ALICE) -> str:
    reply = await h.driver.command("/incident", text, user_id=user, channel_id=channel)
    return await said(h, reply)


async def set_public(h: Harness, channel: str, choice: str) -> None:
    """``/incident public on|off``, waiting for the note it leaves in the channel."""
    notes = len(h.double.messages(channel))
    await h.driver.command("/incident", f"public {choice}", user_id=ALICE, channel_id=channel)
    await h.double.wait_for(lambda: len(h.double.messages(channel)) > notes)


async def customer_link(h: Harness, channel: str, name: str) -> str:
    """The private page path of ``name``, as ``/incident customers link`` hands it over."""
    answer = await command(h, channel, f"customers link {name}")
    found = re.search(r"/c/[A-Za-z0-9_-]+", answer)
    assert found, answer
    return found.group(0)
