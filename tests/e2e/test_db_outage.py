"""PostgreSQL going away for a moment (a restart) does not take the bot down.

A TCP proxy sits between the bot and PostgreSQL; cutting it is what a restart looks like
from the bot's side: live connections drop and new ones are refused until it is back.
Requests in the gap are acknowledged in time and answered with a clear "try again";
nothing half-happens; once the database is back, commands work and due reminders go out.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from messages import ids, refusals
from storage.db import PING_WHEN_IDLE_SECONDS, create_engine
from storage.models import Reminder, utcnow
from tests.support.harness import (
    ALICE,
    BOB,
    POSTGRES_URL,
    REQUIRE_POSTGRES,
    STATEMENT_TIMEOUT,
    TEAM,
    Harness,
    postgres_reachable,
    start_harness,
    stop_harness,
)
from tests.support.helpers import (
    created_channel,
    ephemeral_texts,
    header_message,
    said,
    shown_text,
    team_joins,
)
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.postgres

ACK_DEADLINE = 3.0
REMINDERS = {
    # SEV2 (the default) falls due 3 s after the declare; the escalation is far enough away
    # that only the first reminder can be posted while the test watches.
    "customer_update_cadence": "SEV1=2s,SEV2=3s,SEV3=6s",
    "reminder_grace": "60s",
    "reminder_sweep_seconds": 0.5,
    "reminder_lease_seconds": 2,
}


@dataclass
class Proxied:
    """The bot's engine (through the proxy), the proxy, and a direct engine on the same schema
    for the test's own reads while the proxy is cut."""

    engine: AsyncEngine
    proxy: TcpProxy
    direct: AsyncEngine


@pytest.fixture
async def proxied() -> AsyncIterator[Proxied]:
    """An engine on a fresh schema whose every connection goes through a cuttable proxy."""
    if not await postgres_reachable():
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required but not reachable at {POSTGRES_URL}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")
    url = make_url(POSTGRES_URL)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    port = await proxy.start()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    async with admin.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    through_proxy = url.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    eng = create_engine(through_proxy, search_path=schema, statement_timeout=STATEMENT_TIMEOUT)
    direct = create_engine(POSTGRES_URL, search_path=schema)
    try:
        yield Proxied(eng, proxy, direct)
    finally:
        await proxy.restore()
        await eng.dispose()
        await direct.dispose()
        await proxy.stop()
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


async def running(proxied: Proxied, **overrides: object) -> AsyncIterator[tuple[Harness, TcpProxy]]:
    proxy = proxied.proxy
    h = await start_harness(proxied.engine, **overrides)
    try:
        yield h, proxy
    finally:
        await proxy.restore()  # a failed test must not leave shutdown waiting on a dead link
        await stop_harness(h)


@pytest.fixture
async def calm(proxied: Proxied) -> AsyncIterator[tuple[Harness, TcpProxy]]:
    async for pair in running(proxied):
        yield pair


@pytest.fixture
async def fast(proxied: Proxied) -> AsyncIterator[tuple[Harness, TcpProxy]]:
    async for pair in running(proxied, **REMINDERS):
        yield pair


async def declare(h: Harness, title: str = "Checkout down") -> str:
    reply = await h.driver.command(
        "/incident", f"declare {title}", user_id=ALICE, channel_id=h.general
    )
    assert reply.status == 200
    await h.double.wait_for(lambda: h.double.ok_calls_to("pins.add"))
    channel = str(created_channel(h)["id"])
    team_joins(h, channel)
    return channel


def header_edits(h: Harness, channel: str) -> list[Any]:
    return [c for c in h.double.calls_to("chat.update") if c.args.get("channel") == channel]


def reminder_posts(h: Harness, channel: str) -> list[Any]:
    """Every attempt to post the "update is due" reminder in ``channel``, failed or not."""
    return [
        c
        for c in h.double.calls_to("chat.postMessage")
        if c.args.get("channel") == channel and "is due" in str(c.args.get("text"))
    ]


