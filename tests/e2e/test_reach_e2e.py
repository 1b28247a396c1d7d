"""A customer update reaches each affected customer directly — in the Slack Connect channel
shared with them, by e-mail through a real SMTP relay — and records them contacted."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import aiohttp
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.status_page import customer_page_url
from storage.models import CONTACTED, NOT_CONTACTED, AffectedCustomer
from tests.e2e.test_updates_e2e import CLEAN, PUBLIC_TITLE, declare, open_composer, text_input
from tests.support.customer_helpers import stored_customers
from tests.support.directory_helpers import load_directory
from tests.support.harness import ALICE, MARIA, TEAM, Harness, start_harness, stop_harness
from tests.support.helpers import eventually, team_joins
from tests.support.smtp import Inbox, free_port, start_relay


@dataclass
class Reach:
    h: Harness
    inbox: Inbox
    acme_channel: str


@pytest.fixture
def relay_port() -> Iterator[int]:
    yield free_port()


async def reach_harness(engine: AsyncEngine, port: int, **settings: object) -> Harness:
    return await start_harness(
        engine,
        smtp_url=f"smtp://127.0.0.1:{port}",
        smtp_from="Status <status@amends.example>",
        outbox_retry_seconds=0.2,
        **settings,
    )


@pytest.fixture
async def reach(engine: AsyncEngine, relay_port: int) -> AsyncIterator[Reach]:
    controller, inbox = start_relay(relay_port)
    h = await reach_harness(engine, relay_port)
    acme = h.double.add_channel("ext-acme", bot_member=True)["id"]
    await load_directory(
        h,
        f"Acme,premium,en,{acme},,Jana\n"
        "Globex,standard,en,,ops@globex.example it@globex.example,\n"
        "Initech,standard,en,,help@initech.example,\n",
    )
    yield Reach(h, inbox, acme)
    await stop_harness(h)
    controller.stop()


async def post_update(h: Harness, channel: str, text: str = CLEAN) -> None:
    view = await open_composer(h, channel)
    await h.driver.submit_view(view["id"], text_input(view, text), user_id=MARIA)


async def incident_with(h: Harness, customers: str) -> str:
    channel = await declare(h, "SEV3")
    reply = await h.driver.command(
        "/incident", f"customers add {customers}", user_id=ALICE, channel_id=channel
    )
    await h.double.wait_for(lambda: h.double.responses_for(str(reply.response_url)))
    return channel


async def customer(h: Harness, name: str) -> AffectedCustomer:
    return next(c for c in await stored_customers(h) if c.name == name)


async def contacted(h: Harness, name: str) -> bool:
    return (await customer(h, name)).contact_state == CONTACTED


async def acme_reads_an_update(reach: Reach) -> dict[str, Any]:
    """Post one update to an incident affecting Acme; the message in Acme's shared channel."""
    channel = await incident_with(reach.h, "Acme")
    await post_update(reach.h, channel)
    posted = await reach.h.double.wait_for(lambda: reach.h.double.messages(reach.acme_channel))
    return posted[0]


async def globex_reads_an_update(reach: Reach) -> EmailMessage:
    """Post one update to an incident affecting Globex; the one e-mail that arrived."""
    channel = await incident_with(reach.h, "Globex")
    await post_update(reach.h, channel)
    await reach.h.double.wait_for(lambda: reach.inbox.messages())
    (message,) = reach.inbox.messages()
    return message


async def test_the_composer_says_how_many_customers_the_update_will_reach(reach: Reach) -> None:
    h = reach.h
    channel = await incident_with(h, "Acme, Globex, Initech, Unknown Ltd")
    view = json.dumps((await open_composer(h, channel))["blocks"])
    assert "Will reach 3 customers directly: 1 in their Slack channels, 2 by e-mail" in view


async def test_an_update_reaches_the_customers_shared_channel(reach: Reach) -> None:
    assert (await acme_reads_an_update(reach))["text"] == CLEAN


