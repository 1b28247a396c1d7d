"""Reminder engine under load: lateness, lost and duplicated reminders, and idle cost.

Seeds N open incidents whose customer-update reminders fall due over a short window, runs
``amends serve`` worker process(es) against the Slack API double in this process, and reads
from the double when each reminder reached "Slack". The incidents take the realistic path:
the comms owner is not the lead (so the owner is looked up), 20 affected customers each,
and every fifth reminder is an escalation (a channel message and a DM). Cases:

* the floor, measured first in the same run: a bare ``slack_sdk`` ``AsyncWebClient`` posting
  N reminder-sized messages to the same double, as many in flight as the engine allows;
  every later figure is printed beside it (throughput as a share of the floor's);
* burst: N reminders all due at once, one worker, on SQLite and on PostgreSQL: throughput;
* one worker on SQLite, one on PostgreSQL;
* three workers on PostgreSQL, one killed with SIGKILL part-way through;
* idle: N open incidents, nothing due for an hour — CPU seconds the worker uses in a minute.

Run: ``.venv/bin/python benchmarks/reminders.py [--incidents 10000] [--window 60]``;
``--scale 0.1`` runs every case with a tenth of the reminders and of the window (quick
iteration; the ratios to the floor stay comparable). ``--databases postgres`` runs the burst
on PostgreSQL alone; ``--profile DIR`` runs the workers under cProfile and writes their top
functions, own time per package and SQL statement counts into DIR. Beside throughput the
burst prints the worker's CPU time per reminder, and the floor the client's per message:
on a shared machine these move less than the rates do.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.incidents.reminder_delivery import DELIVERY_CONCURRENCY
from bot.sandbox.double.server import SlackDouble
from messages.model import IncidentCard
from messages.updates import reminder_blocks, reminder_token
from storage.db import create_engine, migrate
from storage.models import AffectedCustomer, Incident, Reminder, RoleAssignment

TEAM, TOKEN, LEAD, COMMS = "T0AMENDS", "xoxb-bench", "ULEAD", "UCOMMS"
CUSTOMERS_EACH = 20
ESCALATION_EVERY = 5
"""Every fifth seeded reminder is at its escalation stage (a channel message and a DM)."""
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
                        "role": role,
                        "user_id": user,
                        "assigned_by": LEAD,
                        "assigned_at": now,
                    }
                    for i in id_list
                    for role, user in (("lead", LEAD), ("comms", COMMS))
                ],
            )
            await connection.execute(
                insert(AffectedCustomer),
                [
                    {
                        "incident_id": i,
                        "position": k,
                        "name": f"Customer {k} of {i}",
                        "name_key": f"customer {k} of {i}",
                        "contact_state": "not_contacted",
                        "added_by": LEAD,
                        "added_at": now,
                    }
                    for i in id_list
                    for k in range(CUSTOMERS_EACH)
                ],
            )
            await connection.execute(
                insert(Reminder),
                [
                    {
                        "incident_id": i,
                        "team_id": TEAM,
                        "kind": "customer_update",
                        "stage": "escalate" if (start + j) % ESCALATION_EVERY == 0 else "due",
                        "state": "pending",
                        "due_at": due[ch],
                        "seq": 1,
                        "attempts": 0,
                        "last_error": "",
                    }
                    for j, (i, ch) in enumerate(zip(id_list, chunk, strict=True))
                ],
            )
    return due


PROFILE: Path | None = None
"""With ``--profile DIR``: workers run under cProfile and write their top functions and
SQL statement counts into DIR (see ``benchmarks/profiled.py``)."""
_started = Counter[str]()


async def start_worker(env: dict[str, str], case: str = "worker") -> asyncio.subprocess.Process:
    port = free_port()
    command = ["-m", "bot.cli"]
    if PROFILE is not None:
        _started[case] += 1
        slug = "".join(c if c.isalnum() else "-" for c in case)[:60]
        out = PROFILE / f"{slug}-{_started[case]}.txt"
        env = {**env, "AMENDS_PROFILE_OUT": str(out)}
        command = [str(Path(__file__).with_name("profiled.py"))]
    return await asyncio.create_subprocess_exec(
        sys.executable,
        *command,
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


def postgres_cpu() -> float:
    """CPU seconds used so far by this machine's PostgreSQL processes (0 when it runs
    elsewhere): with the worker's and the double's, where a burst's CPU went."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if stat.read_text().split(" ", 2)[1] == "(postgres)":
                total += cpu_seconds(int(stat.parent.name))
        except (OSError, ValueError):
            continue
    return total


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


