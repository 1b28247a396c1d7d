"""Posting one customer update to hundreds of customers, each with a shared Slack channel.

Runs the real bot and the Slack API double in this process (real HTTP, SQLite) and prints:

* the time from the update's submit to the last customer recorded as contacted (the
  message posted in their channel and its permalink stored), and how many Slack calls were
  refused with 429 — in the customers' channels (what the bot's per-channel pacing is
  for) and elsewhere (the incident channel's own posts);
* the floor, measured in the same run: a bare slack-sdk ``AsyncWebClient`` posting the same
  message once to each of as many other channels of the same double, 20 in flight.

The double limits chat.postMessage per channel as Slack does ("roughly one message per
second per channel, short bursts allowed"), in its strictest reading: one message a second
in every channel, no burst (``--burst`` allows more).

Run: ``.venv/bin/python benchmarks/reach.py [--customers 500]``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from slack_sdk.web.async_client import AsyncWebClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storage.db import create_engine
from storage.models import CONTACTED
from tests.e2e.test_updates_e2e import CLEAN, open_composer, text_input
from tests.support.customer_helpers import declare_with, stored_customers
from tests.support.directory_helpers import load_directory
from tests.support.harness import MARIA, start_harness, stop_harness


async def floor(api_url: str, channels: list[str]) -> float:
    """One post to each channel, 20 in flight: within the per-channel limit by itself."""
    client = AsyncWebClient(token="xoxb-test", base_url=api_url)
    slots = asyncio.Semaphore(20)

    async def post(channel: str) -> None:
        async with slots:
            await client.chat_postMessage(channel=channel, text=CLEAN)

    started = time.perf_counter()
    await asyncio.gather(*(post(c) for c in channels))
    return time.perf_counter() - started


async def main(customers: int, burst: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
        h = await start_harness(engine)
        try:
            h.double.limit_per_channel("chat.postMessage", per_seconds=1.0, burst=burst)
            channels = [
                h.double.add_channel(f"ext-{i}", bot_member=True)["id"] for i in range(customers)
            ]
            floor_channels = [
                h.double.add_channel(f"floor-{i}", bot_member=True)["id"] for i in range(customers)
            ]
            rows = "".join(f"Customer {i},standard,en,{c},,\n" for i, c in enumerate(channels))
            await load_directory(h, rows)
            names = ", ".join(f"Customer {i}" for i in range(customers))
            channel = await declare_with(h, names)
            view = await open_composer(h, channel)
            started = time.perf_counter()
            await h.driver.submit_view(view["id"], text_input(view, CLEAN), user_id=MARIA)
            while True:
                if all(c.contact_state == CONTACTED for c in await stored_customers(h)):
                    break
                await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - started
            refused = h.double.refused_with_429()
            ours = set(channels)
            to_customers = [c for c in refused if c.args.get("channel") in ours]
            before_floor = len(h.double.calls)
            bare = await floor(h.double.api_url, floor_channels)
            floor_refused = [c for c in h.double.calls[before_floor:] if c.http_status == 429]
        finally:
            await stop_harness(h)
            await engine.dispose()
    print(f"customers reached directly: {customers}")
    print(f"per-channel limit: 1 message a second in every channel, burst {burst}")
    print(f"submit → last customer recorded contacted: {elapsed:.2f} s")
    print(f"calls refused with 429 in the customers' channels: {len(to_customers)}")
    print(f"calls refused with 429 elsewhere: {len(refused) - len(to_customers)}")
    print(f"floor (bare slack-sdk client, one post per channel, 20 in flight): {bare:.2f} s")
    print(f"floor calls refused with 429: {len(floor_refused)}")
    print(f"Amends / floor: {elapsed / bare:.1f} times")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--burst", type=int, default=1)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.customers, arguments.burst))
