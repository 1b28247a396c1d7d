"""Close end to end: who may close, the form's checks, resolve, follow-up, close, reopen,
the remediation report and the recovery figures."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from messages import ids, refusals
from storage.models import Closure
from storage.reminders import CANCELLED, FOLLOW_UP, PENDING
from tests.support.customer_helpers import (
    assert_within_limits,
    close_values,
    declare_with,
    opened_view,
    row_action,
    row_of,
)
from tests.support.harness import (
    ALICE,
    BOB,
    MARIA,
    ROBOT,
    TEAM,
    Harness,
    start_harness,
    stop_harness,
)
from tests.support.helpers import header_message, said

FAST = {
    "customer_update_cadence": "SEV1=30m,SEV2=60m,SEV3=120m",
    "reminder_sweep_seconds": 0.5,
    "reminder_lease_seconds": 2,
    "follow_up_reminder": "1s",
    "admin_users": MARIA,
    "archive_on_close": True,
}


@pytest.fixture
async def fast(engine: AsyncEngine) -> AsyncIterator[Harness]:
    h = await start_harness(engine, **FAST)
    yield h
    await stop_harness(h)


async def run(h: Harness, channel: str, text: str, user: str = ALICE) -> str:
    reply = await h.driver.command("/incident", text, user_id=user, channel_id=channel)
    return await said(h, reply)


async def open_close_form(h: Harness, channel: str, user: str = ALICE) -> dict[str, object]:
    before = len(h.double.ok_calls_to("views.open"))
    await h.driver.command("/incident", "close", user_id=user, channel_id=channel)
    await h.double.wait_for(lambda: len(h.double.ok_calls_to("views.open")) > before)
    return opened_view(h, ids.CLOSE_CALLBACK_ID)


def follow_up_checklist(h: Harness, channel: str) -> dict[str, object]:
    return next(
        m for m in reversed(h.double.messages(channel)) if "Customer follow-up" in json.dumps(m)
    )


async def resolve(h: Harness, channel: str) -> None:
    form = await open_close_form(h, channel)
    reply = await h.driver.submit_view(str(form["id"]), close_values(), user_id=ALICE)
    assert reply.json and reply.json["response_action"] == "update"
    await h.double.wait_for(lambda: _posted(h, channel, "Customer follow-up"))


def _posted(h: Harness, channel: str, marker: str) -> bool:
    return any(marker in json.dumps(m, ensure_ascii=False) for m in h.double.messages(channel))


async def test_only_lead_comms_or_admin_may_close_and_the_form_checks_its_fields(
    fast: Harness,
) -> None:
    h = fast
    channel = await declare_with(h, "Acme")
    refused = await run(h, channel, "close", user=BOB)
    assert refusals.who_may_close(1, f"<@{ALICE}>") in refused
    assert refusals.takes_no_arguments("/incident close") in await run(h, channel, "close now")
    form = await open_close_form(h, channel, user=MARIA)
    assert "Root cause" in json.dumps(form)
    yesterday = date.today() - timedelta(days=1)
    cases = [
        (close_values(root_cause="   "), "close_root_cause", refusals.root_cause_missing()),
        (
            close_values(due=yesterday),
            "close_follow_up_due",
            refusals.follow_up_due_past(yesterday),
        ),
        (close_values(owner=ROBOT), "close_follow_up_owner", refusals.user_is_a_bot(ROBOT)),
    ]
    for values, block, message in cases:
        reply = await h.driver.submit_view(str(form["id"]), values, user_id=MARIA)
        assert reply.json and reply.json["response_action"] == "errors"
        assert message in reply.json["errors"][block]
    incident = await h.store.by_number(TEAM, 1)
    assert incident.status == "investigating" and incident.closure is None
    assert refusals.report_needs_resolve(1) in await run(h, channel, "report")


async def test_resolve_stops_updates_follows_every_customer_up_and_closes(fast: Harness) -> None:
    h = fast
    channel = await declare_with(h, "Acme, Globex Corp")
    form = await open_close_form(h, channel)
    reply = await h.driver.submit_view(str(form["id"]), close_values(), user_id=ALICE)
    assert reply.json and reply.json["response_action"] == "update"
    final = reply.json["view"]
    assert "closed gateway" in json.dumps(final) and final["callback_id"] == ids.UPDATE_CALLBACK_ID
    await h.double.wait_for(lambda: _posted(h, channel, "Customer follow-up"))
    incident = await h.store.by_number(TEAM, 1)
    assert incident.status == "resolved"
    reminder = await h.runtime.services.reminders.get(incident.id)
    assert reminder is not None and reminder.state == CANCELLED
    assert refusals.already_resolved(1) in await run(h, channel, "close")

    posted = await h.driver.submit_view(str(form["id"]), {}, user_id=ALICE)
    assert posted.status == 200 and not posted.text
    await h.double.wait_for(lambda: h.double.messages(h.customers))
    assert "resolved" in h.double.messages(h.customers)[-1]["text"]
    assert [u.kind for u in await h.store.updates(incident.id)] == ["resolved"]

    reminder_msg = await h.double.wait_for(lambda: _posted(h, channel, "still need a follow-up"))
    assert reminder_msg
    checklist = follow_up_checklist(h, channel)
    assert_within_limits(checklist["blocks"])  # type: ignore[arg-type]
    acme = row_of(checklist, "Acme")  # type: ignore[arg-type]
    clicks = await asyncio.gather(
        h.driver.click(
            acme, row_action(acme), user_id=ALICE, selected_option_value=_value(acme, "satisfied")
        ),
        h.driver.click(
            acme, row_action(acme), user_id=BOB, selected_option_value=_value(acme, "no_answer")
        ),
    )
    # The clicks are acknowledged before they are applied: wait for both to be answered.
    await h.double.wait_for(lambda: all(h.double.responses_for(c.response_url) for c in clicks))
    incident = await h.store.by_number(TEAM, 1)
    timeline = await h.store.timeline(incident.id)
    followed = [e.detail for e in timeline if e.kind == "customer_followed_up"]
    assert len(followed) == 1 and followed[0] in ("Acme: satisfied", "Acme: no_answer")
    assert incident.status == "resolved"

    globex = row_of(follow_up_checklist(h, channel), "Globex Corp")  # type: ignore[arg-type]
    await h.driver.click(
        globex,
        row_action(globex),
        user_id=BOB,
        selected_option_value=_value(globex, "not_satisfied"),
    )
    await h.double.wait_for(lambda: _posted(h, channel, "the incident is closed"))
    incident = await h.store.by_number(TEAM, 1)
    assert incident.status == "closed" and incident.closure and incident.closure.closed_at
    follow_up = await h.runtime.services.reminders.get(incident.id, FOLLOW_UP)
    assert follow_up is not None and follow_up.state == CANCELLED
    assert "Customer follow-up done" in json.dumps(header_message(h, channel)["blocks"])
    await h.double.wait_for(lambda: h.double.channel(channel)["is_archived"])  # type: ignore[index]
    assert _posted(h, channel, "Remediation report"), "posted before the channel was archived"
    files = list(h.double.files().values())
    markdown = files[-1]["content"].decode()
    assert "## Remediation report (for customers)" in markdown
    assert "closed gateway" in markdown and "### Timeline" in markdown
    assert "customer_followed_up" in markdown and followed[0] in markdown
    assert "Globex Corp: not_satisfied" in markdown

    window = await run(h, h.general, "stats 90d")
    assert "last 90 days" in window and "Incidents declared" in window
    assert refusals.usage("/incident stats [30d|90d]") in await run(h, h.general, "stats 7d")

    # The archived channel has no message box: the reopen comes from another channel.
    assert "Say why" in await run(h, h.general, "reopen INC-1")
    await h.driver.command(
        "/incident", "reopen INC-1 errors are back for Acme", user_id=ALICE, channel_id=h.general
    )
    await h.double.wait_for(lambda: _posted(h, channel, "reopened INC-1: errors are back"))
    stats = await run(h, channel, "stats")
    assert "Customers followed up" in stats and "2/2 (100%)" in stats
    # Acme's answer is whichever of the two simultaneous clicks was recorded.
    satisfied = "1/2 (50%)" if followed[0] == "Acme: satisfied" else "0/1 (0%)"
    assert "Satisfied (of those who answered)" in stats and satisfied in stats
    incident = await h.store.by_number(TEAM, 1)
    assert incident.status == "investigating"
    again = await h.runtime.services.reminders.get(incident.id)
    assert again is not None and again.state == PENDING
    assert not h.double.channel(channel)["is_archived"]  # type: ignore[index]
    kinds = [e.kind for e in await h.store.timeline(incident.id)]
    assert kinds[-1] == "reopened" and "closed" in kinds and "resolved" in kinds


async def test_an_overdue_follow_up_escalates_to_the_lead(fast: Harness) -> None:
    h = fast
    channel = await declare_with(h, "Acme")
    await h.driver.command("/incident", f"role comms <@{BOB}>", user_id=ALICE, channel_id=channel)
    form = await open_close_form(h, channel)
    values = close_values(owner=BOB, due=date.today())
    await h.driver.submit_view(str(form["id"]), values, user_id=ALICE)
    await h.double.wait_for(lambda: _posted(h, channel, "still need a follow-up"))
    incident = await h.store.by_number(TEAM, 1)
    async with h.store._sessions.begin() as session:
        await session.execute(
            update(Closure)
            .where(Closure.incident_id == incident.id)
            .values(follow_up_due=date.today() - timedelta(days=1))
        )
    await h.double.wait_for(lambda: _posted(h, channel, "please help"), timeout=10)
    escalation = next(m for m in h.double.messages(channel) if "please help" in json.dumps(m))
    assert f"<@{ALICE}>" in json.dumps(escalation) and f"<@{BOB}>" in json.dumps(escalation)
    assert await h.double.wait_for(lambda: h.double.dm_messages(ALICE))


def _value(row: dict[str, object], answer: str) -> str:
    options = row["blocks"][0]["accessory"]["options"]  # type: ignore[index]
    return next(o["value"] for o in options if o["value"].split(":")[1] == answer)


async def test_two_closes_at_once_resolve_once(fast: Harness) -> None:
    h = fast
    channel = await declare_with(h, "Acme")
    alice_form = await open_close_form(h, channel, user=ALICE)
    maria_form = await open_close_form(h, channel, user=MARIA)
    replies = await asyncio.gather(
        h.driver.submit_view(str(alice_form["id"]), close_values(), user_id=ALICE),
        h.driver.submit_view(str(maria_form["id"]), close_values(), user_id=MARIA),
    )
    actions = sorted(str(r.json["response_action"]) for r in replies if r.json)
    assert actions == ["errors", "update"]
    refused = next(r.json for r in replies if r.json and r.json["response_action"] == "errors")
    assert "already resolved" in json.dumps(refused) or "Someone changed" in json.dumps(refused)
    incident = await h.store.by_number(TEAM, 1)
    kinds = [e.kind for e in await h.store.timeline(incident.id)]
    assert kinds.count("resolved") == 1
    await h.double.wait_for(lambda: _posted(h, channel, "Customer follow-up"))
    checklists = [
        m
        for m in h.double.messages(channel)
        if "Customer follow-up —" in json.dumps(m, ensure_ascii=False)
    ]
    assert len(checklists) == 1
