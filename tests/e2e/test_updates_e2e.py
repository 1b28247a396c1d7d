"""Customer updates and reminders end to end, on an accelerated cadence (SEV1 = 2 s)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.incidents.reminder_delivery import reminder_metadata
from bot.runtime.process import Runtime
from messages import ids
from storage.models import utcnow
from tests.support.blockkit_readers import action_ids, composer_draft
from tests.support.harness import (
    ALICE,
    BOB,
    MARIA,
    STATEMENT_TIMEOUT,
    TEAM,
    Harness,
    make_settings,
    start_harness,
    stop_harness,
)
from tests.support.helpers import (
    completion,
    created_channel,
    header_message,
    said,
    shown_text,
    team_joins,
)

FAST = {
    "customer_update_cadence": "SEV1=2s,SEV2=3s,SEV3=6s",
    "reminder_grace": "1s",
    "reminder_sweep_seconds": 0.5,
    "reminder_lease_seconds": 2,
}
REMINDER_WAIT = 6 + STATEMENT_TIMEOUT
"""How long a test waits for a reminder due within 3 s: time for one round trip to a
connection gone silent to give up (see ``STATEMENT_TIMEOUT``) and the next sweep to post."""
PUBLIC_TITLE = "Some payments are failing"
CLEAN = "We're sorry: checkout fails for some of you. We are fixing it. Next update by 14:00 UTC."


@pytest.fixture
async def fast(engine: AsyncEngine) -> AsyncIterator[Harness]:
    h = await start_harness(engine, **FAST)
    yield h
    await stop_harness(h)


CLICK_GRACE_SECONDS = 3
"""The grace of tests that click a reminder's buttons: the click must land before the
reminder escalates (an escalation retires its buttons), which a busy machine can miss by
more than FAST's 1 s."""


@pytest.fixture
async def clicking(engine: AsyncEngine) -> AsyncIterator[Harness]:
    h = await start_harness(engine, **(FAST | {"reminder_grace": f"{CLICK_GRACE_SECONDS}s"}))
    yield h
    await stop_harness(h)


async def declare(h: Harness, severity: str = "SEV1", title: str = "Checkout down") -> str:
    await h.driver.command("/incident", f"declare {title}", user_id=ALICE, channel_id=h.general)
    await h.double.wait_for(lambda: h.double.ok_calls_to("pins.add"))
    channel = str(created_channel(h)["id"])
    team_joins(h, channel)
    if severity != "SEV2":
        await h.driver.command(
            "/incident", f"severity {severity}", user_id=ALICE, channel_id=channel
        )
        await h.double.wait_for(
            lambda: severity in shown_text(header_message(h, channel)["blocks"])
        )
    return channel


def posts(h: Harness, channel: str, marker: str) -> list[dict[str, Any]]:
    return [
        m
        for m in h.double.messages(channel)
        if marker in m.get("text", "") + json.dumps(m.get("blocks") or [], ensure_ascii=False)
    ]


def reminders(h: Harness, channel: str) -> list[dict[str, Any]]:
    """Reminder messages the bot posted (as they are now: handled ones lose their buttons)."""
    sent = {
        c.response["ts"]
        for c in h.double.ok_calls_to("chat.postMessage")
        if c.args.get("channel") == channel and "is due" in str(c.args.get("text"))
    }
    return [m for m in h.double.messages(channel) if m["ts"] in sent]


async def first_reminder(h: Harness, channel: str) -> dict[str, Any]:
    return (await h.double.wait_for(lambda: reminders(h, channel), timeout=REMINDER_WAIT))[0]


async def open_composer(h: Harness, channel: str, user: str = MARIA) -> dict[str, Any]:
    before = len(h.double.ok_calls_to("views.open"))
    await h.driver.command("/incident", "update", user_id=user, channel_id=channel)
    opened = await h.double.wait_for(lambda: h.double.ok_calls_to("views.open")[before:])
    return h.double.views[opened[0].response["view"]["id"]]


