"""Only people taking part in an incident can change it; handing over the lead is limited
like closing (lead, comms owner, admin)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from messages import ids, refusals
from tests.support.harness import ALICE, BOB, MARIA, TEAM, Harness, start_harness, stop_harness
from tests.support.helpers import created_channel, eventually, header_message, said

ADMIN = "UADMIN"


@pytest.fixture
async def with_admin(engine: AsyncEngine) -> AsyncIterator[Harness]:
    h = await start_harness(engine, admin_users=ADMIN)
    h.double.add_user(ADMIN, "admin")
    yield h
    await stop_harness(h)


async def declare(h: Harness, severity: str) -> str:
    """Declare as Alice; nobody else has joined the channel yet."""
    reply = await h.driver.command(
        "/incident", "declare Checkout down", user_id=ALICE, channel_id=h.general
    )
    assert reply.status == 200 and severity == "SEV2"
    await h.double.wait_for(lambda: h.double.ok_calls_to("pins.add"))
    return str(created_channel(h)["id"])


async def status_of(h: Harness) -> str:
    incident = await h.store.by_number(TEAM, 1)
    assert incident is not None
    return incident.status


async def test_someone_outside_the_incident_cannot_change_it_until_they_join(
    with_admin: Harness,
) -> None:
    h = with_admin
    channel = await declare(h, "SEV2")
    assert MARIA not in h.double.members(channel)
    header = header_message(h, channel)
    click = await h.driver.click(
        header, ids.STATUS_SELECT, user_id=MARIA, selected_option_value="identified"
    )
    assert f"Join <#{channel}>" in await said(h, click)
    assert await status_of(h) == "investigating"

    h.double.workspace().channels[channel].members.append(MARIA)
    again = await h.driver.click(
        header, ids.STATUS_SELECT, user_id=MARIA, selected_option_value="identified"
    )
    assert again.status == 200
    await eventually(lambda: has_status(h, "identified"))

    admin = await h.driver.click(
        header, ids.SEVERITY_SELECT, user_id=ADMIN, selected_option_value="SEV1"
    )
    assert admin.status == 200
    await eventually(lambda: has_severity(h, "SEV1"))


async def test_only_lead_comms_or_admin_hand_over_the_lead(with_admin: Harness) -> None:
    h = with_admin
    channel = await declare(h, "SEV2")
    h.double.workspace().channels[channel].members.append(BOB)

    async def run(text: str, user: str) -> str:
        reply = await h.driver.command("/incident", text, user_id=user, channel_id=channel)
        return await said(h, reply)

    async def send(text: str, user: str) -> None:
        reply = await h.driver.command("/incident", text, user_id=user, channel_id=channel)
        assert reply.status == 200

    refused = await run(f"role lead <@{BOB}>", BOB)
    assert refusals.who_may_hand_over_the_lead(1, f"<@{ALICE}>") in refused
    await send(f"role tech <@{BOB}>", BOB)
    await eventually(lambda: holds(h, "tech", BOB))
    assert await holds(h, "lead", ALICE)
    await send(f"role lead <@{BOB}>", ALICE)
    await eventually(lambda: holds(h, "lead", BOB))
    taken_back = await run(f"role lead <@{ALICE}>", ALICE)
    assert "Only the incident lead" in taken_back and await holds(h, "lead", BOB)
    await send(f"role lead <@{ALICE}>", ADMIN)
    await eventually(lambda: holds(h, "lead", ALICE))


async def holds(h: Harness, role: str, user: str) -> bool:
    incident = await h.store.by_number(TEAM, 1)
    assert incident is not None
    fresh = await h.store.reload(incident.id)
    return any(r.role == role and r.user_id == user for r in fresh.roles)


async def has_status(h: Harness, status: str) -> bool:
    return await status_of(h) == status


async def has_severity(h: Harness, severity: str) -> bool:
    incident = await h.store.by_number(TEAM, 1)
    return incident is not None and incident.severity == severity
