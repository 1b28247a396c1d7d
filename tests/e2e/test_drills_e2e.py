"""Drills end to end: ``/incident drill <playbook>`` rehearses a playbook's scenario as a
marked incident that never reaches customers, the broadcast channel or the figures."""

from __future__ import annotations

import json
from typing import Any

from messages import refusals
from messages.ids import UpdateFields
from messages.model import DRILL_MARK
from tests.support.harness import ALICE, TEAM, Harness
from tests.support.helpers import (
    created_channel,
    ephemeral_texts,
    header_message,
    incident_channels,
    said,
)

PLAYBOOK = "Card payments failing"
"""One of the shipped examples (the harness sets no PLAYBOOKS_DIR)."""
CLEAN = "We're sorry: checkout fails for some of you. We are fixing it. Next update by 14:00 UTC."


async def start_drill(h: Harness, name: str = "card-payments-failing") -> str:
    reply = await h.driver.command(
        "/incident", f"drill {name}", user_id=ALICE, channel_id=h.general
    )
    await h.double.wait_for(
        lambda: [t for t in ephemeral_texts(h, reply.response_url) if "is open in" in t]
    )
    await h.double.wait_for(lambda: h.double.ok_calls_to("pins.add"))
    return str(created_channel(h)["id"])


def readable(message: dict[str, Any]) -> str:
    return str(message.get("text", "")) + json.dumps(
        message.get("blocks") or [], ensure_ascii=False
    )


async def post_update(h: Harness, channel: str) -> None:
    """Alice writes a customer update in the composer; returns once the whole post is done
    (its last step edits the header)."""
    await h.driver.command("/incident", "update", user_id=ALICE, channel_id=channel)
    opened = await h.double.wait_for(lambda: h.double.ok_calls_to("views.open"))
    edits = len(h.double.ok_calls_to("chat.update"))
    view_id = opened[-1].response["view"]["id"]
    f = UpdateFields
    values = {
        f.TEXT_BLOCK: {f.TEXT_ACTION: CLEAN},
        f.PUBLIC_TITLE_BLOCK: {f.PUBLIC_TITLE_ACTION: "Card payments failing"},
    }
    await h.driver.submit_view(view_id, values, user_id=ALICE)
    await h.double.wait_for(
        lambda: [m for m in h.double.messages(channel) if "Customer update #1" in readable(m)]
    )
    await h.double.wait_for(lambda: len(h.double.ok_calls_to("chat.update")) > edits)


async def test_a_drill_opens_a_channel_marked_drill(harness: Harness) -> None:
    await start_drill(harness)
    assert created_channel(harness)["name"] == "drill-1-card-payments-failing"


async def test_a_drill_takes_the_playbooks_name_and_severity_and_records_both(
    harness: Harness,
) -> None:
    await start_drill(harness)
    incident = await harness.store.by_number(TEAM, 1)
    assert incident is not None
    assert (incident.drill, incident.playbook, incident.title, incident.severity) == (
        True,
        PLAYBOOK,
        PLAYBOOK,
        "SEV1",
    )


async def test_a_drills_header_is_marked_drill(harness: Harness) -> None:
    channel = await start_drill(harness)
    header = header_message(harness, channel)
    assert DRILL_MARK in header["text"]
    assert DRILL_MARK in header["blocks"][0]["text"]["text"]


async def test_a_drill_is_announced_nowhere_but_privately_to_whoever_started_it(
    harness: Harness,
) -> None:
    h = harness
    channel = await start_drill(h)
    assert h.double.messages(h.broadcast) == []
    assert h.double.messages(h.general) == []
    assert [
        c for c in h.double.ok_calls_to("chat.postMessage") if c.args["channel"] != channel
    ] == []


async def test_a_drill_never_posts_to_the_customer_channel(harness: Harness) -> None:
    h = harness
    channel = await start_drill(h)
    await post_update(h, channel)
    assert h.double.messages(h.customers) == []


async def test_a_drills_customer_update_is_shown_in_its_channel_marked_sent_to_nobody(
    harness: Harness,
) -> None:
    h = harness
    channel = await start_drill(h)
    await post_update(h, channel)
    posted = next(m for m in h.double.messages(channel) if "Customer update #1" in readable(m))
    assert DRILL_MARK in readable(posted) and "sent to no customer" in readable(posted)


async def test_every_message_the_bot_posts_in_a_drill_is_marked(harness: Harness) -> None:
    """The header, the playbook's steps and the note that it was applied, the notes of a
    role, a status and a severity change, a customer update."""
    h = harness
    channel = await start_drill(h)
    for text in ("role comms <@UMARIA|maria>", "status identified", "severity SEV2"):
        before = len(h.double.messages(channel))
        await h.driver.command("/incident", text, user_id=ALICE, channel_id=channel)
        await h.double.wait_for(lambda n=before: len(h.double.messages(channel)) > n)
    await post_update(h, channel)
    messages = h.double.messages(channel)
    assert len(messages) == 7
    assert [m for m in messages if DRILL_MARK not in readable(m)] == []


async def test_a_drill_gets_its_playbooks_steps_to_tick(harness: Harness) -> None:
    h = harness
    channel = await start_drill(h)
    incident = await h.store.by_number(TEAM, 1)
    assert incident is not None and incident.playbook == PLAYBOOK
    assert any("Done ✓" in readable(m) for m in h.double.messages(channel))


async def test_a_drill_is_left_out_of_the_workspace_figures(harness: Harness) -> None:
    h = harness
    await start_drill(h)
    reply = await h.driver.command("/incident", "stats 30d", user_id=ALICE, channel_id=h.general)
    assert "No incidents were declared in this window." in await said(h, reply)


async def test_the_incident_list_shows_a_drill_marked(harness: Harness) -> None:
    h = harness
    await start_drill(h)
    reply = await h.driver.command("/incident", "list", user_id=ALICE, channel_id=h.general)
    listed = await said(h, reply)
    assert f"{DRILL_MARK} · INC-1" in listed


async def test_a_drill_of_an_unknown_playbook_is_refused_with_the_playbook_names(
    harness: Harness,
) -> None:
    h = harness
    reply = await h.driver.command(
        "/incident", "drill tornado", user_id=ALICE, channel_id=h.general
    )
    names = [loaded.playbook.name for loaded in h.runtime.services.drills.catalogue.loaded]
    assert json.loads(await said(h, reply))["text"] == refusals.unknown_playbook("tornado", names)
    assert incident_channels(h) == []
