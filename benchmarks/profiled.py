"""Run ``amends`` (any subcommand) under cProfile, counting the SQL statements it sends.

Used by the benchmarks' ``--profile`` option in place of ``python -m bot.cli``: when the
process ends (``serve`` ends cleanly on SIGTERM) it writes, to the file named by
``AMENDS_PROFILE_OUT``, the top functions by cumulative and by own time and the SQL
statements sent, counted by their first words, so the cost per delivery can be read off
(divide by the number of reminders delivered).

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


def report(profile: cProfile.Profile) -> None:
    profile.disable()
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("cumulative").print_stats(TOP)
    stats.sort_stats("tottime").print_stats(TOP)
    out.write("\nown time by package (where the CPU went):\n")
    for package, seconds in by_package(stats).most_common(20):
        out.write(f"{seconds:8.2f} s  {package}\n")
    out.write(f"\nSQL statements sent: {sum(statements.values())}\n")
    for what, n in statements.most_common(40):
        out.write(f"{n:8d}  {what}\n")
    target = os.environ.get("AMENDS_PROFILE_OUT", "amends.prof.txt")
    with open(target, "w") as file:
        file.write(out.getvalue())
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


def main() -> None:
    from bot.cli import main as amends

    profile = cProfile.Profile()
    atexit.register(report, profile)
    profile.enable()
    sys.exit(amends(sys.argv[1:]))


if __name__ == "__main__":
    main()