async def test_a_customer_reached_in_slack_is_recorded_contacted_with_the_permalink(
    reach: Reach,
) -> None:
    h = reach.h
    channel = await incident_with(h, "Acme")
    await post_update(h, channel)
    await eventually(lambda: contacted(h, "Acme"))
    posted = h.double.messages(reach.acme_channel)
    acme = await customer(h, "Acme")
    ts = posted[0]["ts"].replace(".", "")
    assert (acme.contacted_by, acme.contacted_via) == (MARIA, "slack")
    assert acme.contact_ref.endswith(f"/archives/{reach.acme_channel}/p{ts}")


async def test_an_email_customer_gets_one_message_with_a_text_and_an_html_part(
    reach: Reach,
) -> None:
    message = await globex_reads_an_update(reach)
    assert message["To"] == "ops@globex.example, it@globex.example"
    assert CLEAN in message.get_body(("plain",)).get_content()
    assert "<p>" in message.get_body(("html",)).get_content()


async def test_each_customer_gets_their_own_email_addressed_only_to_them(reach: Reach) -> None:
    h = reach.h
    channel = await incident_with(h, "Globex, Initech")
    await post_update(h, channel)
    await h.double.wait_for(lambda: len(reach.inbox.received) == 2 or None)
    recipients = sorted(tuple(rcpt) for rcpt, _ in reach.inbox.received)
    assert recipients == [("help@initech.example",), ("ops@globex.example", "it@globex.example")]


async def test_a_customer_reached_by_email_is_recorded_contacted_with_the_message_id(
    reach: Reach,
) -> None:
    h = reach.h
    channel = await incident_with(h, "Globex")
    await post_update(h, channel)
    await eventually(lambda: contacted(h, "Globex"))
    globex = await customer(h, "Globex")
    (message,) = reach.inbox.messages()
    assert (globex.contacted_by, globex.contacted_via) == (MARIA, "email")
    assert globex.contact_ref == message["Message-ID"]


async def test_a_channel_the_bot_was_removed_from_is_reported_to_the_comms_owner_once(
    reach: Reach,
) -> None:
    h = reach.h
    gone = h.double.add_channel("ext-hooli")["id"]
    await load_directory(h, f"Hooli,standard,en,{gone},,\n")
    channel = await incident_with(h, "Hooli")
    for _ in range(2):
        await post_update(h, channel)
    await h.double.wait_for(lambda: h.runtime.services.reach.finished == 2 or None)
    assert len(reports(h, channel)) == 1
    assert f"<@{ALICE}>" in reports(h, channel)[0]["text"]
    assert (await customer(h, "Hooli")).contact_state == NOT_CONTACTED


def reports(h: Harness, channel: str) -> list[dict[str, object]]:
    return [
        m for m in h.double.messages(channel) if "I could not post the customer update" in m["text"]
    ]


async def metrics(h: Harness) -> str:
    url = f"http://127.0.0.1:{h.runtime.port}/metrics"
    async with aiohttp.ClientSession() as session, session.get(url) as answer:
        return await answer.text()


async def test_mail_is_parked_while_the_relay_is_down_and_delivered_once_it_is_back(
    engine: AsyncEngine, relay_port: int
) -> None:
    h = await reach_harness(engine, relay_port)
    try:
        await load_directory(h, "Globex,standard,en,,ops@globex.example,\n")
        channel = await incident_with(h, "Globex")
        await post_update(h, channel)
        await eventually(lambda: parked_mail(h, 1))
        assert "amends_mail_parked 1.0" in await metrics(h)
        controller, inbox = start_relay(relay_port)
        try:
            await eventually(lambda: contacted(h, "Globex"), timeout=15)
            # The contact is recorded (the call's after step) before the parked row is done.
            await eventually(lambda: parked_mail(h, 0))
            assert len(inbox.messages()) == 1
            shown = await metrics(h)
            assert "amends_mail_sent_total 1.0" in shown and "amends_mail_parked 0.0" in shown
        finally:
            controller.stop()
    finally:
        await stop_harness(h)


async def parked_mail(h: Harness, count: int) -> bool:
    return await h.runtime.services.updates.outbox.store.pending("email.send") == count


