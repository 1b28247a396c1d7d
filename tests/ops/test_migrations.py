"""The Alembic migrations build exactly the schema the models describe, on both databases,
and several replicas starting at once on the same database all come up."""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import alembic_config, migrate
from storage.models import Base


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection)
    return list(compare_metadata(context, Base.metadata))


async def test_migrations_match_models_and_rerun_cleanly(engine: AsyncEngine) -> None:
    await migrate(engine)
    await migrate(engine)
    async with engine.connect() as connection:
        differences = await connection.run_sync(_differences)
        tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert differences == []
    assert {"incidents", "incident_roles", "affected_customers", "timeline_events"} <= tables


STARTERS = 4
"""Replicas starting at the same moment; more than two makes an unguarded race show surely."""
START_DELAY_SECONDS = 4.0
"""Time for every starter process to import the bot before the agreed moment."""
ROOT = Path(__file__).resolve().parents[2]


async def _upgrade_to(engine: AsyncEngine, revision: str) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))


async def _revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )


async def _start_at_once(engine: AsyncEngine) -> list[str]:
    """Start STARTERS processes that migrate the same database at the same moment; what each
    printed on failure (an empty list when all came up)."""
    url = engine.url.render_as_string(hide_password=False)
    schema = ""
    if engine.dialect.name == "postgresql":
        async with engine.connect() as connection:
            schema = str(await connection.scalar(text("SELECT current_schema()")))
    at = str(time.time() + START_DELAY_SECONDS)
    starters = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.support.migration_starter",
            url,
            schema,
            at,
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        for _ in range(STARTERS)
    ]
    outputs = [(await p.communicate())[0].decode() for p in starters]
    return [out[-2000:] for p, out in zip(starters, outputs, strict=True) if p.returncode != 0]


async def test_replicas_starting_together_on_an_empty_schema_all_come_up(
    engine: AsyncEngine,
) -> None:
    assert await _start_at_once(engine) == []
    assert await _revision(engine) == _head()


async def test_replicas_starting_together_on_an_old_schema_all_come_up(
    engine: AsyncEngine,
) -> None:
    await _upgrade_to(engine, "0004")
    assert await _revision(engine) == "0004"
    assert await _start_at_once(engine) == []
    assert await _revision(engine) == _head()


def _head() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_existing_updates_are_numbered_per_incident_in_posting_order(
    engine: AsyncEngine,
) -> None:
    """Before 0005 two updates recorded at once could both be announced as “#2”; the
    migration gives every stored update its own number, oldest first."""
    await _upgrade_to(engine, "0004")
    first, second = datetime(2026, 11, 30, 9, tzinfo=UTC), datetime(2026, 11, 30, 10, tzinfo=UTC)
    async with engine.begin() as connection:
        for incident_id, number in ((1, 1), (2, 2)):
            await connection.execute(
                text(
                    "INSERT INTO incidents (id, team_id, number, title, severity, status, "
                    "description, customer_impact, impact_text, reporter_id, created_at, "
                    "updated_at, paused) VALUES (:id, 'T1', :number, 't', 'SEV2', 'open', '', "
                    "false, '', 'U1', :at, :at, false)"
                ),
                {"id": incident_id, "number": number, "at": first},
            )
        # Incident 1: two updates posted at the same moment (the old double), then a later one.
        for update_id, incident_id, at in (
            (10, 1, second),
            (11, 1, second),
            (12, 2, first),
            (13, 1, first),
        ):
            await connection.execute(
                text(
                    "INSERT INTO customer_updates (id, incident_id, author_id, kind, text, "
                    "findings, posted_anyway, posted_at) VALUES (:id, :incident, 'U1', "
                    "'update', 'x', '', false, :at)"
                ),
                {"id": update_id, "incident": incident_id, "at": at},
            )
    await migrate(engine)
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT id, incident_id, number FROM customer_updates ORDER BY id")
        )
        numbers = {row.id: (row.incident_id, row.number) for row in rows}
    assert numbers == {13: (1, 1), 10: (1, 2), 11: (1, 3), 12: (2, 1)}