def text_input(view: dict[str, Any], text: str, anyway: bool = False) -> dict[str, Any]:
    values: dict[str, Any] = {
        "update_text": {"text": text},
        "update_public_title": {"public_title": PUBLIC_TITLE},
    }
    if anyway:
        values["update_anyway"] = {"anyway": ["post_anyway"]}
    return values


async def post_clean_update(h: Harness) -> str:
    """Declare a SEV3 incident and post a clean update through the composer as Maria."""
    channel = await declare(h, "SEV3")
    view = await open_composer(h, channel)
    reply = await h.driver.submit_view(view["id"], text_input(view, CLEAN), user_id=MARIA)
    assert reply.status == 200 and not reply.text
    await h.double.wait_for(lambda: posts(h, channel, "Customer update #1"))
    return channel


async def test_the_composer_opens_with_a_draft_that_apologises_and_names_the_next_update(
    fast: Harness,
) -> None:
    h = fast
    draft = composer_draft(await open_composer(h, await declare(h, "SEV3")))
    assert "We're sorry" in draft and "Next update by" in draft


async def test_an_update_from_the_composer_reaches_the_customers_as_written(fast: Harness) -> None:
    h = fast
    await post_clean_update(h)
    to_customers = await h.double.wait_for(lambda: h.double.messages(h.customers))
    assert to_customers[0]["text"] == CLEAN
    assert PUBLIC_TITLE in json.dumps(to_customers[0]["blocks"])
    assert "Checkout down" not in json.dumps(to_customers[0]["blocks"])
    incident = await h.store.by_number(TEAM, 1)
    assert incident is not None
    updates = await h.store.updates(incident.id)
    assert [(u.author_id, u.text, u.posted_anyway) for u in updates] == [(MARIA, CLEAN, False)]


async def test_an_update_from_the_composer_restarts_the_clock(fast: Harness) -> None:
    h = fast
    before = utcnow()
    channel = await post_clean_update(h)
    incident = await h.store.by_number(TEAM, 1)
    assert incident is not None and incident.last_update_at is not None
    assert incident.last_update_at >= before
    assert incident.next_update_due == incident.last_update_at + timedelta(seconds=6)
    reminder = await h.runtime.services.reminders.get(incident.id)
    assert reminder is not None and reminder.due_at == incident.next_update_due
    await h.double.wait_for(
        lambda: "Next customer update due" in shown_text(header_message(h, channel)["blocks"])
    )


BLAME = "Our provider broke checkout. We regret any inconvenience."


