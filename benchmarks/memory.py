"""Memory of a running Amends holding N open incidents, beside the same bot holding none.

Each case gets a fresh database (a SQLite file, or with ``--postgres`` a throw-away schema),
seeded by this process *before* the bot starts, so seeding costs nothing in the figures.
Seeding is a bulk insert through SQLAlchemy Core on the storage models (incident with its
channel, lead role, "declared" timeline event and a pending customer-update reminder, as a
declare leaves them) because it is fast; ``--seed store`` goes through the storage layer's
own methods instead (create_pending, attach_channel, ReminderStore.schedule, …): about
100 incidents a second on SQLite. All reminders fall due in an hour except ``--due`` of
them, due at once.

The bot then runs in a fresh child process (this file with ``--bot-child``) that imports only
what ``amends serve`` does and runs the real ``Runtime`` against the Slack API double, which
lives in this process with the signing driver. Once the reminder engine has delivered the
reminders due at once and swept again, the driver sends ``/incident list`` three times; the
child then reports its peak RSS (``ru_maxrss``, or ``VmHWM`` when higher) and current RSS
(``VmRSS``). A second reading follows ``/incident stats`` (the last 30 days' incidents).

``--history N`` adds a history case: N closed incidents with 20 affected customers and 3
customer updates each, declared over the last 90 days (seeded with a few bulk
``INSERT … SELECT`` statements), no open ones; the readings follow ``/incident list`` and
``/incident stats 90d``, beside the idle bot's (the baseline, asked the same), with how
long each answer took to reach Slack.

Run: ``.venv/bin/python benchmarks/memory.py [--incidents 10000] [--postgres]
[--history 100000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bot.sandbox.double.server import SlackDouble
    from bot.sandbox.driver import SlackDriver

# Only the standard library at module level: the bot child must not import the double,
# the driver or the seeding code, or their memory would count as the bot's.

TEAM, TOKEN, SECRET, LEAD = "T0AMENDS", "xoxb-bench", "bench-secret", "ULEAD"
PG_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
SWEEP_SECONDS = 2.0
BATCH = 1000


@dataclass
class Reading:
    peak_kib: int
    rss_kib: int


@dataclass
class Case:
    incidents: int
    seed_seconds: float
    start_seconds: float
    served: Reading
    after_stats: Reading
    list_seconds: float
    stats_seconds: float


def mib(kib: int) -> float:
    return kib / 1024


# -- the bot child (measured) -----------------------------------------------------------------


def own_memory() -> dict[str, int]:
    """Peak and current RSS in KiB. ``ru_maxrss`` can lag the current RSS (the kernel
    updates its high-water mark lazily), so the peak is the larger of it and ``VmHWM``."""
    fields = {
        line.split(":")[0]: int(line.split()[1])
        for line in Path("/proc/self/status").read_text().splitlines()
        if line.startswith(("VmRSS:", "VmHWM:"))
    }
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"peak_kib": max(maxrss, fields["VmHWM"]), "rss_kib": fields["VmRSS"]}


def emit(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def bot_child(config: dict[str, Any]) -> None:
    """Run the real bot; answer ``report`` with its memory, stop on ``quit`` or EOF."""
    from bot.runtime.process import Runtime
    from bot.settings import load_settings
    from storage.db import create_engine

    settings = load_settings(
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=config["api_url"],
        slack_app_token=None,
        database_url=config["database_url"],
        broadcast_channel=None,
        customer_channel=None,
        reminder_sweep_seconds=SWEEP_SECONDS,
    )
    engine = create_engine(settings.database_url, search_path=config.get("schema"))
    runtime = await Runtime.start(settings, engine)
    port = await runtime.serve_http(host="127.0.0.1", port=0)
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    emit({"port": port})
    try:
        while (line := (await reader.readline()).decode().strip()) not in ("", "quit"):
            if line == "report":
                emit(own_memory())
    finally:
        await runtime.stop()


# -- seeding (in this process, before the bot starts) -----------------------------------------


async def fresh_database(postgres: bool, workdir: Path, n: int) -> tuple[str, str | None]:
    """A URL (and PostgreSQL schema) nobody has used yet."""
    if not postgres:
        return f"sqlite+aiosqlite:///{workdir / f'bench-{n}.db'}", None
    from sqlalchemy import text

    from storage.db import create_engine

    schema = f"bench_mem_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL)
    async with admin.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    await admin.dispose()
    return PG_URL, schema


async def drop_schema(schema: str | None) -> None:
    if schema is None:
        return
    from sqlalchemy import text

    from storage.db import create_engine

    admin = create_engine(PG_URL)
    async with admin.begin() as connection:
        await connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    await admin.dispose()


async def seed_core(engine: AsyncEngine, channels: list[str], due: list[datetime]) -> None:
    from sqlalchemy import insert

    from storage.models import Incident, Reminder, RoleAssignment, TimelineEvent

    now = datetime.now(UTC)
    async with engine.begin() as connection:
        for start in range(0, len(channels), BATCH):
            numbers = range(start + 1, min(len(channels), start + BATCH) + 1)
            rows = [
                {
                    "team_id": TEAM,
                    "number": k,
                    "title": f"Checkout errors in region {k}",
                    "severity": "SEV2",
                    "status": "investigating",
                    "description": "",
                    "customer_impact": True,
                    "impact_text": "",
                    "reporter_id": LEAD,
                    "channel_id": channels[k - 1],
                    "channel_name": f"inc-{k}-checkout-errors-in-region-{k}",
                    "header_ts": f"{now.timestamp():.6f}",
                    "created_at": now,
                    "updated_at": now,
                    "next_update_due": due[k - 1],
                    "paused": False,
                }
                for k in numbers
            ]
            result = await connection.execute(insert(Incident).returning(Incident.id), rows)
            ids = list(result.scalars())
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
                    for i in ids
                ],
            )
            await connection.execute(
                insert(TimelineEvent),
                [
                    {"incident_id": i, "at": now, "actor_id": LEAD, "kind": "declared", "detail": r}
                    for i, r in zip(ids, (row["title"] for row in rows), strict=True)
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
                        "due_at": due[k - 1],
                        "seq": 1,
                        "attempts": 0,
                        "last_error": "",
                    }
                    for i, k in zip(ids, numbers, strict=True)
                ],
            )


async def seed_store(engine: AsyncEngine, channels: list[str], due: list[datetime]) -> None:
    from storage.reminders import ReminderStore
    from storage.repository import IncidentStore, NewIncident

    incidents, reminders = IncidentStore(engine), ReminderStore(engine)
    for k, channel in enumerate(channels, 1):
        incident = await incidents.create_pending(
            NewIncident(
                team_id=TEAM,
                title=f"Checkout errors in region {k}",
                severity="SEV2",
                status="investigating",
                reporter_id=LEAD,
                customer_impact=True,
            )
        )
        await incidents.attach_channel(incident.id, channel, f"inc-{k}-checkout-errors")
        await incidents.set_header_ts(incident.id, f"{time.time():.6f}")
        await incidents.set_next_update_due(incident.id, due[k - 1])
        await reminders.schedule(incident.id, TEAM, due[k - 1])


HISTORY_CUSTOMERS = 20


HISTORY_UPDATES = 3
"""Customer updates per closed incident: 40, 80 and 120 minutes in (the last one the
"resolved" update), each due 50 minutes after the one before."""


def history_sql(postgres: bool, n: int) -> list[str]:
    """``n`` closed incidents over the last 90 days, each with its closure, its customer
    updates and 20 customers (a third of them followed up), as bulk ``INSERT … SELECT``
    statements."""
    if postgres:
        series, yes = f"generate_series(1, {n}) AS s(g)", "true"
        ago = "now() - make_interval(days => g % 89, secs => g % 3600)"
        later = "created_at + interval '3 hours'"
        due = "(created_at + interval '7 days')::date"
        posted = "i.created_at + make_interval(mins => u.n * 40)"
        update_due = "i.created_at + make_interval(mins => u.n * 50)"
    else:
        series = (
            f"(WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {n}) "
            "SELECT g FROM s)"
        )
        yes = "1"
        ago = "datetime('now', '-' || (g % 89) || ' days', '-' || (g % 3600) || ' seconds')"
        later = "datetime(created_at, '+3 hours')"
        due = "date(created_at, '+7 days')"
        posted = "datetime(i.created_at, '+' || (u.n * 40) || ' minutes')"
        update_due = "datetime(i.created_at, '+' || (u.n * 50) || ' minutes')"
    customers = " UNION ALL ".join(f"SELECT {k} AS k" for k in range(HISTORY_CUSTOMERS))
    updates = " UNION ALL ".join(f"SELECT {k} AS n" for k in range(1, HISTORY_UPDATES + 1))
    return [
        "INSERT INTO incidents (team_id, number, title, severity, status, description, "
        "customer_impact, impact_text, reporter_id, channel_id, channel_name, header_ts, "
        "created_at, updated_at, paused) "
        f"SELECT '{TEAM}', g, 'Checkout errors ' || g, 'SEV2', 'closed', '', {yes}, '', "
        f"'{LEAD}', 'CH' || g, 'inc-' || g, '1.000100', {ago}, {ago}, "
        f"{'false' if postgres else '0'} FROM {series}",
        "INSERT INTO incident_closures (incident_id, root_cause, resolution, impact_summary, "
        "amends, prevention, follow_up_owner, follow_up_due, resolved_by, resolved_at, "
        f"closed_at) SELECT id, 'a bad deploy', 'rolled back', '', '', '', '{LEAD}', {due}, "
        f"'{LEAD}', {later}, {later} FROM incidents",
        "INSERT INTO affected_customers (incident_id, position, name, name_key, contact_state, "
        "added_by, added_at, answer) SELECT i.id, c.k, 'Customer ' || c.k, 'customer ' || c.k, "
        "CASE WHEN c.k % 3 = 0 THEN 'followed_up' ELSE 'contacted' END, "
        f"'{LEAD}', i.created_at, CASE WHEN c.k % 3 = 0 THEN 'satisfied' ELSE NULL END "
        f"FROM incidents i CROSS JOIN ({customers}) AS c",
        "INSERT INTO customer_updates (incident_id, number, author_id, kind, text, findings, "
        "posted_anyway, due_at, posted_at) SELECT i.id, u.n, "
        f"'{LEAD}', CASE WHEN u.n = {HISTORY_UPDATES} THEN 'resolved' ELSE 'update' END, "
        f"'We are on it.', '', {'false' if postgres else '0'}, {update_due}, {posted} "
        f"FROM incidents i CROSS JOIN ({updates}) AS u",
    ]


async def seed_history(url: str, schema: str | None, n: int) -> float:
    """Migrate and fill the database with ``n`` closed incidents; returns the seconds."""
    from sqlalchemy import text

    from storage.db import create_engine, migrate

    started = time.perf_counter()
    engine = create_engine(url, search_path=schema)
    await migrate(engine)
    async with engine.begin() as connection:
        for statement in history_sql(engine.dialect.name == "postgresql", n):
            await connection.execute(text(statement))
    await engine.dispose()
    return time.perf_counter() - started


async def seed(url: str, schema: str | None, channels: list[str], due_now: int, how: str) -> float:
    """Migrate and fill the database; returns the seconds it took."""
    from storage.db import create_engine, migrate

    started = time.perf_counter()
    engine = create_engine(url, search_path=schema)
    await migrate(engine)
    now = datetime.now(UTC)
    due = [
        now - timedelta(minutes=1) if k < due_now else now + timedelta(hours=1)
        for k in range(len(channels))
    ]
    if channels:
        await (seed_core if how == "core" else seed_store)(engine, channels, due)
    await engine.dispose()
    return time.perf_counter() - started


# -- the parent: double, driver, and one case at a time ----------------------------------------


def reminders_posted(double: SlackDouble) -> int:
    return sum(
        1
        for c in double.calls
        if c.method == "chat.postMessage"
        and c.response.get("ok")
        and "is due" in str(c.args.get("text"))
    )


async def ask(process: asyncio.subprocess.Process, command: str, timeout: float) -> dict[str, Any]:
    """Send a line to the child and read its next JSON line (skipping anything else)."""
    assert process.stdin is not None and process.stdout is not None
    if command:
        process.stdin.write(command.encode() + b"\n")
        await process.stdin.drain()
    while True:
        line = await asyncio.wait_for(process.stdout.readline(), timeout)
        if not line:
            raise RuntimeError(f"the bot exited (code {await process.wait()})")
        if line.startswith(b"{"):
            answer: dict[str, Any] = json.loads(line)
            return answer


async def command(double: SlackDouble, driver: SlackDriver, text: str, channel: str) -> float:
    """Send ``/incident text``; returns the seconds until its answer reached Slack."""
    started = time.perf_counter()
    reply = await driver.command("/incident", text, user_id=LEAD, channel_id=channel)
    assert reply.status == 200, (text, reply.status, reply.text)
    url = str(reply.response_url)
    await double.wait_for(lambda: double.responses_for(url) or None, timeout=120)
    return time.perf_counter() - started


async def reading(process: asyncio.subprocess.Process) -> Reading:
    answer = await ask(process, "report", 30)
    return Reading(int(answer["peak_kib"]), int(answer["rss_kib"]))


async def run_case(
    double: SlackDouble,
    general: str,
    n: int,
    args: argparse.Namespace,
    workdir: Path,
    history: int = 0,
    stats: str = "stats",
) -> Case:
    from bot.sandbox.driver import SlackDriver

    channels = [
        double.add_channel(f"inc-{k}-checkout-errors", members=[LEAD], bot_member=True)["id"]
        for k in range(1, n + 1)
    ]
    due_now = min(n, args.due)
    url, schema = await fresh_database(args.postgres, workdir, n + 1_000_000 * bool(history))
    try:
        if history:
            seed_seconds = await seed_history(url, schema, history)
        else:
            seed_seconds = await seed(url, schema, channels, due_now, args.seed)
        config = {"api_url": double.api_url, "database_url": url, "schema": schema}
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(Path(__file__).resolve()),
            "--bot-child",
            json.dumps(config),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        try:
            port = int((await ask(process, "", 120))["port"])
            start_seconds = time.perf_counter() - started
            driver = SlackDriver(
                bot_url=f"http://127.0.0.1:{port}/slack/events",
                signing_secret=SECRET,
                double=double,
            )
            try:
                before = reminders_posted(double)
                await double.wait_for(
                    lambda: reminders_posted(double) >= before + due_now or None, timeout=60
                )
                await asyncio.sleep(2.5 * SWEEP_SECONDS)
                listed = [await command(double, driver, "list", general) for _ in range(3)]
                served = await reading(process)
                stats_seconds = await command(double, driver, stats, general)
                after_stats = await reading(process)
            finally:
                await driver.close()
            assert process.stdin is not None
            process.stdin.write(b"quit\n")
            await process.stdin.drain()
            await asyncio.wait_for(process.wait(), 30)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    finally:
        await drop_schema(schema)
    return Case(n, seed_seconds, start_seconds, served, after_stats, max(listed), stats_seconds)


async def main(args: argparse.Namespace) -> None:
    from bot.sandbox.double.server import SlackDouble

    double = SlackDouble(team_id=TEAM, bot_token=TOKEN)
    await double.start()
    double.add_user(LEAD, "lead")
    general = double.add_channel("general", members=[LEAD])["id"]
    workdir = Path(tempfile.mkdtemp(prefix="amends-memory-"))
    try:
        if args.history:
            await history_case(double, general, args, workdir)
            return
        base = await run_case(double, general, 0, args, workdir)
        load = await run_case(double, general, args.incidents, args, workdir)
    finally:
        await double.stop()
        for leftover in workdir.iterdir():
            leftover.unlink()
        workdir.rmdir()
    ratio = load.served.peak_kib / base.served.peak_kib
    extra = load.served.peak_kib - base.served.peak_kib
    print(
        f"database: {'postgresql' if args.postgres else 'sqlite file'}; seeding: {args.seed}; "
        f"{min(args.due, args.incidents)} reminder(s) due at start, the rest in an hour"
    )
    print(f"{'case':<30}{'incidents':>10}{'peak MiB':>10}{'RSS MiB':>10}{'seed s':>8}", end="")
    print(f"{'start s':>9}")
    for name, case in (("baseline", base), ("loaded", load)):
        print(
            f"{name + ' (sweep + 3x list)':<30}{case.incidents:>10}"
            f"{mib(case.served.peak_kib):>10.1f}{mib(case.served.rss_kib):>10.1f}"
            f"{case.seed_seconds:>8.2f}{case.start_seconds:>9.2f}"
        )
    print(
        f"peak RSS {load.incidents} incidents / baseline {mib(base.served.peak_kib):.1f} MiB: "
        f"{ratio:.2f} (+{mib(extra):.1f} MiB, {extra / max(1, load.incidents):.2f} KiB "
        "per open incident)"
    )
    print(
        f"after /incident stats (loads the 30-day window): peak "
        f"{mib(load.after_stats.peak_kib):.1f} MiB, RSS {mib(load.after_stats.rss_kib):.1f} MiB "
        f"(baseline peak {mib(base.after_stats.peak_kib):.1f} MiB, ratio "
        f"{load.after_stats.peak_kib / base.after_stats.peak_kib:.2f})"
    )


async def history_case(
    double: SlackDouble, general: str, args: argparse.Namespace, workdir: Path
) -> None:
    base = await run_case(double, general, 0, args, workdir, stats="stats 90d")
    full = await run_case(
        double, general, 0, args, workdir, history=args.history, stats="stats 90d"
    )
    print(
        f"database: {'postgresql' if args.postgres else 'sqlite file'}; history: "
        f"{args.history} closed incidents x {HISTORY_CUSTOMERS} customers and "
        f"{HISTORY_UPDATES} updates over 90 days (seeded in {full.seed_seconds:.1f} s)"
    )
    for what, idle, loaded, seconds in (
        ("3x /incident list", base.served, full.served, (base.list_seconds, full.list_seconds)),
        (
            "then /incident stats 90d",
            base.after_stats,
            full.after_stats,
            (base.stats_seconds, full.stats_seconds),
        ),
    ):
        print(
            f"  peak RSS after {what}: {mib(loaded.peak_kib):.1f} MiB with history, "
            f"{mib(idle.peak_kib):.1f} MiB idle bot: {loaded.peak_kib / idle.peak_kib:.2f}x; "
            f"answered in {seconds[1]:.2f} s (idle bot {seconds[0]:.2f} s)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=5, help="reminders due at once")
    parser.add_argument("--seed", choices=("core", "store"), default="core")
    parser.add_argument("--history", type=int, default=0, help="closed incidents (90 days)")
    parser.add_argument("--postgres", action="store_true", help=f"use {PG_URL}, own schema")
    parser.add_argument("--bot-child", metavar="CONFIG", help=argparse.SUPPRESS)
    parsed = parser.parse_args()
    if parsed.bot_child:
        asyncio.run(bot_child(json.loads(parsed.bot_child)))
    else:
        asyncio.run(main(parsed))
