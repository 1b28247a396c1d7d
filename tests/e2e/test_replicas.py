"""Several replicas on one PostgreSQL share the reminders and deliver each exactly once."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter

import pytest
from sqlalchemy import text

from bot.runtime.process import Runtime
from bot.sandbox.double.server import SlackDouble
from bot.sandbox.driver import SlackDriver
from storage.db import create_engine
from tests.support.harness import (
    ALICE,
    POSTGRES_URL,
    REQUIRE_POSTGRES,
    SIGNING_SECRET,
    make_settings,
    postgres_reachable,
)

REPLICAS = 3
INCIDENTS = 30
SETTINGS = {
    "customer_update_cadence": "SEV1=2s,SEV2=4s,SEV3=6s",
    "reminder_grace": "1s",
    "reminder_sweep_seconds": 0.3,
    "reminder_lease_seconds": 5,
}


def claims(runtime: Runtime) -> int:
    """How many reminders this replica claimed (``amends_reminders_due``)."""
    return int(runtime.metrics.registry.get_sample_value("amends_reminders_due_total") or 0)


async def test_replicas_share_the_reminders_and_deliver_each_exactly_once() -> None:
    """Every incident gets its reminder and its escalation; no version of a reminder reaches
    Slack twice; each is claimed and completed by exactly one replica; and the work really
    was shared (at least two replicas delivered some), so "once" is not one replica doing
    everything. (The next round may have begun for the first incidents: it counts too.)"""
    if not await postgres_reachable():
        if REQUIRE_POSTGRES:
            pytest.fail("PostgreSQL is required for the replica test")
        pytest.skip("PostgreSQL not reachable")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    async with admin.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    double = SlackDouble(bot_token="xoxb-test")
    await double.start()
    double.add_user(ALICE, "alice")
    general = double.add_channel("general", members=[ALICE])["id"]
    settings = make_settings(double.api_url, **SETTINGS)

    def reminder_posts(marker: str) -> list[tuple[str, str]]:
        """(channel, metadata) of the bot's reminder posts whose text has ``marker``."""
        return [
            (str(c.args["channel"]), json.dumps(c.args.get("metadata"), sort_keys=True))
            for c in double.ok_calls_to("chat.postMessage")
            if marker in str(c.args.get("text")) and str(c.args.get("channel", "")).startswith("C")
        ]

    replicas = [
        await Runtime.start(settings, create_engine(POSTGRES_URL, search_path=schema))
        for _ in range(REPLICAS)
    ]
    await replicas[0].serve_http(host="127.0.0.1", port=0)
    driver = SlackDriver(
        bot_url=replicas[0].events_url, signing_secret=SIGNING_SECRET, double=double
    )
    try:
        await asyncio.gather(
            *(
                driver.command(
                    "/incident", f"declare Outage {i}", user_id=ALICE, channel_id=general
                )
                for i in range(INCIDENTS)
            )
        )
        await double.wait_for(lambda: len(double.ok_calls_to("pins.add")) == INCIDENTS, timeout=30)
        await double.wait_for(lambda: len(reminder_posts("is due")) >= INCIDENTS, timeout=15)
        await double.wait_for(lambda: len(reminder_posts("overdue")) >= INCIDENTS, timeout=10)
        await asyncio.sleep(1)
        channels = {
            str(c.response["channel"]["id"]) for c in double.ok_calls_to("conversations.create")
        }
    finally:
        await driver.close()
        for replica in replicas:
            await replica.stop()
        await double.stop()
    try:
        due, overdue = reminder_posts("is due"), reminder_posts("overdue")
        for posts in (due, overdue):
            assert {channel for channel, _ in posts} == set(channels), "none lost"
        versions = Counter(metadata for _, metadata in due + overdue)
        twice = {version: n for version, n in versions.items() if n > 1}
        assert not twice, f"no version posted twice: {twice}"
        delivered = [len(r.services.engine.lateness) for r in replicas]
        assert sum(delivered) == len(versions), f"each completed by exactly one: {delivered}"
        assert sum(claims(r) for r in replicas) == len(versions), "and claimed by exactly one"
        assert sum(1 for n in delivered if n) >= 2, f"the work was shared: {delivered}"
    finally:
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()
