"""The mass-outage case: an incident with 1,000 affected customers.

Runs the real bot and the Slack API double in this process (real HTTP, signed requests,
SQLite or PostgreSQL) and prints:

* the time from a click on *Next ▶* to the new checklist page arriving at Slack, for an
  incident with 1,000 customers and, as the baseline in the same run, one with 80;
* the time to build one page in process (database read and Block Kit builder), same two
  sizes;
* the Slack traffic it takes to confirm all 1,000 customers: one click each, or one click
  on *All remaining ✓*.

Run: ``.venv/bin/python benchmarks/customers.py [--customers 1000] [--database sqlite|postgres]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bot.runtime.process import Runtime
from bot.sandbox.double.server import SlackDouble
from bot.sandbox.driver import SlackDriver
from bot.settings import load_settings
from messages.checklists import CONTACT, checklist_blocks
from storage.db import create_engine

TEAM, TOKEN, SECRET, ALICE = "T0BENCH", "xoxb-bench", "bench-secret", "UALICE"
PG_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
PAGE_TURNS = 60
BASELINE = 80
"""Two full pages: the same page size, a twelfth of the customers."""


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Bench:
    def __init__(self, double: SlackDouble, driver: SlackDriver, runtime: Runtime) -> None:
        self.double, self.driver, self.runtime = double, driver, runtime

    async def incident(self, customers: int) -> tuple[str, int]:
        """Declare one incident with ``customers`` customers; its channel and number."""
        general = self.double.add_channel(f"g-{uuid.uuid4().hex[:6]}", members=[ALICE])["id"]
        before = len(self.double.ok_calls_to("pins.add"))
        await self.driver.command(
            "/incident", "declare Payments down", user_id=ALICE, channel_id=general
        )
        await self.double.wait_for(lambda: len(self.double.ok_calls_to("pins.add")) > before)
        created = self.double.ok_calls_to("conversations.create")[-1].response["channel"]
        names = ", ".join(f"Customer {i:05d}" for i in range(customers))
        reply = await self.driver.command(
            "/incident", f"customers add {names}", user_id=ALICE, channel_id=created["id"]
        )
        await self.double.wait_for(lambda: self.double.responses_for(str(reply.response_url)), 30)
        incident = await self.runtime.services.store.by_channel(TEAM, created["id"])
        assert incident is not None
        return str(created["id"]), incident.number

    def checklist(self, channel: str) -> dict[str, Any]:
        mine = [m for m in self.double.ephemerals(channel) if m.get("blocks")]
        return mine[-1]

    async def open_checklist(self, channel: str) -> None:
        header = self.double.messages(channel)[0]
        await self.driver.click(header, "show_checklist", user_id=ALICE)
        await self.double.wait_for(
            lambda: [m for m in self.double.ephemerals(channel) if m.get("blocks")]
        )

    async def page_turns(self, channel: str, turns: int) -> list[float]:
        """Click Next (wrapping back with Previous) and time until the page is replaced."""
        samples = []
        for _ in range(turns):
            page = self.checklist(channel)
            action = (
                "checklist_next" if "checklist_next" in str(page["blocks"]) else "checklist_prev"
            )
            edited = page.get("edited", {}).get("ts")
            started = time.perf_counter()
            await self.driver.click(page, action, user_id=ALICE)
            await self.double.wait_for(
                lambda edited=edited: self.checklist(channel).get("edited", {}).get("ts") != edited
            )
            samples.append(time.perf_counter() - started)
        return samples

    async def build_times(self, number: int, rounds: int = 200) -> list[float]:
        services = self.runtime.services
        incident = await services.store.by_number(TEAM, number)
        assert incident is not None
        samples = []
        for i in range(rounds):
            started = time.perf_counter()
            page = await services.customers.page(incident, CONTACT, i % 25)
            checklist_blocks(page)
            samples.append(time.perf_counter() - started)
        return samples

    async def confirm_each(self, channel: str, customers: int) -> tuple[int, int, float]:
        """Confirm every customer with its own button: Web API calls, response posts, seconds."""
        calls, posts = len(self.double.calls), len(self.double.responses)
        started = time.perf_counter()
        for _ in range(customers):
            page = self.checklist(channel)
            rows = [b for b in page["blocks"] if b.get("accessory")]
            if not rows:
                action = "checklist_next" if "checklist_next" in str(page["blocks"]) else None
                assert action, "no customer left to confirm and no next page"
                edited = page.get("edited", {}).get("ts")
                await self.driver.click(page, action, user_id=ALICE)
                await self.double.wait_for(
                    lambda edited=edited: (
                        self.checklist(channel).get("edited", {}).get("ts") != edited
                    )
                )
                page = self.checklist(channel)
                rows = [b for b in page["blocks"] if b.get("accessory")]
            row = {**page, "blocks": rows[:1]}
            edited = page.get("edited", {}).get("ts")
            await self.driver.click(row, rows[0]["accessory"]["action_id"], user_id=ALICE)
            await self.double.wait_for(
                lambda edited=edited: self.checklist(channel).get("edited", {}).get("ts") != edited
            )
        seconds = time.perf_counter() - started
        return len(self.double.calls) - calls, len(self.double.responses) - posts, seconds

    async def confirm_all(self, channel: str) -> tuple[int, int, float]:
        calls, posts = len(self.double.calls), len(self.double.responses)
        page = self.checklist(channel)
        edited = page.get("edited", {}).get("ts")
        started = time.perf_counter()
        await self.driver.click(page, "contact_all", user_id=ALICE)
        await self.double.wait_for(
            lambda: self.checklist(channel).get("edited", {}).get("ts") != edited
        )
        await asyncio.sleep(0.5)
        seconds = time.perf_counter() - started
        return len(self.double.calls) - calls, len(self.double.responses) - posts, seconds


def ms(samples: list[float]) -> str:
    return (
        f"p50 {statistics.median(samples) * 1000:6.1f} ms  "
        f"p99 {percentile(samples, 0.99) * 1000:6.1f} ms"
    )


async def run(customers: int, database: str) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="amends-bench-"))
    url = PG_URL if database == "postgres" else f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    schema = f"bench_{uuid.uuid4().hex[:8]}" if database == "postgres" else None
    if schema:
        admin = create_engine(PG_URL)
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await admin.dispose()
    double = SlackDouble(team_id=TEAM, bot_token=TOKEN)
    await double.start()
    double.add_user(ALICE, "alice")
    settings = load_settings(
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=double.api_url,
        slack_app_token=None,
        database_url=url,
    )
    runtime = await Runtime.start(settings, create_engine(url, search_path=schema))
    await runtime.serve_http(host="127.0.0.1", port=0)
    driver = SlackDriver(bot_url=runtime.events_url, signing_secret=SECRET, double=double)
    bench = Bench(double, driver, runtime)
    try:
        small_channel, small = await bench.incident(BASELINE)
        big_channel, big = await bench.incident(customers)
        small_build, big_build = await bench.build_times(small), await bench.build_times(big)
        await bench.open_checklist(small_channel)
        await bench.open_checklist(big_channel)
        small_turns = await bench.page_turns(small_channel, PAGE_TURNS)
        big_turns = await bench.page_turns(big_channel, PAGE_TURNS)
        print(f"database: {database}; {customers} customers vs a {BASELINE}-customer baseline")
        print(f"page build in process {BASELINE:4d}: {ms(small_build)}")
        print(
            f"page build in process {customers}: {ms(big_build)}  "
            f"(p50 ratio {statistics.median(big_build) / statistics.median(small_build):.2f}x)"
        )
        print(f"click → page at Slack {BASELINE:4d}: {ms(small_turns)}")
        print(
            f"click → page at Slack {customers}: {ms(big_turns)}  "
            f"(p50 ratio {statistics.median(big_turns) / statistics.median(small_turns):.2f}x)"
        )
        each_channel, _ = await bench.incident(customers)
        await bench.open_checklist(each_channel)
        calls, posts, seconds = await bench.confirm_each(each_channel, customers)
        print(
            f"confirm one by one: {customers} clicks, {calls} Web API calls, "
            f"{posts} response_url posts, {seconds:.1f} s"
        )
        all_channel, _ = await bench.incident(customers)
        await bench.open_checklist(all_channel)
        calls, posts, seconds = await bench.confirm_all(all_channel)
        print(
            f"confirm with 'All remaining ✓': 1 click, {calls} Web API calls, "
            f"{posts} response_url post(s), {seconds * 1000:.0f} ms"
        )
    finally:
        await driver.close()
        await runtime.stop()
        await double.stop()
        if schema:
            admin = create_engine(PG_URL)
            async with admin.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    asyncio.run(run(args.customers, args.database))


if __name__ == "__main__":
    main()