INTERNAL_TITLE = "Checkout down"
"""What ``declare`` calls the incident inside Slack; customers never read it."""


async def page_of(h: Harness, name: str) -> str:
    """The address of ``name``'s own page (the live link is the same each time it is asked)."""
    token = await h.runtime.services.status.store.link_for(TEAM, name, ALICE)
    return customer_page_url(h.runtime.settings, token)


async def test_a_message_in_a_customers_shared_channel_links_to_its_own_page(
    reach: Reach,
) -> None:
    h = reach.h
    posted = await acme_reads_an_update(reach)
    assert await page_of(h, "Acme") in json.dumps(posted["blocks"])


async def test_a_message_in_a_customers_shared_channel_shows_the_customer_facing_title(
    reach: Reach,
) -> None:
    shown = json.dumps((await acme_reads_an_update(reach))["blocks"])
    assert PUBLIC_TITLE in shown and INTERNAL_TITLE not in shown


async def test_an_email_links_to_the_customers_own_page(reach: Reach) -> None:
    message = await globex_reads_an_update(reach)
    assert await page_of(reach.h, "Globex") in message.get_body(("plain",)).get_content()


async def test_an_emails_subject_is_the_customer_facing_title_never_the_internal_one(
    reach: Reach,
) -> None:
    message = await globex_reads_an_update(reach)
    assert message["Subject"] == f"Update: {PUBLIC_TITLE}"
    assert INTERNAL_TITLE not in message.as_string()


SECOND = (
    "We're sorry: checkout still fails for some of you. We are fixing it. Next update by 14:30 UTC."
)


async def test_two_updates_in_a_row_reach_a_rate_limited_shared_channel_without_a_429(
    reach: Reach,
) -> None:
    h = reach.h
    h.double.limit_per_channel("chat.postMessage", channels=[reach.acme_channel])
    channel = await incident_with(h, "Acme")
    await post_update(h, channel, CLEAN)
    await post_update(h, channel, SECOND)
    posted = await h.double.wait_for(
        lambda: texts if len(texts := texts_in(h, reach.acme_channel)) == 2 else None
    )
    assert sorted(posted) == sorted([CLEAN, SECOND])
    assert h.double.refused_with_429("chat.postMessage") == []


def texts_in(h: Harness, channel: str) -> list[str]:
    return [str(m["text"]) for m in h.double.messages(channel)]


async def test_two_updates_in_a_row_reach_the_customer_in_the_order_they_were_posted(
    reach: Reach,
) -> None:
    """The first post of update #1 to Slack is rate-limited (429, Retry-After 2 s) and
    update #2 is submitted meanwhile; the customer still reads #1 before #2."""
    h = reach.h
    channel = await incident_with(h, "Acme")
    h.double.fail_next("chat.postMessage", http_status=429, retry_after=2)
    await post_update(h, channel, CLEAN)
    await post_update(h, channel, SECOND)
    posted = await h.double.wait_for(
        lambda: texts if len(texts := texts_in(h, reach.acme_channel)) == 2 else None,
        timeout=20,
    )
    assert posted == [CLEAN, SECOND]


async def test_a_drill_reaches_no_customer_directly(reach: Reach) -> None:
    h = reach.h
    reply = await h.driver.command(
        "/incident", "drill card-payments-failing", user_id=ALICE, channel_id=h.general
    )
    assert reply.status == 200
    await h.double.wait_for(lambda: h.double.ok_calls_to("pins.add"))
    channel = str(h.double.ok_calls_to("conversations.create")[0].response["channel"]["id"])
    team_joins(h, channel)
    await h.driver.command(
        "/incident", "customers add Acme, Globex", user_id=ALICE, channel_id=channel
    )
    await eventually(lambda: has_customers(h, 2))
    await post_update(h, channel)
    await h.double.wait_for(lambda: "update #1" in " ".join(texts_in(h, channel)) or None)
    await h.runtime.services.reach.drain()
    assert h.double.messages(reach.acme_channel) == [] and reach.inbox.messages() == []


async def has_customers(h: Harness, count: int) -> bool:
    return len(await stored_customers(h)) == count
