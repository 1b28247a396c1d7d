"""Several replicas on one PostgreSQL never deliver the same reminder twice."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import pytest
from sqlalchemy import text

from bot.runtime import Runtime
from bot.sandbox.driver import SlackDriver
from bot.sandbox.slack_double import SlackDouble
from storage.db import create_engine
from tests.conftest import (
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


async def test_three_replicas_deliver_each_reminder_once() -> None:
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

    def sent(marker: str) -> list[str]:
        """Channels of the bot's posts whose text has ``marker`` (DMs left out)."""
        return [
            str(c.args["channel"])
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
        await double.wait_for(lambda: len(sent("is due")) == INCIDENTS, timeout=15)
        await double.wait_for(lambda: len(sent("overdue")) >= INCIDENTS, timeout=10)
        await asyncio.sleep(1)
        due, overdue = Counter(sent("is due")), Counter(sent("overdue"))
        assert len(due) == INCIDENTS and set(due.values()) == {1}, due
        assert len(overdue) == INCIDENTS and set(overdue.values()) == {1}, overdue
        delivered_by = {len(r.services.engine.lateness) for r in replicas}
        assert sum(len(r.services.engine.lateness) for r in replicas) == 2 * INCIDENTS
        assert delivered_by != {0}
    finally:
        await driver.close()
        for replica in replicas:
            await replica.stop()
        await double.stop()
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()
