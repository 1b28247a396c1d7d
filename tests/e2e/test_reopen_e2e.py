"""Reopen from where people can type: an archived incident channel has no message box, so
``/incident reopen INC-<n> <reason>`` works from any channel, for the people taking part."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.sandbox.driver import ArchivedChannelError
from messages import ids, refusals
from storage.models import utcnow
from tests.support.customer_helpers import close_values, declare_with, opened_view
from tests.support.harness import ALICE, TEAM, Harness, start_harness, stop_harness
from tests.support.helpers import reply_text, said

ARCHIVING = {"archive_on_close": True, "admin_users": ""}
STRANGER = "UCAROL"


@pytest.fixture
async def archiving(engine: AsyncEngine) -> AsyncIterator[Harness]:
    h = await start_harness(engine, **ARCHIVING)
    h.double.add_user(STRANGER, "carol")
    yield h
    await stop_harness(h)


async def closed_and_archived(h: Harness) -> str:
    """Declare, then close an incident with no customers: it closes and is archived."""
    channel = await declare_with(h)
    before = len(h.double.ok_calls_to("views.open"))
    await h.driver.command("/incident", "close", user_id=ALICE, channel_id=channel)
    await h.double.wait_for(lambda: len(h.double.ok_calls_to("views.open")) > before)
    form = opened_view(h, ids.CLOSE_CALLBACK_ID)
    await h.driver.submit_view(str(form["id"]), close_values(), user_id=ALICE)
    await h.double.wait_for(lambda: h.double.channel(channel)["is_archived"], timeout=10)  # type: ignore[index]
    return channel


async def reopen_from_general(h: Harness, text: str, user: str = ALICE) -> str:
    reply = await h.driver.command(
        "/incident", f"reopen {text}", user_id=user, channel_id=h.general
    )
    return await said(h, reply)


async def test_a_closed_incident_is_reopened_from_another_channel_and_its_channel_unarchived(
    archiving: Harness,
) -> None:
    h = archiving
    channel = await closed_and_archived(h)
    answer = await reopen_from_general(h, "INC-1 errors are back")
    assert "INC-1 is reopened" in answer and f"<#{channel}>" in answer
    assert not h.double.channel(channel)["is_archived"]  # type: ignore[index]
    incident = await h.store.by_number(TEAM, 1)
    assert incident is not None and incident.status == "investigating"
    notes = [
        m for m in h.double.messages(channel) if "reopened INC-1: errors are back" in m["text"]
    ]
    assert len(notes) == 1


async def test_after_a_reopen_the_next_customer_update_is_due_one_cadence_after_it(
    archiving: Harness,
) -> None:
    h = archiving
    channel = await closed_and_archived(h)
    reopened = utcnow()
    await reopen_from_general(h, "INC-1 errors are back")
    await h.double.wait_for(
        lambda: [m for m in h.double.messages(channel) if "reopened INC-1" in m["text"]]
    )
    incident = await h.store.by_number(TEAM, 1)
    assert incident is not None and incident.next_update_due is not None
    cadence = h.runtime.services.settings.cadence(incident.severity)
    assert reopened + cadence <= incident.next_update_due <= utcnow() + cadence
    reminder = await h.runtime.services.reminders.get(incident.id)
    assert reminder is not None and reminder.due_at == incident.next_update_due


async def test_reopen_by_number_without_a_reason_is_refused_with_the_usage(
    archiving: Harness,
) -> None:
    h = archiving
    await closed_and_archived(h)
    reply = await h.driver.command("/incident", "reopen INC-1", user_id=ALICE, channel_id=h.general)
    assert refusals.reopen_usage() in reply_text(reply)
    incident = await h.store.by_number(TEAM, 1)
    assert incident is not None and incident.status == "closed"


async def test_reopen_of_an_unknown_incident_number_says_there_is_none(archiving: Harness) -> None:
    h = archiving
    await closed_and_archived(h)
    assert "There is no incident INC-9" in await reopen_from_general(h, "INC-9 errors are back")


async def test_someone_not_taking_part_cannot_reopen_by_number(archiving: Harness) -> None:
    h = archiving
    channel = await closed_and_archived(h)
    answer = await reopen_from_general(h, "inc-1 errors are back", user=STRANGER)
    assert "Only people taking part in INC-1" in answer
    assert h.double.channel(channel)["is_archived"]  # type: ignore[index]
    incident = await h.store.by_number(TEAM, 1)
    assert incident is not None and incident.status == "closed"


async def test_the_double_refuses_a_slash_command_from_an_archived_channel(
    archiving: Harness,
) -> None:
    h = archiving
    channel = await closed_and_archived(h)
    with pytest.raises(ArchivedChannelError, match="archived"):
        await h.driver.command(
            "/incident", "reopen errors are back", user_id=ALICE, channel_id=channel
        )


async def test_help_says_how_to_reopen_from_any_channel(archiving: Harness) -> None:
    h = archiving
    reply = await h.driver.command("/incident", "help", user_id=ALICE, channel_id=h.general)
    assert "reopen INC-<n> <reason>` from any channel" in reply_text(reply)
