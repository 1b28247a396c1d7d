"""What one person's App Home shows: their open incidents and roles, the customer updates
they owe, and the customers waiting for their follow-up — each list bounded in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Generic, TypeVar

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from storage.models import FOLLOWED_UP, AffectedCustomer, Closure, Incident, RoleAssignment


@dataclass(frozen=True)
class HomeIncident:
    number: int
    title: str
    status: str
    channel_id: str | None
    roles: tuple[str, ...]
    """The roles the person holds (empty for a reporter without one)."""
    next_update_due: datetime | None


@dataclass(frozen=True)
class WaitingFollowUp:
    number: int
    title: str
    channel_id: str | None
    waiting: int
    due: date


T = TypeVar("T")


@dataclass(frozen=True)
class Listing(Generic[T]):
    """At most ``limit`` rows, and how many there are in all."""

    rows: tuple[T, ...]
    total: int


class HomeStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def incidents(
        self, team_id: str, user_id: str, statuses: Sequence[str], limit: int
    ) -> Listing[HomeIncident]:
        """Incidents in ``statuses`` that ``user_id`` reported or holds a role in, the ones
        whose next update is due soonest first."""
        where = (
            Incident.team_id == team_id,
            Incident.status.in_(statuses),
            Incident.channel_id.is_not(None),
            _takes_part(user_id),
        )
        async with self._sessions() as session:
            total = await session.scalar(select(func.count()).select_from(Incident).where(*where))
            rows = await session.scalars(
                select(Incident)
                .where(*where)
                .order_by(Incident.next_update_due.asc(), Incident.number.desc())
                .limit(limit)
            )
            return Listing(tuple(_home_incident(i, user_id) for i in rows), int(total or 0))

    async def owed_by(
        self, team_id: str, user_id: str, statuses: Sequence[str], limit: int
    ) -> Listing[HomeIncident]:
        """Active, unpaused incidents whose customer update ``user_id`` owns: they hold
        comms, or lead while nobody holds comms, or reported it while nobody holds either."""
        comms = _holder("comms")
        lead = _holder("lead")
        owner = or_(
            comms == user_id,
            (comms.is_(None)) & (lead == user_id),
            (comms.is_(None)) & (lead.is_(None)) & (Incident.reporter_id == user_id),
        )
        where = (
            Incident.team_id == team_id,
            Incident.status.in_(statuses),
            Incident.paused.is_(False),
            Incident.next_update_due.is_not(None),
            owner,
        )
        async with self._sessions() as session:
            total = await session.scalar(select(func.count()).select_from(Incident).where(*where))
            rows = await session.scalars(
                select(Incident).where(*where).order_by(Incident.next_update_due).limit(limit)
            )
            return Listing(tuple(_home_incident(i, user_id) for i in rows), int(total or 0))

    async def follow_ups(
        self, team_id: str, user_id: str, status: str, limit: int
    ) -> Listing[WaitingFollowUp]:
        """Resolved incidents whose follow-up ``user_id`` owns, with customers waiting."""
        waiting = (
            select(func.count())
            .where(
                AffectedCustomer.incident_id == Incident.id,
                AffectedCustomer.contact_state != FOLLOWED_UP,
            )
            .scalar_subquery()
        )
        where = (
            Incident.team_id == team_id,
            Incident.status == status,
            Closure.follow_up_owner == user_id,
            waiting > 0,
        )
        query = select(Incident, Closure.follow_up_due, waiting).join(
            Closure, Closure.incident_id == Incident.id
        )
        async with self._sessions() as session:
            total = await session.scalar(
                select(func.count())
                .select_from(Incident)
                .join(Closure, Closure.incident_id == Incident.id)
                .where(*where)
            )
            rows = await session.execute(
                query.where(*where).order_by(Closure.follow_up_due).limit(limit)
            )
            found = tuple(
                WaitingFollowUp(i.number, i.title, i.channel_id, int(count), due)
                for i, due, count in rows.all()
            )
        return Listing(found, int(total or 0))


def _takes_part(user_id: str) -> ColumnElement[bool]:
    holds = exists().where(
        RoleAssignment.incident_id == Incident.id, RoleAssignment.user_id == user_id
    )
    return or_(Incident.reporter_id == user_id, holds)


def _holder(role: str) -> ColumnElement[str | None]:
    return (
        select(RoleAssignment.user_id)
        .where(RoleAssignment.incident_id == Incident.id, RoleAssignment.role == role)
        .scalar_subquery()
    )


def _home_incident(incident: Incident, user_id: str) -> HomeIncident:
    held = {r.role: r.user_id for r in incident.roles}
    return HomeIncident(
        number=incident.number,
        title=incident.title,
        status=incident.status,
        channel_id=incident.channel_id,
        roles=tuple(role for role, holder in held.items() if holder == user_id),
        next_update_due=incident.next_update_due,
    )
