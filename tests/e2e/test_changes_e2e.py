"""Roles, status, severity, list and help, end to end through the real app."""

from __future__ import annotations

import asyncio
from typing import Any

from messages import ids, refusals
from tests.support.harness import ALICE, BOB, GONE, MARIA, ROBOT, TEAM, Harness
from tests.support.helpers import (
    created_channel,
    header_message,
    reply_text,
    said,
    shown_text,
    team_joins,
)


async def open_incident(h: Harness, title: str = "Checkout down") -> str:
    """Declare an incident as Alice and return its channel id once the header is pinned."""
    await h.driver.command("/incident", f"declare {title}", user_id=ALICE, channel_id=h.general)
    await h.double.wait_for(lambda: [c for c in h.double.calls_to("pins.add") if c.response["ok"]])
    channel = str(created_channel(h)["id"])
    team_joins(h, channel)
    return channel


async def run(h: Harness, text: str, channel: str, user: str = ALICE) -> Any:
    reply = await h.driver.command("/incident", text, user_id=user, channel_id=channel)
    assert reply.status == 200
    return reply


def bot_posts(h: Harness, channel: str) -> list[str]:
    return [m["text"] for m in h.double.messages(channel)]


async def wait_header(h: Harness, channel: str, *expected: str) -> str:
    def shows() -> str | None:
        text = shown_text(header_message(h, channel)["blocks"])
        return text if all(e in text for e in expected) else None

    return await h.double.wait_for(shows)


async def test_role_assignment_invites_announces_and_edits_header(harness: Harness) -> None:
    h = harness
    channel = await open_incident(h)
    header_ts = header_message(h, channel)["ts"]
    await run(h, f"role comms <@{MARIA}|maria>", channel)
    await wait_header(h, channel, f"<@{MARIA}>")
    assert MARIA in h.double.members(channel)
    assert header_message(h, channel)["ts"] == header_ts
    posts_with_blocks = [m for m in h.double.messages(channel) if m.get("blocks")]
    assert len(posts_with_blocks) == 1, "the header is edited in place, never re-posted"
    assert any(f"<@{MARIA}>" in t and "comms" in t.lower() for t in bot_posts(h, channel))
    incident = await h.store.by_number(TEAM, 1)
    assert incident is not None
    events = await h.store.timeline(incident.id)
    assert any(e.kind == "role_assigned" and MARIA in e.detail for e in events)


async def test_handover_tells_previous_and_new_holder(harness: Harness) -> None:
    h = harness
    channel = await open_incident(h)
    await run(h, f"role comms <@{BOB}>", channel)
    await h.double.wait_for(lambda: any(f"<@{BOB}>" in t for t in bot_posts(h, channel)))
    await run(h, f"role comms <@{MARIA}|maria>", channel)
    handover = await h.double.wait_for(
        lambda: [t for t in bot_posts(h, channel) if f"<@{MARIA}>" in t and f"<@{BOB}>" in t]
    )
    assert handover
    await wait_header(h, channel, f"<@{MARIA}>")


async def test_roles_from_the_header_picker(harness: Harness) -> None:
    h = harness
    channel = await open_incident(h)
    header = header_message(h, channel)
    reply = await h.driver.click(header, ids.role_select("tech"), user_id=ALICE, selected_user=BOB)
    assert reply.status == 200
    await wait_header(h, channel, f"<@{BOB}>")
    assert BOB in h.double.members(channel)


async def test_lead_handover_from_the_reporter(harness: Harness) -> None:
    h = harness
    channel = await open_incident(h)
    await run(h, f"role lead <@{BOB}>", channel)
    text = await wait_header(h, channel, f"<@{BOB}>")
    assert text
    incident = await h.store.by_number(TEAM, 1)
    assert incident is not None
    assert {r.role: r.user_id for r in incident.roles}["lead"] == BOB


async def test_bad_role_input_gets_specific_answers(harness: Harness) -> None:
    h = harness
    channel = await open_incident(h)
    cases = [
        (f"role boss <@{BOB}>", "not a role"),
        ("role comms @maria", "not a user mention"),
        ("role comms", "Usage"),
    ]
    for text, expected in cases:
        answer = await said(h, await run(h, text, channel))
        assert expected in answer, (text, answer)
    for text, expected in (
        (f"role comms <@{GONE}>", refusals.user_left(GONE)),
        (f"role comms <@{ROBOT}>", refusals.user_is_a_bot(ROBOT)),
        ("role comms <@UNOBODY1>", refusals.unknown_user("UNOBODY1")),
    ):
        answer = await said(h, await run(h, text, channel))
        assert expected in answer, (text, answer)
    incident = await h.store.by_number(TEAM, 1)
    assert incident is not None
    assert {r.role for r in incident.roles} == {"lead"}


async def test_in_channel_commands_outside_an_incident_channel(harness: Harness) -> None:
    h = harness
    await open_incident(h)
    for text in ("status identified", "severity SEV1", f"role comms <@{BOB}>"):
        answer = await said(h, await run(h, text, h.general))
        assert refusals.not_an_incident_channel(text.split()[0]) in answer


