"""Slack calls parked while Slack was unavailable, and the events already applied."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.orm import aliased

from storage.models import OutboxCall, SeenRequest, utcnow


class OutboxStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def park(
        self,
        team_id: str,
        method: str,
        args: dict[str, Any],
        key: str | None,
        error: str,
        made_at: datetime,
        *,
        incident_id: int | None = None,
        after: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> None:
        """Keep a call for later. Calls sharing a ``key`` keep only the one made last
        (``made_at``): a slower, older call parked after a newer one is dropped.

        A call with an ``incident_id`` joins the end of that incident's lane (see
        :meth:`due`); ``after`` names the step to run once it went through."""
        now = utcnow()
        async with self._sessions.begin() as session:
            if key is not None:
                newer = await session.scalar(
                    select(func.count())
                    .select_from(OutboxCall)
                    .where(OutboxCall.key == key, OutboxCall.created_at > made_at)
                )
                if newer:
                    return
                await session.execute(delete(OutboxCall).where(OutboxCall.key == key))
            session.add(
                OutboxCall(
                    team_id=team_id,
                    method=method,
                    args=json.dumps(args),
                    key=key,
                    attempts=0,
                    next_try_at=now,
                    created_at=made_at,
                    last_error=error,
                    incident_id=incident_id,
                    after=after,
                    context=json.dumps(context) if context is not None else None,
                )
            )

    async def due(self, now: datetime, limit: int) -> list[OutboxCall]:
        """The oldest parked calls whose retry time has come and that head their lane:
        a call waits while an older call of the same incident is still undelivered."""
        earlier = aliased(OutboxCall)
        blocked = (
            select(earlier.id)
            .where(
                earlier.incident_id == OutboxCall.incident_id,
                earlier.id < OutboxCall.id,
                earlier.result.is_(None),
            )
            .exists()
        )
        async with self._sessions() as session:
            rows = await session.scalars(
                select(OutboxCall)
                .where(OutboxCall.next_try_at <= now, ~blocked)
                .order_by(OutboxCall.id)
                .limit(limit)
            )
            return list(rows)

    async def waiting(self, incident_id: int) -> bool:
        """Whether the incident has parked calls not yet delivered (its lane is busy)."""
        async with self._sessions() as session:
            found = await session.scalar(
                select(OutboxCall.id)
                .where(OutboxCall.incident_id == incident_id, OutboxCall.result.is_(None))
                .limit(1)
            )
            return found is not None

    async def delivered(self, call_id: int, result: dict[str, Any]) -> None:
        """The call went through; keep Slack's answer until its ``after`` step has run."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(OutboxCall).where(OutboxCall.id == call_id).values(result=json.dumps(result))
            )

    async def claim(self, call: OutboxCall, retry_at: datetime) -> bool:
        """Take ``call`` for one attempt; false when another process took it first."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(OutboxCall)
                .where(OutboxCall.id == call.id, OutboxCall.attempts == call.attempts)
                .values(attempts=call.attempts + 1, next_try_at=retry_at)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def failed(self, call_id: int, error: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(OutboxCall).where(OutboxCall.id == call_id).values(last_error=error)
            )

    async def done(self, call_id: int) -> None:
        async with self._sessions.begin() as session:
            await session.execute(delete(OutboxCall).where(OutboxCall.id == call_id))

    async def supersede(self, key: str, made_at: datetime) -> None:
        """A call with ``key`` made at ``made_at`` went through: older parked ones are moot."""
        async with self._sessions.begin() as session:
            await session.execute(
                delete(OutboxCall).where(OutboxCall.key == key, OutboxCall.created_at <= made_at)
            )

    async def pending(self, method: str | None = None) -> int:
        """How many calls are parked (of ``method`` only, if given)."""
        query = select(func.count()).select_from(OutboxCall)
        if method is not None:
            query = query.where(OutboxCall.method == method)
        async with self._sessions() as session:
            return int(await session.scalar(query) or 0)


class SeenEvents:
    """Events API deliveries already applied (by event), so Slack's redeliveries are not."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._postgres = engine.dialect.name == "postgresql"

    async def first_time(self, digest: str) -> bool:
        """Record ``digest``; true only for the first caller, even across replicas."""
        insert = pg_insert if self._postgres else sqlite_insert
        statement = (
            insert(SeenRequest)
            .values(digest=digest, seen_at=utcnow())
            .on_conflict_do_nothing(index_elements=["digest"])
        )
        async with self._sessions.begin() as session:
            result = await session.execute(statement)
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def forget_before(self, cutoff: datetime) -> int:
        async with self._sessions.begin() as session:
            result = await session.execute(delete(SeenRequest).where(SeenRequest.seen_at < cutoff))
            return int(result.rowcount)  # type: ignore[attr-defined]