async def health(h: Harness) -> tuple[int, dict[str, Any]]:
    """GET /healthz on the bot's own HTTP port: the status and the JSON it reports."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{h.runtime.port}/healthz") as response,
    ):
        return response.status, await response.json(content_type=None)


def channel_state(h: Harness, channel: str) -> str:
    return json.dumps(
        [h.double.messages(channel), h.double.pins(channel), h.double.topic(channel)],
        sort_keys=True,
        default=str,
    )


async def test_requests_in_the_gap_are_told_to_try_again_and_work_after(
    calm: tuple[Harness, TcpProxy],
) -> None:
    h, proxy = calm
    channel = await declare(h)
    header = header_message(h, channel)
    assert "nvestigating" in shown_text(header["blocks"])
    edits, before = len(header_edits(h, channel)), channel_state(h, channel)
    assert (await health(h))[0] == 200

    await proxy.cut()

    started = time.monotonic()
    status, checks = await health(h)
    assert status == 503 and checks["database"] != "ok", checks
    assert time.monotonic() - started < ACK_DEADLINE

    command = await h.driver.command(
        "/incident", "status identified", user_id=ALICE, channel_id=channel
    )
    assert command.status == 200 and command.elapsed < ACK_DEADLINE, command
    assert refusals.database_away() in await said(h, command)

    click = await h.driver.click(
        header, ids.STATUS_SELECT, user_id=BOB, selected_option_value="monitoring"
    )
    assert click.status == 200 and click.elapsed < ACK_DEADLINE, click
    assert refusals.database_away() in await said(h, click)

    # The process keeps serving: a request that needs no database is answered as usual.
    help_reply = await h.driver.command("/incident", "help", user_id=ALICE, channel_id=channel)
    assert help_reply.status == 200 and "/incident" in help_reply.text

    await asyncio.sleep(0.5)
    assert len(header_edits(h, channel)) == edits, "no header edit while the database is away"
    assert channel_state(h, channel) == before, "nothing changed in the incident channel"
    assert len(ephemeral_texts(h, str(command.response_url))) == 1, "told once, not twice"

    await proxy.restore()
    assert await health(h) == (200, {"ok": True, "database": "ok", "reminders": "ok"})
    untouched = await h.store.by_number(TEAM, 1)
    assert untouched is not None and untouched.status == "investigating", "nothing half-happened"

    again = await h.driver.command(
        "/incident", "status identified", user_id=ALICE, channel_id=channel
    )
    assert again.status == 200 and again.elapsed < ACK_DEADLINE, again
    await h.double.wait_for(lambda: len(header_edits(h, channel)) > edits)
    await h.double.wait_for(lambda: "dentified" in shown_text(header_message(h, channel)["blocks"]))
    incident = await h.store.by_number(TEAM, 1)
    assert incident is not None and incident.status == "identified"
    await asyncio.sleep(0.2)
    assert not any(
        refusals.database_away() in t for t in ephemeral_texts(h, str(again.response_url))
    )


async def test_the_first_request_after_a_quiet_restart_is_served(
    calm: tuple[Harness, TcpProxy],
) -> None:
    """Nobody asked anything while the database restarted: the pooled connections it dropped
    are found dead before use (they were idle), and the first command works at once."""
    h, proxy = calm
    channel = await declare(h)
    await asyncio.sleep(PING_WHEN_IDLE_SECONDS + 0.5)  # the pooled connections are idle

    await proxy.cut()
    await proxy.restore()

    command = await h.driver.command(
        "/incident", "status identified", user_id=ALICE, channel_id=channel
    )
    assert command.status == 200, command
    await h.double.wait_for(lambda: "dentified" in shown_text(header_message(h, channel)["blocks"]))
    incident = await h.store.by_number(TEAM, 1)
    assert incident is not None and incident.status == "identified"
    assert not any(
        refusals.database_away() in t for t in ephemeral_texts(h, str(command.response_url))
    )


async def declare_before_its_reminder(h: Harness) -> tuple[str, Reminder]:
    """Declare; return the channel and the incident's first reminder, not yet due."""
    channel = await declare(h)
    incident = await h.store.by_number(TEAM, 1)
    assert incident is not None
    row = await h.runtime.services.reminders.get(incident.id)
    assert row is not None and row.due_at > utcnow(), "the reminder fell due before the test"
    return channel, row


