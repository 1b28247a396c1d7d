"""Resolving, closing and reopening: each one status compare-and-set plus its record."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import raiseload, selectinload

from storage.models import (
    FOLLOWED_UP,
    NOT_CONTACTED,
    AffectedCustomer,
    Closure,
    CustomerUpdate,
    Incident,
    Status,
    TimelineEvent,
    utcnow,
)
from storage.reminders import CANCELLED, CUSTOMER_UPDATE, FOLLOW_UP, schedule_in, set_state_in


@dataclass(frozen=True)
class NewClosure:
    root_cause: str
    resolution: str
    impact_summary: str
    amends: str
    prevention: str
    follow_up_owner: str
    follow_up_due: date


WINDOW_CHUNK = 500
"""Incidents read at a time for a window's figures: memory stays the same however much
history the window holds."""


@dataclass(frozen=True)
class CustomerTally:
    """An incident's customers, counted in SQL (the figures need no customer rows)."""

    total: int = 0
    contacted: int = 0
    followed_up: int = 0
    satisfied: int = 0
    not_satisfied: int = 0


@dataclass(frozen=True)
class WindowChunk:
    incidents: list[Incident]
    updates: dict[int, list[CustomerUpdate]]
    customers: dict[int, CustomerTally]


class ClosureStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def resolve(
        self,
        incident_id: int,
        expected: str,
        closure: NewClosure,
        actor_id: str,
        follow_up_at: datetime,
    ) -> bool:
        """``expected`` → resolved with what the close recorded; False if the status moved.

        One transaction also stops the customer-update clock and schedules the follow-up
        reminder for ``follow_up_at``: a resolve is never without its follow-up, whatever
        happens to the Slack calls that come after it.
        """
        async with self._sessions.begin() as session:
            if not await _move(
                session, incident_id, expected, Status.RESOLVED, next_update_due=None
            ):
                return False
            team_id = await session.scalar(
                select(Incident.team_id).where(Incident.id == incident_id)
            )
            await set_state_in(session, incident_id, CANCELLED, CUSTOMER_UPDATE)
            await schedule_in(session, incident_id, str(team_id), FOLLOW_UP, follow_up_at)
            row = await session.scalar(select(Closure).where(Closure.incident_id == incident_id))
            if row is None:
                row = Closure(incident_id=incident_id)
                session.add(row)
            for key, value in asdict(closure).items():
                setattr(row, key, value)
            row.resolved_by, row.resolved_at, row.closed_at = actor_id, utcnow(), None
            session.add(
                TimelineEvent.now(incident_id, actor_id, "resolved", closure.root_cause[:500])
            )
        return True

    async def finish(self, incident_id: int, actor_id: str) -> bool:
        """resolved → closed once every customer is followed up; False if not resolved."""
        async with self._sessions.begin() as session:
            if not await _move(session, incident_id, Status.RESOLVED, Status.CLOSED):
                return False
            await session.execute(
                update(Closure).where(Closure.incident_id == incident_id).values(closed_at=utcnow())
            )
            session.add(
                TimelineEvent.now(incident_id, actor_id, "closed", "every customer followed up")
            )
        return True

    async def reopen(self, incident_id: int, expected: str, reason: str, actor_id: str) -> bool:
        async with self._sessions.begin() as session:
            if not await _move(session, incident_id, expected, Status.INVESTIGATING):
                return False
            session.add(TimelineEvent.now(incident_id, actor_id, "reopened", reason))
        return True

    async def since_in_chunks(
        self, team_id: str, start: datetime, chunk: int = WINDOW_CHUNK
    ) -> AsyncIterator[WindowChunk]:
        """The workspace's incidents declared since ``start``, ``chunk`` at a time (in id
        order), each with its customer updates and its customers counted in SQL, never
        loaded. Drills are rehearsals, not incidents: they are left out."""
        after = 0
        while True:
            async with self._sessions() as session:
                incidents = list(
                    await session.scalars(
                        select(Incident)
                        .where(
                            Incident.team_id == team_id,
                            Incident.created_at >= start,
                            Incident.channel_id.is_not(None),
                            Incident.drill.is_(False),
                            Incident.id > after,
                        )
                        .order_by(Incident.id)
                        .limit(chunk)
                        .options(
                            raiseload(Incident.roles),
                            selectinload(Incident.closure),
                        )
                    )
                )
                if not incidents:
                    return
                ids = [i.id for i in incidents]
                updates: dict[int, list[CustomerUpdate]] = defaultdict(list)
                rows = await session.scalars(
                    select(CustomerUpdate)
                    .where(CustomerUpdate.incident_id.in_(ids))
                    .order_by(CustomerUpdate.posted_at, CustomerUpdate.id)
                )
                for row in rows:
                    updates[row.incident_id].append(row)
                customers = await _tallies(session, ids)
            yield WindowChunk(incidents, updates, customers)
            after = ids[-1]


async def _tallies(session: AsyncSession, ids: list[int]) -> dict[int, CustomerTally]:
    c = AffectedCustomer
    followed = c.contact_state == FOLLOWED_UP

    def count(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.sum(case((condition, 1), else_=0))

    rows = await session.execute(
        select(
            c.incident_id,
            func.count(c.id),
            count(c.contact_state != NOT_CONTACTED),
            count(followed),
            count(followed & (c.answer == "satisfied")),
            count(followed & (c.answer == "not_satisfied")),
        )
        .where(c.incident_id.in_(ids))
        .group_by(c.incident_id)
    )
    return {row[0]: CustomerTally(*(int(n or 0) for n in row[1:])) for row in rows}


async def _move(
    session: AsyncSession, incident_id: int, expected: str, new: str, **also: object
) -> bool:
    result = await session.execute(
        update(Incident)
        .where(Incident.id == incident_id, Incident.status == expected)
        .values(status=new, updated_at=utcnow(), **also)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]