@dataclass
class Floor:
    """What a bare client reaches against the same double: the figure everything is put beside."""

    per_second: float
    p50: float
    p99: float
    cpu_ms: float
    """CPU time of the client process per message."""

    def share(self, per_second: float) -> str:
        return f"{per_second:.0f}/s = {per_second / self.per_second * 100:.0f}% of the floor"


def floor_blocks(channel: str) -> tuple[str, list[dict[str, Any]]]:
    """The text and blocks of a realistic reminder (the same size the engine posts)."""
    now = datetime.now(UTC)
    card = IncidentCard(
        team_id=TEAM,
        number=1234,
        title="Outage 1233",
        severity="SEV2",
        status="investigating",
        reporter_id=LEAD,
        channel_id=channel,
        created_at=now,
        affected_customers=tuple(f"Customer {k} of 1234" for k in range(CUSTOMERS_EACH)),
        roles={"lead": LEAD, "comms": COMMS, "tech": None, "scribe": None},
        next_update_due=now,
    )
    text = f"<@{COMMS}>, a customer update for {card.label} is due."
    return text, reminder_blocks(card, COMMS, reminder_token(card.number, 2), last_update_at=None)


async def floor_client(api_url: str, channels: list[str]) -> dict[str, float]:
    """Run in a process of its own (as the workers are): post one reminder-sized message
    per channel, ``DELIVERY_CONCURRENCY`` in flight, and time it."""
    client = AsyncWebClient(token=TOKEN, base_url=api_url)
    slots = asyncio.Semaphore(DELIVERY_CONCURRENCY)
    took: list[float] = []

    async def post(i: int, channel: str) -> None:
        text, blocks = floor_blocks(channel)
        metadata = {"event_type": "amends_reminder", "event_payload": {"reminder": i, "seq": 1}}
        async with slots:
            started = time.perf_counter()
            await client.chat_postMessage(
                channel=channel, text=text, blocks=blocks, metadata=metadata
            )
            took.append(time.perf_counter() - started)

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(post(i, ch) for i, ch in enumerate(channels)))
    elapsed = time.perf_counter() - started
    return {
        "per_second": len(channels) / elapsed,
        "cpu_ms": (time.process_time() - cpu) / len(channels) * 1000,
        "p50": percentile(took, 0.5),
        "p99": percentile(took, 0.99),
    }


async def floor_case(n: int) -> Floor:
    double = SlackDouble(team_id=TEAM, bot_token=TOKEN)
    await double.start()
    channels = [double.add_channel(f"inc-{i}", bot_member=True)["id"] for i in range(n)]
    listing = Path(tempfile.mkdtemp()) / "channels.json"
    listing.write_text(json.dumps(channels))
    double_before = time.process_time()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--floor-client",
        double.api_url,
        str(listing),
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    double_ms = (time.process_time() - double_before) / n * 1000
    await double.stop()
    floor = Floor(**json.loads(out))
    print(
        f"floor: a bare AsyncWebClient, {n} reminder-sized chat.postMessage, "
        f"{DELIVERY_CONCURRENCY} in flight: {floor.per_second:.0f}/s; per call p50 "
        f"{floor.p50 * 1000:.0f} ms, p99 {floor.p99 * 1000:.0f} ms; CPU per message: client "
        f"{floor.cpu_ms:.2f} ms, Slack double {double_ms:.2f} ms"
    )
    return floor


