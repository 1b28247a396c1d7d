"""One replica's start, as far as the schema goes: wait for an agreed moment, then migrate.

Run as ``python -m tests.support.migration_starter <url> <schema or ""> <epoch seconds>`` by
tests/ops/test_migrations.py, several at once, as separate processes the way replicas are.
"""

from __future__ import annotations

import asyncio
import sys
import time

from storage.db import create_engine, migrate


async def start(url: str, schema: str, at: float) -> None:
    engine = create_engine(url, search_path=schema or None)
    try:
        async with engine.connect():
            pass  # connected beforehand, so every starter begins migrating at the same moment
        await asyncio.sleep(max(0.0, at - time.time()))
        await migrate(engine)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(start(sys.argv[1], sys.argv[2], float(sys.argv[3])))
