"""Resolving, closing and reopening: each one status compare-and-set plus its record."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.models import (
    Closure,
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


async def _move(
    session: AsyncSession, incident_id: int, expected: str, new: str, **also: object
) -> bool:
    result = await session.execute(
        update(Incident)
        .where(Incident.id == incident_id, Incident.status == expected)
        .values(status=new, updated_at=utcnow(), **also)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]