async def run_case(
    name: str,
    kind: str,
    n: int,
    window: float,
    workers: int,
    kill_after: float | None,
    floor: Floor,
    slack_delay: float = 0.0,
) -> None:
    double = SlackDouble(team_id=TEAM, bot_token=TOKEN)
    await double.start()
    double.add_user(LEAD, "lead")
    double.add_user(COMMS, "comms")
    if slack_delay:
        double.fail_next("chat.postMessage", delay=slack_delay, times=2 * n)
    channels = [double.add_channel(f"inc-{i}", bot_member=True)["id"] for i in range(n)]
    url, engine, cleanup = await fresh_database(kind)
    first_due = datetime.now(UTC) + timedelta(seconds=START_DELAY)
    due = await seed(engine, channels, first_due, window, due_in_window=True)
    await engine.dispose()
    env = worker_env(double, url, lease=5)
    procs = [await start_worker(env, name) for _ in range(workers)]
    killed = ""
    cpu_before = double_before = pg_before = 0.0
    if kill_after is None:
        await asyncio.sleep((first_due - datetime.now(UTC)).total_seconds() - 0.2)
        cpu_before = sum(cpu_seconds(proc.pid) for proc in procs)
        double_before, pg_before = time.process_time(), postgres_cpu()
    else:
        await asyncio.sleep(START_DELAY + kill_after)
        procs[0].send_signal(signal.SIGKILL)
        killed = f", worker 1 killed (SIGKILL) {kill_after:.0f}s into the window"
    wanted = set(channels)
    deadline = time.monotonic() + START_DELAY + window + max(30.0, n / 100)
    while time.monotonic() < deadline and len(delivered(double, wanted)) < n:
        await asyncio.sleep(0.5)
    await asyncio.sleep(2)
    cpu = sum(cpu_seconds(proc.pid) for proc in procs if proc.returncode is None) - cpu_before
    double_cpu, pg_cpu = time.process_time() - double_before, postgres_cpu() - pg_before
    for proc in procs:
        if proc.returncode is None:
            proc.terminate()
        await proc.wait()
    posts = delivered(double, wanted)
    counts = Counter(ch for ch, _ in posts)
    first_at: dict[str, float] = {}
    for ch, at in posts:
        first_at.setdefault(ch, at)
    late = [first_at[ch] - due[ch].timestamp() for ch in first_at]
    lost = n - len(counts)
    duplicated = sum(c - 1 for c in counts.values())
    recovered = sum(1 for seconds in late if seconds > 1.0)
    checks = len(double.calls_to("conversations.history"))
    times = sorted(first_at.values())
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    rate = (len(times) - 1) / span if span else 0.0
    print(f"{name}: {n} reminders due over {window:.0f}s, {workers} worker(s){killed}")
    print(
        f"  lateness p50 {percentile(late, 0.5) * 1000:.0f} ms, p99 "
        f"{percentile(late, 0.99) * 1000:.0f} ms, max {max(late, default=0) * 1000:.0f} ms "
        f"(the floor's own call takes p50 {floor.p50 * 1000:.0f} ms, p99 "
        f"{floor.p99 * 1000:.0f} ms); lost (not delivered by the end) {lost}, "
        f"duplicated {duplicated}"
    )
    if window == 0:
        each = 1000 / max(1, len(times))
        print(
            f"  throughput {floor.share(rate)}; CPU per reminder: worker {cpu * each:.2f} ms, "
            f"Slack double (and this benchmark) {double_cpu * each:.2f} ms, PostgreSQL "
            f"{pg_cpu * each:.2f} ms"
        )
    if kill_after is not None:
        print(
            f"  late by over 1 s (picked up after the dead worker's lease): {recovered}; "
            f"history checks for an already-posted reminder: {checks}"
        )
    await double.stop()
    await drop(cleanup)


def delivered(double: SlackDouble, channels: set[str]) -> list[tuple[str, float]]:
    """Reminder and escalation messages in the incident channels (not the DMs)."""
    return [
        (str(c.args["channel"]), c.at)
        for c in double.calls
        if c.method == "chat.postMessage"
        and c.response.get("ok")
        and c.args.get("channel") in channels
        and ("is due" in str(c.args.get("text")) or "overdue" in str(c.args.get("text")))
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
    if args.floor_client:
        api_url, listing = args.floor_client
        figures = await floor_client(api_url, json.loads(Path(listing).read_text()))
        print(json.dumps(figures))
        return
    global PROFILE
    if args.profile:
        PROFILE = Path(args.profile)
        PROFILE.mkdir(parents=True, exist_ok=True)
    n, window = round(args.incidents * args.scale), args.window * args.scale
    cases = args.cases.split(",")
    floor = await floor_case(n)
    if "burst" in cases:
        for kind in args.databases.split(","):
            await run_case(f"{kind}, 1 worker, all due at once", kind, n, 0, 1, None, floor)
    if "sqlite" in cases:
        await run_case("sqlite, 1 worker", "sqlite", n, window, 1, None, floor)
    if "postgres" in cases:
        await run_case("postgresql, 1 worker", "postgres", n, window, 1, None, floor)
    if "replicas" in cases:
        await run_case("postgresql, 3 workers", "postgres", n, window, 3, window * 0.4, floor)
    if "slow-slack" in cases:
        await run_case(
            "postgresql, 3 workers, Slack answering in 200 ms (claims in flight at the kill)",
            "postgres",
            n,
            window,
            3,
            window * 0.4,
            floor,
            slack_delay=0.2,
        )
    if "idle" in cases:
        await idle_case("postgres", round(args.incidents * args.scale), args.idle)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--idle", type=float, default=60.0)
    parser.add_argument("--cases", default="burst,sqlite,postgres,replicas,slow-slack,idle")
    parser.add_argument("--databases", default="postgres,sqlite", help="for the burst case")
    parser.add_argument("--profile", metavar="DIR", help="profile the workers into DIR")
    parser.add_argument("--floor-client", nargs=2, metavar=("API_URL", "CHANNELS_JSON"))
    asyncio.run(main(parser.parse_args()))