async def test_status_changes_follow_the_lifecycle(harness: Harness) -> None:
    h = harness
    channel = await open_incident(h)
    await run(h, "status identified", channel)
    await wait_header(h, channel, "dentified")
    await h.double.wait_for(lambda: "dentified" in h.double.topic(channel))
    for text, expected in (
        ("status identified", "already"),
        ("status resolved", "/incident close"),
        ("status fixed", "not a status"),
    ):
        answer = await said(h, await run(h, text, channel))
        assert expected in answer, (text, answer)
    incident = await h.store.by_number(TEAM, 1)
    assert incident is not None and incident.status == "identified"
    changes = [e for e in await h.store.timeline(incident.id) if e.kind == "status_changed"]
    assert len(changes) == 1


async def test_a_status_chosen_in_the_header_is_applied(harness: Harness) -> None:
    h = harness
    channel = await open_incident(h)
    header = header_message(h, channel)
    await h.driver.click(header, ids.STATUS_SELECT, user_id=BOB, selected_option_value="monitoring")
    await wait_header(h, channel, "onitoring")
    incident = await h.store.by_number(TEAM, 1)
    assert incident is not None and incident.status == "monitoring"


async def test_a_severity_chosen_in_the_header_replans_the_next_update(harness: Harness) -> None:
    h = harness
    channel = await open_incident(h)
    header = header_message(h, channel)
    await h.driver.click(header, ids.SEVERITY_SELECT, user_id=BOB, selected_option_value="SEV1")
    await wait_header(h, channel, "SEV1")
    incident = await h.store.by_number(TEAM, 1)
    assert incident is not None and incident.severity == "SEV1"
    assert incident.next_update_due is not None
    assert (incident.next_update_due - incident.created_at).total_seconds() == 30 * 60


async def test_the_severity_command_reads_the_severity_in_any_case(harness: Harness) -> None:
    h = harness
    channel = await open_incident(h)
    await run(h, "severity sev3", channel)
    await wait_header(h, channel, "SEV3")


async def test_the_current_severity_is_refused_as_already_set(harness: Harness) -> None:
    h = harness
    channel = await open_incident(h)
    await run(h, "severity sev3", channel)
    await wait_header(h, channel, "SEV3")
    assert "already" in await said(h, await run(h, "severity SEV3", channel))


async def test_a_severity_that_is_not_configured_is_refused(harness: Harness) -> None:
    h = harness
    channel = await open_incident(h)
    assert "not a severity" in await said(h, await run(h, "severity SEV9", channel))


async def test_double_click_changes_state_once(harness: Harness) -> None:
    h = harness
    channel = await open_incident(h)
    header = header_message(h, channel)
    await asyncio.gather(
        *(
            h.driver.click(
                header, ids.STATUS_SELECT, user_id=BOB, selected_option_value="identified"
            )
            for _ in range(3)
        )
    )
    await wait_header(h, channel, "dentified")
    await asyncio.sleep(0.2)
    incident = await h.store.by_number(TEAM, 1)
    assert incident is not None
    changes = [e for e in await h.store.timeline(incident.id) if e.kind == "status_changed"]
    assert len(changes) == 1


async def test_the_list_with_nothing_open_says_so(harness: Harness) -> None:
    h = harness
    answer = await said(h, await run(h, "list", h.general))
    assert "No open incidents" in answer


async def test_the_list_links_each_open_incident_by_its_title(harness: Harness) -> None:
    h = harness
    channel = await open_incident(h, "Search broken")
    answer = await said(h, await run(h, "list", h.general))
    assert f"<#{channel}>" in answer and "Search broken" in answer


async def test_help_names_the_subcommands(harness: Harness) -> None:
    h = harness
    help_reply = await run(h, "help", h.general)
    for sub in ("declare", "role", "status", "severity", "list"):
        assert sub in reply_text(help_reply)


async def test_unknown_subcommand_suggests_the_closest(harness: Harness) -> None:
    h = harness
    reply = await run(h, "stauts identified", h.general)
    assert "/incident status" in reply_text(reply)
    reply = await run(h, "xyzzy", h.general)
    assert "/incident help" in reply_text(reply)


DECLARE_NOPE = b"command=%2Fincident&text=declare+Nope&team_id=T0AMENDS&user_id=UALICE"


async def test_an_unsigned_request_is_refused_and_does_nothing(harness: Harness) -> None:
    h = harness
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    unsigned = await h.driver.post_raw(DECLARE_NOPE, form)
    assert unsigned.status == 401
    await asyncio.sleep(0.1)
    assert h.double.calls_to("conversations.create") == []


async def test_a_request_signed_long_ago_is_refused_and_does_nothing(harness: Harness) -> None:
    h = harness
    stale_headers = h.driver.sign(DECLARE_NOPE, timestamp=1_000_000_000)
    stale_headers["Content-Type"] = "application/x-www-form-urlencoded"
    stale = await h.driver.post_raw(DECLARE_NOPE, stale_headers)
    assert stale.status == 401
    await asyncio.sleep(0.1)
    assert h.double.calls_to("conversations.create") == []
