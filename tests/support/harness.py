"""The test harness: the Slack API double, the real bot over real HTTP, a driver that signs
requests like Slack, and the people and workspace every test shares."""

from __future__ import annotations

import os
from dataclasses import dataclass

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.process import Runtime
from bot.sandbox.double.server import SlackDouble
from bot.sandbox.driver import SlackDriver
from bot.settings import Settings, load_settings

POSTGRES_URL = os.environ.get(
    "AMENDS_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("AMENDS_REQUIRE_POSTGRES") == "1"
STATEMENT_TIMEOUT = 5.0
"""The tests' bound on a PostgreSQL round trip: a connection that goes silent costs a test a
few seconds and a new connection, not the test itself (the product's is 30 s)."""
SIGNING_SECRET = "test-signing-secret"
TEAM = "T0AMENDS"
ALICE, BOB, MARIA, GONE, ROBOT = "UALICE", "UBOB", "UMARIA", "UGONE", "UROBOT"

_postgres_up: bool | None = None


async def postgres_reachable() -> bool:
    global _postgres_up
    if _postgres_up is None:
        try:
            dsn = POSTGRES_URL.replace("postgresql+asyncpg", "postgresql")
            connection = await asyncpg.connect(dsn, timeout=3)
            await connection.close()
            _postgres_up = True
        except (OSError, asyncpg.PostgresError, TimeoutError):
            _postgres_up = False
    return _postgres_up


def make_settings(api_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "slack_bot_token": "xoxb-test",
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": api_url,
        "slack_app_token": None,
        "database_url": "sqlite+aiosqlite:///:memory:",
        "broadcast_channel": None,
        "customer_channel": None,
        "customer_update_cadence": "SEV1=30m,SEV2=60m,SEV3=120m",
    }
    values.update(overrides)
    return load_settings(**values)


@dataclass
class Harness:
    double: SlackDouble
    driver: SlackDriver
    runtime: Runtime
    general: str
    broadcast: str
    customers: str

    @property
    def store(self):  # type: ignore[no-untyped-def]
        return self.runtime.services.store


async def start_harness(engine: AsyncEngine, **overrides: object) -> Harness:
    double = SlackDouble(team_id=TEAM, bot_token="xoxb-test")
    await double.start()
    for user_id, name in ((ALICE, "alice"), (BOB, "bob"), (MARIA, "maria")):
        double.add_user(user_id, name)
    double.add_user(GONE, "gone", deleted=True)
    double.add_user(ROBOT, "robot", is_bot=True)
    general = double.add_channel("general", members=[ALICE, BOB, MARIA])["id"]
    broadcast = double.add_channel("incidents", members=[ALICE])["id"]
    customers = double.add_channel("status-updates", bot_member=True)["id"]
    overrides.setdefault("broadcast_channel", broadcast)
    overrides.setdefault("customer_channel", customers)
    runtime = await Runtime.start(make_settings(double.api_url, **overrides), engine)
    await runtime.serve_http(host="127.0.0.1", port=0)
    driver = SlackDriver(bot_url=runtime.events_url, signing_secret=SIGNING_SECRET, double=double)
    return Harness(double, driver, runtime, general, broadcast, customers)


async def stop_harness(harness: Harness) -> None:
    await harness.driver.close()
    await harness.runtime.stop()
    await harness.double.stop()
