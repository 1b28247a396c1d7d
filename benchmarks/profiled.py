"""Run ``amends`` (any subcommand) under cProfile, counting the SQL statements it sends.

Used by the benchmarks' ``--profile`` option in place of ``python -m bot.cli``: when the
process ends (``serve`` ends cleanly on SIGTERM) it writes, to the file named by
``AMENDS_PROFILE_OUT``, the top functions by cumulative and by own time and the SQL
statements sent, counted by their first words, so the cost per delivery can be read off
(divide by the number of reminders delivered).

It also sums the wall time (waits included) spent in a few coroutines of the delivery
(``WAITED``). ``AMENDS_PROFILE_CPU=0`` leaves cProfile out (its overhead stretches the waits).

Run: ``python benchmarks/profiled.py serve`` (with the worker's environment).
"""

from __future__ import annotations

import atexit
import cProfile
import io
import os
import pstats
import sys
from collections import Counter
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

TOP = 35
statements: Counter[str] = Counter()


def shape(statement: str) -> str:
    """A statement's kind and table: enough to tell the round trips apart."""
    words = " ".join(statement.split()).split(" ")
    return " ".join(words[:6])[:90]


@event.listens_for(Engine, "before_cursor_execute")
def count(
    _conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
) -> None:
    statements[shape(statement)] += 1


def report(profile: cProfile.Profile | None) -> None:
    out = io.StringIO()
    stats = None
    if profile is not None:
        profile.disable()
        stats = pstats.Stats(profile, stream=out)
        stats.sort_stats("cumulative").print_stats(TOP)
        stats.sort_stats("tottime").print_stats(TOP)
        out.write("\nown time by package (where the CPU went):\n")
        for package, seconds in by_package(stats).most_common(20):
            out.write(f"{seconds:8.2f} s  {package}\n")
    out.write("\nwall time in (waits included; calls, total s, mean ms):\n")
    for what, (calls, seconds) in waited.items():
        mean = seconds / calls * 1000 if calls else 0.0
        out.write(f"{int(calls):8d} {seconds:9.2f} s {mean:8.1f} ms  {what}\n")
    out.write(f"\nSQL statements sent: {sum(statements.values())}\n")
    for what, n in statements.most_common(40):
        out.write(f"{n:8d}  {what}\n")
    target = os.environ.get("AMENDS_PROFILE_OUT", "amends.prof.txt")
    with open(target, "w") as file:
        file.write(out.getvalue())
    if stats is not None:
        stats.dump_stats(target.removesuffix(".txt") + ".prof")


def by_package(stats: pstats.Stats) -> Counter[str]:
    """Own (not cumulative) time summed per installed package or project folder: with
    coroutines and greenlets cumulative times count waits several times over."""
    totals: Counter[str] = Counter()
    raw: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    for (filename, _line, function), (_cc, _nc, tottime, _ct, _callers) in raw.items():
        totals[package_of(filename, function)] += tottime
    return totals


def package_of(filename: str, function: str) -> str:
    if filename == "~":
        return f"builtin {function}"[:60]
    path = filename.replace("\\", "/")
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1].split("/", 1)[0]
    root = os.getcwd().rstrip("/") + "/"
    if path.startswith(root):
        return "/".join(path[len(root) :].split("/")[:2])
    return "stdlib " + path.rsplit("/", 1)[-1]


WAITED = (
    "bot.incidents.reminder_delivery:Batched.__call__",
    "bot.incidents.reminder_delivery:ReminderDelivery._post_once",
    "bot.incidents.reminder_delivery:ReminderDelivery._complete",
    "bot.incidents.reminder_delivery:ReminderDelivery._dm_once",
    "bot.incidents.reminder_delivery:ReminderDelivery._retire_previous",
    "bot.incidents.reminder_delivery:ReminderDelivery._owner",
    "bot.incidents.reminder_engine:ReminderEngine.tick",
    "bot.incidents.reminder_engine:ReminderEngine._deliver_guarded",
    "slack_sdk.web.async_base_client:AsyncBaseClient.api_call",
    "sqlalchemy.ext.asyncio.session:AsyncSession.execute",
    "sqlalchemy.ext.asyncio.session:AsyncSession.commit",
    "sqlalchemy.ext.asyncio.session:AsyncSession.close",
)
"""Coroutines whose wall time (waits included) is summed: where a delivery spends its time."""
waited: dict[str, list[float]] = {}


def time_waits() -> None:
    import importlib
    import time
    from functools import wraps

    for target in WAITED:
        module_name, qualified = target.split(":")
        owner_name, name = qualified.split(".")
        owner = getattr(importlib.import_module(module_name), owner_name)
        original = getattr(owner, name)
        totals = waited.setdefault(qualified, [0, 0.0])

        def timed(original: Any = original, totals: list[float] = totals) -> Any:
            @wraps(original)
            async def wrapper(*args: Any, **kwargs: Any) -> Any:
                started = time.perf_counter()
                try:
                    return await original(*args, **kwargs)
                finally:
                    totals[0] += 1
                    totals[1] += time.perf_counter() - started

            return wrapper

        setattr(owner, name, timed())


def main() -> None:
    from bot.cli import main as amends

    time_waits()

    profile = cProfile.Profile() if os.environ.get("AMENDS_PROFILE_CPU", "1") != "0" else None
    atexit.register(report, profile)
    if profile is not None:
        profile.enable()
    sys.exit(amends(sys.argv[1:]))


if __name__ == "__main__":
    main()
