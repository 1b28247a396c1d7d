"""All SQL lives here. Each method is one short transaction."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import joinedload, selectinload, with_expression
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql import ColumnElement, Select

from messages.limits import CUSTOMERS_SHOWN
from storage.batches import BatchIds
from storage.models import (
    AffectedCustomer,
    CustomerUpdate,
    Incident,
    RoleAssignment,
    Status,
    TimelineEvent,
    utcnow,
)

NUMBER_ATTEMPTS = 50


class NumberAllocationError(RuntimeError):
    """Could not find a free incident (or update) number after many concurrent attempts."""


@dataclass(frozen=True)
class NewIncident:
    team_id: str
    title: str
    severity: str
    status: Status
    reporter_id: str
    description: str = ""
    customer_impact: bool = False
    impact_text: str = ""
    customers: tuple[str, ...] = ()
    customer_languages: Mapping[str, str] = field(default_factory=dict)
    """A language of their own for some of the customers, by name."""
    next_update_due: datetime | None = None
    drill: bool = False
    playbook: str | None = None


@dataclass(frozen=True)
class NewUpdate:
    author_id: str
    text: str
    posted_at: datetime
    kind: str = "update"
    findings: str = ""
    posted_anyway: bool = False
    due_at: datetime | None = None
    public_title: str | None = None
    """The customer-facing title given with this update, stored on the incident."""


# Keyed by schema as well as workspace: advisory locks are database-wide, and deployments
# (or test runs) in other schemas of the same database must not queue behind each other.
NUMBER_LOCK = text("SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':' || :team))")

CUSTOMER_COUNT = (
    select(func.count(AffectedCustomer.id))
    .where(AffectedCustomer.incident_id == Incident.id)
    .correlate(Incident)
    .scalar_subquery()
)
"""How many customers an incident affects, counted in the query that loads it."""


class IncidentStore:
    """Repository for incidents, their roles, customers and timeline."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._postgres = engine.dialect.name == "postgresql"
        self._number_lock = asyncio.Lock()
        self._incident_ids = BatchIds(engine.dialect, Incident.__table__.c.id.type)
        self._for_reminders = (
            select(Incident, CUSTOMER_COUNT)
            .where(self._incident_ids.among(Incident.id))
            .options(joinedload(Incident.roles), joinedload(Incident.closure))
        )
        """What ``for_reminders`` runs: one statement for a batch of any size."""

    async def create_pending(self, new: NewIncident) -> Incident:
        """Insert an incident (no channel yet) under the next free number of its workspace.

        On PostgreSQL a per-workspace advisory lock (held for this short transaction)
        queues concurrent declares instead of letting them collide; on SQLite a lock in this
        process does. Should two still pick the same number (another process on the same
        SQLite file), the unique constraint refuses the second and it tries again.
        """
        for _ in range(NUMBER_ATTEMPTS):
            try:
                if self._postgres:
                    return await self._insert_with_next_number(new)
                async with self._number_lock:
                    return await self._insert_with_next_number(new)
            except IntegrityError:
                await asyncio.sleep(random.uniform(0.001, 0.02))
        raise NumberAllocationError(f"no free incident number for team {new.team_id}")

    async def _insert_with_next_number(self, new: NewIncident) -> Incident:
        async with self._sessions.begin() as session:
            if self._postgres:
                await session.execute(NUMBER_LOCK, {"team": new.team_id})
            number = await session.scalar(
                select(func.coalesce(func.max(Incident.number), 0) + 1).where(
                    Incident.team_id == new.team_id
                )
            )
            incident = Incident(
                team_id=new.team_id,
                number=number,
                title=new.title,
                severity=new.severity,
                status=Status(new.status),
                description=new.description,
                customer_impact=new.customer_impact,
                impact_text=new.impact_text,
                reporter_id=new.reporter_id,
                next_update_due=new.next_update_due,
                drill=new.drill,
                playbook=new.playbook,
            )
            incident.roles = [
                RoleAssignment(role="lead", user_id=new.reporter_id, assigned_by=new.reporter_id)
            ]
            incident.customers = [
                AffectedCustomer(
                    position=i,
                    name=name,
                    name_key=name.casefold(),
                    added_by=new.reporter_id,
                    language=new.customer_languages.get(name),
                )
                for i, name in enumerate(new.customers)
            ]
            incident.closure = None
            session.add(incident)
            await session.flush()
            session.add(TimelineEvent.now(incident.id, new.reporter_id, "declared", new.title))
        return incident

    async def discard(self, incident_id: int) -> None:
        """Remove an incident that never got its channel, so it is not left dangling."""
        async with self._sessions.begin() as session:
            await session.execute(delete(Incident).where(Incident.id == incident_id))

    async def discard_unopened(self, older_than: datetime) -> int:
        """Remove incidents whose declare died before their channel existed (a crash)."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(Incident).where(
                    Incident.channel_id.is_(None), Incident.created_at < older_than
                )
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def attach_channel(self, incident_id: int, channel_id: str, channel_name: str) -> None:
        await self._update(incident_id, channel_id=channel_id, channel_name=channel_name)

    async def set_header_ts(self, incident_id: int, ts: str) -> None:
        await self._update(incident_id, header_ts=ts)

    async def _update(self, incident_id: int, **values: object) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(Incident).where(Incident.id == incident_id).values(**values)
            )

    async def get(self, incident_id: int) -> Incident | None:
        return await self._one(Incident.id == incident_id)

    async def for_reminders(self, incident_ids: Collection[int]) -> dict[int, tuple[Incident, int]]:
        """What a batch of reminders needs, in one query: each incident with its roles and
        closure, and how many customers it affects (never the customer rows themselves:
        reading ``customers`` on these raises)."""
        if not incident_ids:
            return {}
        ids = self._incident_ids.bind(incident_ids)
        async with self._sessions() as session:
            rows = (await session.execute(self._for_reminders, ids)).unique()
            return {incident.id: (incident, int(customers)) for incident, customers in rows}

    async def by_channel(self, team_id: str, channel_id: str) -> Incident | None:
        return await self._one(Incident.team_id == team_id, Incident.channel_id == channel_id)

    async def by_number(self, team_id: str, number: int) -> Incident | None:
        return await self._one(Incident.team_id == team_id, Incident.number == number)

    async def _one(self, *conditions: ColumnElement[bool]) -> Incident | None:
        """One incident as the header shows it: roles, closure, how many customers and the
        first few of them (never all: an incident may have thousands)."""
        async with self._sessions() as session:
            statement = _with_customer_count(select(Incident).where(*conditions).limit(1))
            incident = (await session.scalars(statement)).first()
            if incident is not None:
                await _preview_customers(session, incident)
            return incident

    async def list_by_status(
        self, team_id: str, statuses: Sequence[str], limit: int
    ) -> tuple[list[Incident], int]:
        """The newest ``limit`` incidents in ``statuses`` and how many there are in all
        (without their customers: a list shows none, and reading them raises)."""
        where = (
            Incident.team_id == team_id,
            Incident.status.in_(statuses),
            Incident.channel_id.is_not(None),
        )
        async with self._sessions() as session:
            total = await session.scalar(select(func.count()).select_from(Incident).where(*where))
            rows = await session.scalars(
                select(Incident).where(*where).order_by(Incident.number.desc()).limit(limit)
            )
            return list(rows), int(total or 0)

    async def count_open(self, statuses: Sequence[str]) -> int:
        """Incidents in ``statuses`` across every workspace (for the metrics gauge)."""
        async with self._sessions() as session:
            total = await session.scalar(
                select(func.count()).select_from(Incident).where(Incident.status.in_(statuses))
            )
            return int(total or 0)

    async def ping(self) -> None:
        """Raise unless the database answers a trivial query."""
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def change_field(
        self, incident_id: int, field: str, expected: str, new: str, actor_id: str
    ) -> bool:
        """Compare-and-set ``field`` from ``expected`` to ``new``, with its timeline entry.

        Returns False when someone else changed it first, so a double click or two people
        at once change the state at most once.
        """
        column = getattr(Incident, field)
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(Incident)
                .where(Incident.id == incident_id, column == expected)
                .values({field: new, "updated_at": utcnow()})
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return False
            session.add(
                TimelineEvent.now(incident_id, actor_id, f"{field}_changed", f"{expected} → {new}")
            )
        return True

    async def set_next_update_due(self, incident_id: int, due: datetime | None) -> None:
        await self._update(incident_id, next_update_due=due)

    async def assign_role(
        self, incident_id: int, role: str, user_id: str, actor_id: str
    ) -> tuple[bool, str | None]:
        """Give ``role`` to ``user_id``. Returns (changed, previous holder).

        Two people filling an empty role at once both find no row to lock; the loser of
        the insert race tries again and then sees (and locks) the winner's row.
        """
        try:
            return await self._assign_role(incident_id, role, user_id, actor_id)
        except IntegrityError:
            return await self._assign_role(incident_id, role, user_id, actor_id)

    async def _assign_role(
        self, incident_id: int, role: str, user_id: str, actor_id: str
    ) -> tuple[bool, str | None]:
        async with self._sessions.begin() as session:
            current = await session.scalar(
                select(RoleAssignment)
                .where(RoleAssignment.incident_id == incident_id, RoleAssignment.role == role)
                .with_for_update()
            )
            previous = current.user_id if current else None
            if previous == user_id:
                return False, previous
            if current is None:
                session.add(
                    RoleAssignment(
                        incident_id=incident_id, role=role, user_id=user_id, assigned_by=actor_id
                    )
                )
            else:
                current.user_id, current.assigned_by = user_id, actor_id
                current.assigned_at = utcnow()
            detail = f"{role}: {previous or 'nobody'} → {user_id}"
            session.add(TimelineEvent.now(incident_id, actor_id, "role_assigned", detail))
        return True, previous

    async def record_update(
        self, incident_id: int, update_: NewUpdate, next_due: datetime | None
    ) -> CustomerUpdate:
        """Store a customer update under the incident's next number, move the incident's
        clock, and note it on the timeline.

        The number is the highest so far plus one; two updates recorded at once may both
        pick it, and the unique (incident, number) constraint refuses the second, which then
        takes the next number. Same on SQLite and PostgreSQL, and across replicas.
        """
        for _ in range(NUMBER_ATTEMPTS):
            try:
                return await self._insert_update(incident_id, update_, next_due)
            except IntegrityError:
                await asyncio.sleep(random.uniform(0.001, 0.02))
        raise NumberAllocationError(f"no free update number for incident {incident_id}")

    async def _insert_update(
        self, incident_id: int, update_: NewUpdate, next_due: datetime | None
    ) -> CustomerUpdate:
        async with self._sessions.begin() as session:
            number = await session.scalar(
                select(func.coalesce(func.max(CustomerUpdate.number), 0) + 1).where(
                    CustomerUpdate.incident_id == incident_id
                )
            )
            row = CustomerUpdate(
                incident_id=incident_id,
                number=int(number or 1),
                author_id=update_.author_id,
                kind=update_.kind,
                text=update_.text,
                findings=update_.findings,
                posted_anyway=update_.posted_anyway,
                due_at=update_.due_at,
                posted_at=update_.posted_at,
            )
            session.add(row)
            titled = {} if update_.public_title is None else {"public_title": update_.public_title}
            await session.execute(
                update(Incident)
                .where(Incident.id == incident_id)
                .values(last_update_at=update_.posted_at, next_update_due=next_due, **titled)
            )
            detail = update_.kind + (
                " (posted despite tone findings)" if update_.posted_anyway else ""
            )
            session.add(
                TimelineEvent.now(incident_id, update_.author_id, "customer_update", detail)
            )
        return row

    async def updates(self, incident_id: int) -> list[CustomerUpdate]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(CustomerUpdate)
                .where(CustomerUpdate.incident_id == incident_id)
                .order_by(CustomerUpdate.number)
            )
            return list(rows)

    async def set_paused(self, incident_id: int, paused: bool, actor_id: str) -> bool:
        """Pause or resume reminders; False when it already was so."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(Incident)
                .where(Incident.id == incident_id, Incident.paused.is_(not paused))
                .values(paused=paused)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return False
            session.add(
                TimelineEvent.now(incident_id, actor_id, "paused" if paused else "resumed", "")
            )
        return True

    async def add_event(self, incident_id: int, actor_id: str, kind: str, detail: str) -> None:
        async with self._sessions.begin() as session:
            session.add(TimelineEvent.now(incident_id, actor_id, kind, detail))

    async def timeline(self, incident_id: int) -> list[TimelineEvent]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(TimelineEvent)
                .where(TimelineEvent.incident_id == incident_id)
                .order_by(TimelineEvent.at, TimelineEvent.id)
            )
            return list(rows)

    async def reload(self, incident_id: int) -> Incident:
        """Fresh copy as the header shows it (see :meth:`_one`), for rendering."""
        incident = await self.get(incident_id)
        if incident is None:
            raise LookupError(f"incident {incident_id} is gone")
        return incident


def _with_customer_count(statement: Select[Incident]) -> Select[Incident]:
    return statement.options(
        selectinload(Incident.roles),
        selectinload(Incident.closure),
        with_expression(Incident.customer_count, CUSTOMER_COUNT),
    )


async def _preview_customers(session: AsyncSession, incident: Incident) -> None:
    """Fill ``first_customers`` with the first few customers, in the order they were added."""
    rows = await session.scalars(
        select(AffectedCustomer)
        .where(AffectedCustomer.incident_id == incident.id)
        .order_by(AffectedCustomer.position)
        .limit(CUSTOMERS_SHOWN)
    )
    set_committed_value(incident, "first_customers", list(rows))
