"""Contact clocks by tier: the checklist shows each customer's clock, most urgent first, and
the comms owner is reminded once when a premium customer's clock runs out."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy.ext.asyncio import AsyncEngine

from messages import ids
from tests.support.customer_helpers import declare_with, ephemerals_for, latest_ephemeral
from tests.support.directory_helpers import load_directory
from tests.support.harness import ALICE, Harness, start_harness, stop_harness
from tests.support.helpers import header_message

DIRECTORY = "Acme,premium,en,,,\nGlobex,standard,en,,,\n"


def clock_reminders(h: Harness, channel: str) -> list[dict[str, object]]:
    return [m for m in h.double.messages(channel) if "not been contacted in time" in str(m["text"])]


def row_texts(message: dict[str, object]) -> list[str]:
    blocks = message["blocks"]
    assert isinstance(blocks, list)
    return [
        b["text"]["text"]
        for b in blocks
        if b.get("type") == "section" and str(b.get("block_id", "")).find(":customer:") > 0
    ]


async def test_the_checklist_shows_each_customers_clock_most_urgent_first(
    harness: Harness,
) -> None:
    h = harness
    await load_directory(h, DIRECTORY)
    channel = await declare_with(h, "Unknown Ltd, Globex, Acme")
    await h.driver.click(header_message(h, channel), ids.SHOW_CHECKLIST, user_id=ALICE)
    await h.double.wait_for(lambda: ephemerals_for(h, channel, ALICE))
    rows = row_texts(latest_ephemeral(h, channel, ALICE))
    assert [r.split("*")[1] for r in rows] == ["Acme", "Globex", "Unknown Ltd"]
    assert "⏱ due in 14 min" in rows[0] and "⏱ due in 59 min" in rows[1]
    assert "⏱" not in rows[2]


async def test_a_premium_customers_clock_running_out_reminds_the_comms_owner_once(
    engine: AsyncEngine,
) -> None:
    h = await start_harness(engine, customer_tiers="premium=1s,standard=60m")
    try:
        await load_directory(h, DIRECTORY)
        channel = await declare_with(h, "Acme, Globex")
        reminded = await h.double.wait_for(lambda: clock_reminders(h, channel), timeout=10)
        for _ in range(2):
            await h.runtime.services.engine.sweep()
        await asyncio.sleep(0.2)
        assert len(clock_reminders(h, channel)) == 1
        assert f"<@{ALICE}>" in json.dumps(reminded[0]) and "Acme" in str(reminded[0]["text"])
        assert "Globex" not in str(reminded[0]["text"])
    finally:
        await stop_harness(h)
