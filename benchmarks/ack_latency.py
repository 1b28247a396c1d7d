"""Acknowledgement latency of ``/incident declare`` over real HTTP, beside the floor.

Amends (``amends serve``) and the floor (a bare Bolt app that only acks,
``floor_app.py``) each run in their own process, against the same Slack API double and
driven by the same signing driver in this process. Each burst of N concurrent declares
is sent once the previous burst's work has finished. Prints p50/p99/max and the ratio
to the floor. Run: ``.venv/bin/python benchmarks/ack_latency.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

from bot.sandbox.double.server import SlackDouble
from bot.sandbox.driver import SlackDriver

SECRET = "bench-secret"
HERE = Path(__file__).resolve().parent


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def start_process(args: list[str], env: dict[str, str], port: int) -> Any:
    process = await asyncio.create_subprocess_exec(
        *args, env=env, stdout=asyncio.subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/slack/events"
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            try:
                async with session.post(url, data=b"") as response:
                    if response.status in (200, 401, 404):
                        return process
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
    raise RuntimeError(f"{args} did not start")


async def burst(send: Callable[[int], Awaitable[Any]], size: int, start: int) -> list[float]:
    replies = await asyncio.gather(*(send(start + i) for i in range(size)))
    assert all(r.status == 200 for r in replies), [r.status for r in replies]
    return [r.elapsed * 1000 for r in replies]


async def measure(
    double: SlackDouble, driver: SlackDriver, channel: str, size: int, rounds: int, settle: bool
) -> list[float]:
    samples: list[float] = []
    sent = 0

    def send(i: int) -> Awaitable[Any]:
        return driver.command(
            "/incident", f"declare Bench outage {i}", user_id="UALICE", channel_id=channel
        )

    for _ in range(rounds + 1):
        before = len(double.ok_calls_to("pins.add"))
        result = await burst(send, size, sent)
        sent += size
        if settle:
            await double.wait_for(
                lambda b=before: len(double.ok_calls_to("pins.add")) >= b + size, timeout=120
            )
        samples.extend(result)
    return samples[size:]


async def main(rounds: int) -> None:
    double = SlackDouble(bot_token="xoxb-bench")
    await double.start()
    double.add_user("UALICE", "alice")
    general = double.add_channel("general", members=["UALICE"])["id"]
    workdir = Path(tempfile.mkdtemp(prefix="amends-bench-"))
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": double.api_url,
        "SLACK_APP_TOKEN": "",
        "BROADCAST_CHANNEL": "",
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
        "DATABASE_URL": os.environ.get(
            "BENCH_DATABASE_URL", f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
        ),
    }
    floor_port, amends_port = free_port(), free_port()
    floor = await start_process(
        [sys.executable, str(HERE / "floor_app.py"), str(floor_port)], env, floor_port
    )
    amends = await start_process(
        [sys.executable, "-m", "bot.cli", "serve"], {**env, "PORT": str(amends_port)}, amends_port
    )
    drivers = {
        "floor (ack only)": SlackDriver(
            bot_url=f"http://127.0.0.1:{floor_port}/slack/events",
            signing_secret=SECRET,
            double=double,
        ),
        "amends declare": SlackDriver(
            bot_url=f"http://127.0.0.1:{amends_port}/slack/events",
            signing_secret=SECRET,
            double=double,
        ),
    }
    print(f"database: {env['DATABASE_URL'].split('://')[0]}; rounds per case: {rounds}")
    print(f"{'case':<24}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'n':>6}")
    try:
        for size in (1, 20):
            p50s, p99s = [], []
            for name, driver in drivers.items():
                samples = await measure(
                    double, driver, general, size, rounds, settle=name.startswith("amends")
                )
                p50s.append(percentile(samples, 0.5))
                p99s.append(percentile(samples, 0.99))
                print(
                    f"{name + f' x{size}':<24}{p50s[-1]:>9.1f}{p99s[-1]:>9.1f}"
                    f"{max(samples):>9.1f}{len(samples):>6}"
                )
            print(
                f"  amends/floor at x{size}: p50 {p50s[1] / p50s[0]:.2f}, "
                f"p99 {p99s[1] / p99s[0]:.2f}"
            )
    finally:
        for driver in drivers.values():
            await driver.close()
        for process in (floor, amends):
            process.terminate()
            await process.wait()
        await double.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    asyncio.run(main(parser.parse_args().rounds))