async def test_a_reminder_due_during_the_gap_goes_out_once_after_it(
    fast: tuple[Harness, TcpProxy],
) -> None:
    h, proxy = fast
    channel, row = await declare_before_its_reminder(h)

    await proxy.cut()
    cut_at = time.monotonic()
    # Let the reminder fall due and the sweep (every 0.5 s) fail against the gap a few times.
    await asyncio.sleep((row.due_at - utcnow()).total_seconds() + 1.5)
    assert reminder_posts(h, channel) == []
    assert h.runtime.services.engine.running, "the reminder engine survived the gap"
    assert (await health(h))[0] == 503

    await proxy.restore()
    restored_at = time.monotonic()

    await h.double.wait_for(lambda: reminder_posts(h, channel), timeout=5)
    delay = time.monotonic() - restored_at
    assert delay < 3, f"the reminder took {delay:.1f}s after the database came back"
    await asyncio.sleep(1.5)
    posts = reminder_posts(h, channel)
    assert len(posts) == 1, [p.args.get("text") for p in posts]
    assert posts[0].response.get("ok")
    assert restored_at - cut_at > 1.5
    row = await h.runtime.services.reminders.get(row.incident_id)
    assert row is not None and row.stage == "escalate"


async def test_a_reminder_goes_out_over_a_new_connection_when_the_old_ones_go_silent(
    fast: tuple[Harness, TcpProxy],
) -> None:
    """A link that dies without a reset: the bot's pooled connections get no answers, ever.
    Each round trip gives up after the statement timeout and the next one connects anew."""
    h, proxy = fast
    channel, row = await declare_before_its_reminder(h)

    proxy.blackhole()
    silent_at, connections_before = time.monotonic(), proxy.accepted

    due_in = (row.due_at - utcnow()).total_seconds()
    await h.double.wait_for(
        lambda: reminder_posts(h, channel), timeout=due_in + 4 * STATEMENT_TIMEOUT
    )
    assert proxy.accepted > connections_before, "it went out over a connection opened since"
    await asyncio.sleep(1.5)
    posts = reminder_posts(h, channel)
    assert len(posts) == 1, [p.args.get("text") for p in posts]
    assert time.monotonic() - silent_at > due_in


async def reminder_row(direct: AsyncEngine, incident_id: int) -> dict[str, Any]:
    """The reminder row as stored, read past the proxy."""
    async with direct.connect() as connection:
        row = await connection.execute(
            text(
                "SELECT state, stage, seq, attempts, claimed_by FROM reminders "
                "WHERE incident_id = :id AND kind = 'customer_update'"
            ),
            {"id": incident_id},
        )
        return dict(row.mappings().one())


async def test_a_delivery_cut_off_midway_is_finished_once_after_the_gap(
    proxied: Proxied, fast: tuple[Harness, TcpProxy], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reminder reaches Slack, then the database vanishes before the row is marked
    sent: after the gap the lease runs out and the retry finds the message, not a repost."""
    h, proxy = fast
    channel = await declare(h)
    incident = await h.store.by_number(TEAM, 1)
    assert incident is not None
    delivery = h.runtime.services.engine.delivery
    post_reminder = delivery._remind
    cuts: list[float] = []

    async def post_then_lose_the_database(delivery: Any) -> str:
        ts = await post_reminder(delivery)
        if not cuts:
            await proxy.cut()
            cuts.append(time.monotonic())
        return ts

    monkeypatch.setattr(delivery, "_remind", post_then_lose_the_database)

    await h.double.wait_for(lambda: cuts, timeout=6)
    assert len(reminder_posts(h, channel)) == 1
    await asyncio.sleep(1.0)
    gap = await reminder_row(proxied.direct, incident.id)
    assert gap["state"] == "claimed" and gap["stage"] == "due", "not marked sent in the gap"
    assert (await health(h))[0] == 503

    await proxy.restore()

    async def finished() -> dict[str, Any] | None:
        row = await reminder_row(proxied.direct, incident.id)
        return row if row["stage"] == "escalate" else None

    deadline = time.monotonic() + 6
    while (row := await finished()) is None:
        assert time.monotonic() < deadline, await reminder_row(proxied.direct, incident.id)
        await asyncio.sleep(0.1)
    assert row["state"] == "pending" and row["seq"] == gap["seq"] + 1, (gap, row)
    await asyncio.sleep(0.5)
    posts = reminder_posts(h, channel)
    assert len(posts) == 1, [p.args.get("text") for p in posts]
    assert h.double.ok_calls_to("conversations.history"), "the retry looked for its message"
    adopted = await h.runtime.services.reminders.get(incident.id)
    assert adopted is not None and adopted.message_ts == posts[0].response["ts"], (
        "the retry adopted the message posted before the gap instead of posting again"
    )
