"""Reminder engine under load: lateness, lost and duplicated reminders, and idle cost.

Seeds N open incidents whose customer-update reminders fall due over a short window, runs
``amends serve`` worker process(es) against the Slack API double in this process, and reads
from the double when each reminder reached "Slack". Cases:

* one worker on SQLite, one on PostgreSQL;
* three workers on PostgreSQL, one killed with SIGKILL part-way through;
* idle: N open incidents, nothing due for an hour — CPU seconds the worker uses in a minute.

Run: ``.venv/bin/python benchmarks/reminders.py [--incidents 10000] [--window 60]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.sandbox.double.server import SlackDouble
from storage.db import create_engine, migrate
from storage.models import Incident, Reminder, RoleAssignment

TEAM, TOKEN, LEAD = "T0AMENDS", "xoxb-bench", "ULEAD"
PG_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
START_DELAY = 8.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


async def seed(
    engine: AsyncEngine,
    channels: list[str],
    first_due: datetime,
    window: float,
    due_in_window: bool,
) -> dict[str, datetime]:
    """N incidents (one per channel) and their reminders; returns channel → due time."""
    await migrate(engine)
    now = datetime.now(UTC)
    n = len(channels)
    due = {
        ch: first_due + timedelta(seconds=window * i / max(1, n - 1))
        if due_in_window
        else now + timedelta(hours=1)
        for i, ch in enumerate(channels)
    }
    async with engine.begin() as connection:
        for start in range(0, n, 1000):
            chunk = channels[start : start + 1000]
            rows = [
                {
                    "team_id": TEAM,
                    "number": start + i + 1,
                    "title": f"Outage {start + i}",
                    "severity": "SEV2",
                    "status": "investigating",
                    "description": "",
                    "customer_impact": True,
                    "impact_text": "",
                    "reporter_id": LEAD,
                    "channel_id": ch,
                    "channel_name": f"inc-{start + i + 1}",
                    "created_at": now,
                    "updated_at": now,
                    "next_update_due": due[ch],
                    "paused": False,
                }
                for i, ch in enumerate(chunk)
            ]
            ids = (
                await connection.execute(insert(Incident).returning(Incident.id), rows)
            ).scalars()
            id_list = list(ids)
            await connection.execute(
                insert(RoleAssignment),
                [
                    {
                        "incident_id": i,
                        "role": "lead",
                        "user_id": LEAD,
                        "assigned_by": LEAD,
                        "assigned_at": now,
                    }
                    for i in id_list
                ],
            )
            await connection.execute(
                insert(Reminder),
                [
                    {
                        "incident_id": i,
                        "team_id": TEAM,
                        "kind": "customer_update",
                        "stage": "due",
                        "state": "pending",
                        "due_at": due[ch],
                        "seq": 1,
                        "attempts": 0,
                        "last_error": "",
                    }
                    for i, ch in zip(id_list, chunk, strict=True)
                ],
            )
    return due


async def start_worker(env: dict[str, str]) -> asyncio.subprocess.Process:
    port = free_port()
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "serve",
        env={**env, "PORT": str(port)},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


def worker_env(double: SlackDouble, database_url: str, lease: float) -> dict[str, str]:
    return {
        **os.environ,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": "bench",
        "SLACK_API_URL": double.api_url,
        "SLACK_APP_TOKEN": "",
        "BROADCAST_CHANNEL": "",
        "DATABASE_URL": database_url,
        "REMINDER_GRACE": "1h",
        "REMINDER_SWEEP_SECONDS": "5",
        "REMINDER_LEASE_SECONDS": str(lease),
    }


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def fresh_database(kind: str) -> tuple[str, AsyncEngine, str | None]:
    """A new SQLite file, or a new PostgreSQL database (workers reach it by URL alone)."""
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
        return url, create_engine(url), None
    name = f"amends_bench_{os.getpid()}_{int(time.time())}"
    await _admin(f'CREATE DATABASE "{name}"')
    url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    return url, create_engine(url), name


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(PG_URL.replace("postgresql+asyncpg", "postgresql"))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def drop(database: str | None) -> None:
    if database is not None:
        await _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


async def run_case(
    name: str,
    kind: str,
    n: int,
    window: float,
    workers: int,
    kill_after: float | None,
    slack_delay: float = 0.0,
) -> None:
    double = SlackDouble(team_id=TEAM, bot_token=TOKEN)
    await double.start()
    double.add_user(LEAD, "lead")
    if slack_delay:
        double.fail_next("chat.postMessage", delay=slack_delay, times=2 * n)
    channels = [double.add_channel(f"inc-{i}", bot_member=True)["id"] for i in range(n)]
    url, engine, cleanup = await fresh_database(kind)
    first_due = datetime.now(UTC) + timedelta(seconds=START_DELAY)
    due = await seed(engine, channels, first_due, window, due_in_window=True)
    await engine.dispose()
    env = worker_env(double, url, lease=5)
    procs = [await start_worker(env) for _ in range(workers)]
    killed = ""
    if kill_after is not None:
        await asyncio.sleep(START_DELAY + kill_after)
        procs[0].send_signal(signal.SIGKILL)
        killed = f", worker 1 killed (SIGKILL) {kill_after:.0f}s into the window"
    deadline = time.monotonic() + START_DELAY + window + 30
    while time.monotonic() < deadline and len(delivered(double)) < n:
        await asyncio.sleep(0.5)
    await asyncio.sleep(2)
    for proc in procs:
        if proc.returncode is None:
            proc.terminate()
        await proc.wait()
    counts = Counter(ch for ch, _ in delivered(double))
    first_at: dict[str, float] = {}
    for ch, at in delivered(double):
        first_at.setdefault(ch, at)
    late = [first_at[ch] - due[ch].timestamp() for ch in first_at]
    lost = n - len(counts)
    duplicated = sum(c - 1 for c in counts.values())
    recovered = sum(1 for seconds in late if seconds > 1.0)
    checks = len(double.calls_to("conversations.history"))
    print(f"{name}: {n} reminders due over {window:.0f}s, {workers} worker(s){killed}")
    print(
        f"  lateness p50 {percentile(late, 0.5) * 1000:.0f} ms, p99 "
        f"{percentile(late, 0.99) * 1000:.0f} ms, max {max(late, default=0) * 1000:.0f} ms; "
        f"lost {lost}, duplicated {duplicated}"
    )
    if kill_after is not None:
        print(
            f"  late by over 1 s (picked up after the dead worker's lease): {recovered}; "
            f"history checks for an already-posted reminder: {checks}"
        )
    await double.stop()
    await drop(cleanup)


def delivered(double: SlackDouble) -> list[tuple[str, float]]:
    return [
        (str(c.args["channel"]), c.at)
        for c in double.calls
        if c.method == "chat.postMessage"
        and c.response.get("ok")
        and "is due" in str(c.args.get("text"))
    ]


async def idle_case(kind: str, n: int, seconds: float) -> None:
    double = SlackDouble(team_id=TEAM, bot_token=TOKEN)
    await double.start()
    channels = [double.add_channel(f"inc-{i}", bot_member=True)["id"] for i in range(n)]
    url, engine, cleanup = await fresh_database(kind)
    await seed(engine, channels, datetime.now(UTC), 0, due_in_window=False)
    await engine.dispose()
    proc = await start_worker(worker_env(double, url, lease=60))
    await asyncio.sleep(START_DELAY)
    before = cpu_seconds(proc.pid)
    await asyncio.sleep(seconds)
    used = cpu_seconds(proc.pid) - before
    proc.terminate()
    await proc.wait()
    print(
        f"idle ({kind}): {n} open incidents, nothing due: {used:.3f} CPU s over "
        f"{seconds:.0f} s ({used / seconds * 100:.2f}% of a core); Slack calls: "
        f"{len(double.calls)}"
    )
    await double.stop()
    await drop(cleanup)


async def main(args: argparse.Namespace) -> None:
    n, window = args.incidents, args.window
    if "sqlite" in args.cases:
        await run_case("sqlite, 1 worker", "sqlite", n, window, 1, None)
    if "postgres" in args.cases:
        await run_case("postgresql, 1 worker", "postgres", n, window, 1, None)
    if "replicas" in args.cases:
        await run_case("postgresql, 3 workers", "postgres", n, window, 3, window * 0.4)
    if "slow-slack" in args.cases:
        await run_case(
            "postgresql, 3 workers, Slack answering in 200 ms (claims in flight at the kill)",
            "postgres",
            n,
            window,
            3,
            window * 0.4,
            slack_delay=0.2,
        )
    if "idle" in args.cases:
        await idle_case("postgres", n, args.idle)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--idle", type=float, default=60.0)
    parser.add_argument("--cases", default="sqlite,postgres,replicas,slow-slack,idle")
    asyncio.run(main(parser.parse_args()))
