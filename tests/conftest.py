"""Shared fixtures: a database per test (SQLite and PostgreSQL) and the harness (the Slack
API double, the real bot over real HTTP, a driver that signs requests like Slack)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine
from tests.support.harness import (
    POSTGRES_URL,
    REQUIRE_POSTGRES,
    STATEMENT_TIMEOUT,
    Harness,
    postgres_reachable,
    start_harness,
    stop_harness,
)


@pytest.fixture(params=["sqlite", "postgres"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A fresh, empty database: a SQLite file, or a throw-away PostgreSQL schema."""
    if request.param == "sqlite":
        eng = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'amends.db'}")
        yield eng
        await eng.dispose()
        return
    if not await postgres_reachable():
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required but not reachable at {POSTGRES_URL}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    async with admin.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    eng = create_engine(POSTGRES_URL, search_path=schema, statement_timeout=STATEMENT_TIMEOUT)
    yield eng
    await eng.dispose()
    async with admin.begin() as connection:
        await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    await admin.dispose()


@pytest.fixture
async def harness(engine: AsyncEngine) -> AsyncIterator[Harness]:
    h = await start_harness(engine)
    yield h
    await stop_harness(h)
