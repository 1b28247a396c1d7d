"""Async engine, sessions and schema migrations."""

from __future__ import annotations

import functools
import time
import traceback
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event, text
from sqlalchemy.exc import DBAPIError, InterfaceError, InvalidatePoolError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
CONNECT_TIMEOUT_SECONDS = 5


STATEMENT_TIMEOUT_SECONDS = 30.0
"""How long a PostgreSQL round trip may take before it fails (asyncpg's ``command_timeout``).
A link that died without a reset (a NAT or firewall dropping it) leaves a connection whose
answers never come: without a limit the statement waits for the kernel's TCP timeout, a
quarter of an hour, and the reminder sweep waits with it. Past the limit SQLAlchemy drops
the connection and the next attempt opens a new one. Amends's longest statement (a 90-day
``/incident stats`` over 100,000 incidents) takes about 2 s; a migration longer than this
limit must be run by hand."""


POOL_SIZE = 10
"""Connections a process keeps open to PostgreSQL. Beyond them up to ``POOL_OVERFLOW`` more
are opened for a burst and closed when returned: a new asyncpg connection costs a TLS
attempt, a login and SQLAlchemy's type set-up, and re-prepares every statement, so the
pool is sized to keep a reminder burst from opening and closing connections all along."""
POOL_OVERFLOW = 20
PING_WHEN_IDLE_SECONDS = 1.0
"""A pooled connection idle for longer than this is pinged before it is handed out (a
restarted database has dropped it; a fresh one is taken instead). One in use a moment
ago is not: the ping is three round trips (BEGIN, a query, ROLLBACK), more than most
uses of a connection, and a database that goes away between two uses this close is met
like one that goes away mid-use (``database_unavailable``: try again)."""


SERVER_SETTINGS = {"jit": "off"}
"""PostgreSQL settings of Amends's connections. JIT compiling pays off for long analytic
queries; Amends's are short, and a plan the planner misjudges as costly (a batch read
before the statistics caught up with a burst of new rows) spent 12 ms compiling to run
4 ms."""


def create_engine(
    url: str,
    *,
    search_path: str | None = None,
    statement_timeout: float = STATEMENT_TIMEOUT_SECONDS,
) -> AsyncEngine:
    """Build the engine for ``url``; ``search_path`` pins a PostgreSQL schema (used by tests),
    ``statement_timeout`` bounds each PostgreSQL round trip (see ``STATEMENT_TIMEOUT_SECONDS``)."""
    connect_args: dict[str, Any] = {}
    if url.startswith("sqlite"):
        connect_args["timeout"] = 30
        engine = create_async_engine(url, connect_args=connect_args)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # A database that is away must fail a request fast, not after asyncpg's 60 s.
    connect_args["timeout"] = CONNECT_TIMEOUT_SECONDS
    connect_args["command_timeout"] = statement_timeout
    connect_args["server_settings"] = dict(SERVER_SETTINGS)
    if search_path:
        connect_args["server_settings"]["search_path"] = search_path
    engine = create_async_engine(
        url,
        connect_args=connect_args,
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
        pool_use_lifo=True,  # the busy connections stay busy; the idle ones get pinged
    )
    event.listen(engine.sync_engine, "checkin", _checked_in)
    event.listen(engine.sync_engine, "checkout", functools.partial(_ping_if_idle, engine))
    return engine


def _checked_in(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info["checked_in"] = time.monotonic()


def _ping_if_idle(
    engine: AsyncEngine, dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any
) -> None:
    """``pool_pre_ping`` for connections idle longer than ``PING_WHEN_IDLE_SECONDS``: a
    failed ping makes the pool drop every connection as old as this one and hand out a
    new one (SQLAlchemy retries the checkout)."""
    since = record.info.get("checked_in")
    if since is None or time.monotonic() - since <= PING_WHEN_IDLE_SECONDS:
        return
    try:
        alive = engine.dialect.do_ping(dbapi_connection)
    except Exception as exc:
        raise InvalidatePoolError(f"ping failed: {exc!r}") from exc
    if not alive:
        raise InvalidatePoolError("ping failed")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers run beside the writer; foreign keys are off by default in SQLite."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


MIGRATION_LOCK_CLASS = 0x616D6E64
"""First half of the advisory lock key that migrations hold (“amnd”); the second half is
the schema's hash, so deployments (and test runs) in other schemas do not wait for each other."""
_POSTGRES_MIGRATION_LOCK = text(
    "SELECT pg_advisory_xact_lock(:lock_class, hashtext(coalesce(current_schema(), '')))"
)
_SQLITE_MIGRATION_LOCK = "BEGIN IMMEDIATE"


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision (idempotent; runs on every start).

    Replicas starting together must not run the same migration twice (duplicate tables,
    a second version row): the first takes a lock that the others wait for, and they then
    find the schema at head. On PostgreSQL it is an advisory lock held by the transaction
    that runs Alembic; on SQLite the migration's transaction takes the database's write lock
    before it reads the version (the others wait up to the busy timeout).
    """
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(_POSTGRES_MIGRATION_LOCK, {"lock_class": MIGRATION_LOCK_CLASS})
        elif connection.dialect.name == "sqlite":
            await connection.exec_driver_sql(_SQLITE_MIGRATION_LOCK)
        await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), "head"))


_UNAVAILABLE_NAMES = frozenset(
    {
        "CannotConnectNowError",
        "ConnectionDoesNotExistError",
        "ConnectionFailureError",
        "AdminShutdownError",
        "InterfaceError",
    }
)


def database_unavailable(error: BaseException) -> bool:
    """Whether ``error`` means the database could not be reached (restart, network), as
    opposed to a bug: such a failure changed nothing and is worth trying again."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, (OperationalError, InterfaceError)):
            return True
        if type(current).__name__ in _UNAVAILABLE_NAMES:
            return True
        if isinstance(current, (OSError, TimeoutError)) and _raised_in_sqlalchemy(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _raised_in_sqlalchemy(error: BaseException) -> bool:
    """A refused connection reaches us unwrapped; its traceback says it was the pool's."""
    frames = traceback.extract_tb(error.__traceback__)
    return any("/sqlalchemy/" in frame.filename.replace("\\", "/") for frame in frames)