async def review_of_blame(h: Harness) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Submit an update that fails the tone check; returns the channel, composer and review."""
    channel = await declare(h, "SEV3")
    view = await open_composer(h, channel)
    reply = await h.driver.submit_view(view["id"], text_input(view, BLAME), user_id=MARIA)
    assert reply.json["response_action"] == "update"
    return channel, view, reply.json["view"]


async def test_tone_findings_are_shown_in_the_composer_instead_of_posting(fast: Harness) -> None:
    h = fast
    channel, _view, review = await review_of_blame(h)
    shown = json.dumps(review)
    for finding in ("Shifts the blame", "non-apology", "No time for the next update"):
        assert finding in shown
    assert composer_draft(review) == BLAME
    assert posts(h, channel, "Customer update") == []


async def test_an_update_with_tone_findings_is_posted_when_its_author_insists(
    fast: Harness,
) -> None:
    h = fast
    channel, view, review = await review_of_blame(h)
    reply = await h.driver.submit_view(
        view["id"], text_input(review, BLAME, anyway=True), user_id=MARIA
    )
    assert reply.status == 200 and not reply.text
    await h.double.wait_for(lambda: posts(h, channel, "posted despite the tone check"))
    incident = await h.store.by_number(TEAM, 1)
    assert incident is not None
    updates = await h.store.updates(incident.id)
    assert updates[0].posted_anyway and "Shifts the blame" in updates[0].findings


async def test_empty_and_overlong_updates_are_refused_in_the_modal(fast: Harness) -> None:
    h = fast
    channel = await declare(h, "SEV3")
    view = await open_composer(h, channel)
    for text, expected in (("   ", "Write the update first"), ("x" * 2950, "under 2900")):
        reply = await h.driver.submit_view(view["id"], text_input(view, text), user_id=MARIA)
        assert reply.json["response_action"] == "errors"
        assert expected in reply.json["errors"]["update_text"]
    assert posts(h, channel, "Customer update") == []


async def test_due_reminder_reaches_the_comms_owner_with_working_buttons(clicking: Harness) -> None:
    h = clicking
    channel = await declare(h)
    await h.driver.command("/incident", f"role comms <@{MARIA}>", user_id=ALICE, channel_id=channel)
    reminder = await first_reminder(h, channel)
    assert f"<@{MARIA}>" in json.dumps(reminder["blocks"])
    assert action_ids(reminder) == [
        ids.REMINDER_WRITE,
        ids.REMINDER_CONTACTED,
        ids.reminder_snooze(15),
        ids.reminder_snooze(30),
        ids.reminder_snooze(60),
    ]
    before = len(h.double.ok_calls_to("views.open"))
    await h.driver.click(reminder, ids.REMINDER_WRITE, user_id=MARIA)
    opened = await h.double.wait_for(lambda: h.double.ok_calls_to("views.open")[before:])
    view = h.double.views[opened[0].response["view"]["id"]]
    live_before = {m["ts"] for m in h.double.messages(channel) if "reminder_" in json.dumps(m)}
    await h.driver.submit_view(view["id"], text_input(view, CLEAN), user_id=MARIA)
    await h.double.wait_for(lambda: posts(h, channel, "Customer update #1"))

    def still_live() -> list[dict[str, Any]]:
        return [
            m
            for m in h.double.messages(channel)
            if m["ts"] in live_before and "reminder_" in json.dumps(m)
        ]

    await h.double.wait_for(lambda: not still_live())
    assert posts(h, channel, "✓")
    stale = await h.driver.click(reminder, ids.REMINDER_CONTACTED, user_id=MARIA)
    assert "already handled" in await said(h, stale)


async def test_a_click_that_comes_while_slack_is_still_answering_the_reminder_counts(
    fast: Harness,
) -> None:
    """Slack shows the reminder before its poster hears back; a person who clicks at once
    is recorded, not told the reminder was already handled."""
    h = fast
    channel = await declare(h)
    h.double.slow_down("chat.postMessage", 3, channel=channel)
    reminder = await first_reminder(h, channel)
    reply = await h.driver.click(reminder, ids.REMINDER_CONTACTED, user_id=ALICE)
    assert "Recorded" in await said(h, reply)


async def test_customers_contacted_resets_the_clock_once(clicking: Harness) -> None:
    h = clicking
    channel = await declare(h)
    reminder = await first_reminder(h, channel)
    first, second = await asyncio.gather(
        h.driver.click(reminder, ids.REMINDER_CONTACTED, user_id=ALICE),
        h.driver.click(reminder, ids.REMINDER_CONTACTED, user_id=BOB),
    )
    answers = [await said(h, first), await said(h, second)]
    assert sum("Recorded" in a for a in answers) == 1, answers
    assert sum("already handled" in a for a in answers) == 1, answers
    incident = await h.store.by_number(TEAM, 1)
    assert incident is not None
    assert [u.kind for u in await h.store.updates(incident.id)] == ["contacted"]


async def snoozed(h: Harness) -> tuple[str, dict[str, Any]]:
    """Wait for the first reminder and snooze it for 30 minutes; returns channel and reminder."""
    channel = await declare(h)
    reminder = await first_reminder(h, channel)
    reply = await h.driver.click(reminder, ids.reminder_snooze(30), user_id=ALICE)
    assert "Snoozed" in await said(h, reply)
    return channel, reminder


async def test_a_snooze_moves_the_reminder_by_the_minutes_chosen(clicking: Harness) -> None:
    h = clicking
    await snoozed(h)
    incident = await h.store.by_number(TEAM, 1)
    assert incident is not None
    row = await h.runtime.services.reminders.get(incident.id)
    assert row is not None
    assert timedelta(minutes=29) < row.due_at - utcnow() <= timedelta(minutes=30)


async def test_a_snoozed_reminder_does_not_escalate_before_its_new_time(
    clicking: Harness,
) -> None:
    h = clicking
    channel, _reminder = await snoozed(h)
    await asyncio.sleep(CLICK_GRACE_SECONDS + 1.5)
    assert not posts(h, channel, "overdue"), "no escalation while snoozed"
    assert len(reminders(h, channel)) == 1, "no new reminder while snoozed"


async def test_a_reminder_snoozed_once_cannot_be_snoozed_again(clicking: Harness) -> None:
    h = clicking
    _channel, reminder = await snoozed(h)
    again = await h.driver.click(reminder, ids.reminder_snooze(15), user_id=ALICE)
    assert "already handled" in await said(h, again)


async def test_overdue_reminder_escalates_to_the_lead_and_dms_the_owner(fast: Harness) -> None:
    h = fast
    channel = await declare(h)
    await h.driver.command("/incident", f"role comms <@{MARIA}>", user_id=ALICE, channel_id=channel)
    await first_reminder(h, channel)
    escalation = (
        await h.double.wait_for(lambda: posts(h, channel, "overdue"), timeout=REMINDER_WAIT)
    )[0]
    text = json.dumps(escalation["blocks"])
    assert f"<@{ALICE}>" in text and f"<@{MARIA}>" in text
    dms = await h.double.wait_for(lambda: h.double.dm_messages(MARIA))
    assert "overdue" in dms[0]["text"]


async def test_an_owner_who_left_hands_the_reminder_to_the_lead(fast: Harness) -> None:
    h = fast
    channel = await declare(h)
    await h.driver.command("/incident", f"role comms <@{MARIA}>", user_id=ALICE, channel_id=channel)
    await h.double.wait_for(lambda: posts(h, channel, f"made <@{MARIA}>"))
    h.double.workspace().users[MARIA]["deleted"] = True
    reminder = await first_reminder(h, channel)
    text = json.dumps(reminder["blocks"])
    assert f"<@{ALICE}>, a customer update" in text and "has left the workspace" in text


async def test_paused_incidents_get_no_reminders_until_resumed(fast: Harness) -> None:
    h = fast
    channel = await declare(h)
    await h.driver.command("/incident", "pause", user_id=ALICE, channel_id=channel)
    await h.double.wait_for(lambda: posts(h, channel, "paused customer-update reminders"))
    again = await h.driver.command("/incident", "pause", user_id=ALICE, channel_id=channel)
    assert "already paused" in await said(h, again)
    await asyncio.sleep(3)
    assert reminders(h, channel) == []
    await h.driver.command("/incident", "resume", user_id=ALICE, channel_id=channel)
    await h.double.wait_for(lambda: reminders(h, channel), timeout=4)
    assert len(reminders(h, channel)) == 1


async def test_severity_change_replans_the_next_update(fast: Harness) -> None:
    h = fast
    channel = await declare(h, "SEV3")
    incident = await h.store.by_number(TEAM, 1)
    assert incident is not None and incident.next_update_due is not None
    assert incident.next_update_due - incident.created_at == timedelta(seconds=6)
    await h.driver.command("/incident", "severity SEV1", user_id=ALICE, channel_id=channel)
    await h.double.wait_for(lambda: reminders(h, channel), timeout=4)
    incident = await h.store.by_number(TEAM, 1)
    assert incident is not None and incident.next_update_due is not None
    assert incident.next_update_due - incident.created_at == timedelta(seconds=2)


async def test_buttons_on_a_resolved_incident_say_so(fast: Harness) -> None:
    h = fast
    channel = await declare(h)
    reminder = await first_reminder(h, channel)
    incident = await h.store.by_number(TEAM, 1)
    assert incident is not None
    await h.store.change_field(incident.id, "status", incident.status, "resolved", ALICE)
    reply = await h.driver.click(reminder, ids.reminder_snooze(15), user_id=ALICE)
    assert "resolved" in await said(h, reply)
    update = await h.driver.command("/incident", "update", user_id=ALICE, channel_id=channel)
    assert "resolved" in await said(h, update)
    await asyncio.sleep(2.5)
    assert len(reminders(h, channel)) == 1 and posts(h, channel, "overdue") == []


async def test_slack_failures_delay_a_reminder_but_never_drop_it(fast: Harness) -> None:
    h = fast
    channel = await declare(h)
    h.double.fail_next("chat.postMessage", http_status=500, times=3)
    reminder = await h.double.wait_for(lambda: reminders(h, channel), timeout=10)
    assert len(reminder) == 1
    statuses = [c.http_status for c in h.double.calls_to("chat.postMessage")]
    assert statuses.count(500) == 3


async def test_missed_reminders_fire_once_after_a_restart(engine: AsyncEngine) -> None:
    h = await start_harness(engine, **FAST)
    try:
        channel = await declare(h)
        await h.runtime.stop()
        await asyncio.sleep(5)
        assert reminders(h, channel) == []
        runtime = await Runtime.start(make_settings(h.double.api_url, **FAST), engine)
        h.runtime = runtime
        await h.double.wait_for(lambda: reminders(h, channel), timeout=3)
        await asyncio.sleep(0.5)
        assert len(reminders(h, channel)) == 1, "one reminder, not a burst of stale ones"
    finally:
        await stop_harness(h)


async def test_a_claim_lost_in_a_crash_is_recovered_by_its_lease(fast: Harness) -> None:
    h = fast
    channel = await declare(h, "SEV3")
    incident = await h.store.by_number(TEAM, 1)
    assert incident is not None
    store = h.runtime.services.reminders
    await store.schedule(incident.id, TEAM, utcnow())
    claimed = await store.claim_due(utcnow(), "crashed-replica", timedelta(seconds=1), 10)
    assert [r.incident_id for r in claimed] == [incident.id]
    await asyncio.sleep(0.8)
    assert reminders(h, channel) == []
    await h.double.wait_for(lambda: reminders(h, channel), timeout=4)
    await asyncio.sleep(0.5)
    assert len(reminders(h, channel)) == 1
    assert await store.complete_many([completion(claimed[0], next_stage="due")]) == [False]


async def test_a_reminder_posted_just_before_a_crash_is_not_posted_again(fast: Harness) -> None:
    """The dead replica's message carries the row's version; the next claim finds it."""
    h = fast
    channel = await declare(h, "SEV3")
    incident = await h.store.by_number(TEAM, 1)
    assert incident is not None
    store = h.runtime.services.reminders
    await store.schedule(incident.id, TEAM, utcnow())
    claimed = await store.claim_due(utcnow(), "crashed-replica", timedelta(seconds=1), 10)
    assert len(claimed) == 1
    web = h.runtime.app.client
    await web.chat_postMessage(
        channel=channel,
        text="<@UALICE>, a customer update for INC-1 is due.",
        metadata=reminder_metadata(claimed[0]),
    )
    await asyncio.sleep(2.5)
    assert len(reminders(h, channel)) == 1, "the lease ran out, but nothing was posted twice"
    row = await store.get(incident.id)
    assert row is not None and row.seq > claimed[0].seq and row.sent_at is not None
    history_checks = h.double.ok_calls_to("conversations.history")
    assert history_checks and history_checks[0].args["include_all_metadata"] in (True, "true", "1")


async def test_the_composers_first_draft_names_no_customer(harness: Harness) -> None:
    """The same update reaches every customer, the customer channel and the status page."""
    h = harness
    channel = await declare(h, "SEV3")
    reply = await h.driver.command(
        "/incident", "customers add Acme, Globex", user_id=ALICE, channel_id=channel
    )
    await h.double.wait_for(lambda: h.double.responses_for(str(reply.response_url)))
    draft = composer_draft(await open_composer(h, channel))
    assert "Who is affected:" in draft
    assert "Acme" not in draft and "Globex" not in draft
