"""Affected customers of an incident and their contact states.

Every state change is a compare-and-set on the row's current state, so a double click or
two people confirming the same customer at once change it exactly once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.models import (
    CONTACTED,
    FOLLOWED_UP,
    NOT_CONTACTED,
    AffectedCustomer,
    Incident,
    TimelineEvent,
    utcnow,
)


@dataclass(frozen=True)
class Added:
    added: list[str]
    already_listed: list[str]


@dataclass(frozen=True)
class Counts:
    total: int
    contacted: int
    followed_up: int

    @property
    def not_contacted(self) -> int:
        return self.total - self.contacted - self.followed_up


def name_key(name: str) -> str:
    return name.casefold()


class CustomerStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._dialect = engine.dialect.name

    async def add(
        self,
        incident_id: int,
        names: Sequence[str],
        actor_id: str,
        languages: Mapping[str, str] | None = None,
    ) -> Added:
        """Add the names not listed yet (case-insensitively), after the existing ones;
        ``languages`` gives some of them (by name) a language of their own.

        A name someone else adds at the same moment is skipped by the database (the unique
        name key, ``ON CONFLICT DO NOTHING``) and reported as already listed, so two people
        adding “Acme” at once add it once and neither gets an error.
        """
        async with self._sessions.begin() as session:
            existing = set(
                await session.scalars(
                    select(AffectedCustomer.name_key).where(
                        AffectedCustomer.incident_id == incident_id
                    )
                )
            )
            last = await session.scalar(
                select(func.coalesce(func.max(AffectedCustomer.position), -1)).where(
                    AffectedCustomer.incident_id == incident_id
                )
            )
            new = [n for n in names if name_key(n) not in existing]
            inserted = await self._insert_new(
                session, incident_id, new, int(last or 0), actor_id, languages or {}
            )
            added = [n for n in new if name_key(n) in inserted]
            if added:
                await session.execute(
                    update(Incident).where(Incident.id == incident_id).values(all_contacted_at=None)
                )
                await _events(session, incident_id, actor_id, "customer_added", added)
        return Added(added, [n for n in names if name_key(n) not in inserted])

    async def _insert_new(
        self,
        session: AsyncSession,
        incident_id: int,
        names: Sequence[str],
        last: int,
        actor: str,
        languages: Mapping[str, str],
    ) -> set[str]:
        """Insert ``names`` after position ``last``; the name keys that were really inserted."""
        if not names:
            return set()
        now = utcnow()
        rows = [
            {
                "incident_id": incident_id,
                "position": last + 1 + i,
                "name": name,
                "name_key": name_key(name),
                "contact_state": NOT_CONTACTED,
                "added_by": actor,
                "added_at": now,
                "language": languages.get(name),
            }
            for i, name in enumerate(names)
        ]
        dialect_insert = pg_insert if self._dialect == "postgresql" else sqlite_insert
        statement = (
            dialect_insert(AffectedCustomer)
            .on_conflict_do_nothing(index_elements=["incident_id", "name_key"])
            .returning(AffectedCustomer.name_key)
        )
        result = await session.execute(statement, rows)
        return {str(key) for key in result.scalars()}

    async def remove(self, incident_id: int, name: str, actor_id: str) -> AffectedCustomer | None:
        async with self._sessions.begin() as session:
            row = await session.scalar(
                select(AffectedCustomer).where(
                    AffectedCustomer.incident_id == incident_id,
                    AffectedCustomer.name_key == name_key(name),
                )
            )
            if row is None:
                return None
            await session.execute(delete(AffectedCustomer).where(AffectedCustomer.id == row.id))
            await _events(session, incident_id, actor_id, "customer_removed", [row.name])
            return row

    async def names(self, incident_id: int) -> list[str]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(AffectedCustomer.name)
                .where(AffectedCustomer.incident_id == incident_id)
                .order_by(AffectedCustomer.position)
            )
            return list(rows)

    async def page(
        self, incident_id: int, offset: int = 0, limit: int | None = None
    ) -> list[AffectedCustomer]:
        """Customers in the order they were added; all of them without ``limit``."""
        query = (
            select(AffectedCustomer)
            .where(AffectedCustomer.incident_id == incident_id)
            .order_by(AffectedCustomer.position)
            .offset(offset)
        )
        if limit is not None:
            query = query.limit(limit)
        async with self._sessions() as session:
            return list(await session.scalars(query))

    async def get(self, incident_id: int, customer_id: int) -> AffectedCustomer | None:
        async with self._sessions() as session:
            return await session.scalar(
                select(AffectedCustomer).where(
                    AffectedCustomer.incident_id == incident_id, AffectedCustomer.id == customer_id
                )
            )

    async def counts(self, incident_id: int) -> Counts:
        async with self._sessions() as session:
            rows = await session.execute(
                select(AffectedCustomer.contact_state, func.count())
                .where(AffectedCustomer.incident_id == incident_id)
                .group_by(AffectedCustomer.contact_state)
            )
            by_state = {str(state): int(n) for state, n in rows.all()}
        return Counts(
            total=sum(by_state.values()),
            contacted=by_state.get(CONTACTED, 0),
            followed_up=by_state.get(FOLLOWED_UP, 0),
        )

    async def mark_contacted(self, incident_id: int, customer_id: int, actor_id: str) -> bool:
        """Not contacted → contacted; False if someone else already confirmed it."""
        changed = await self._set_state(
            incident_id,
            [AffectedCustomer.id == customer_id, AffectedCustomer.contact_state == NOT_CONTACTED],
            {"contact_state": CONTACTED, "contacted_by": actor_id, "contacted_at": utcnow()},
            actor_id,
            "customer_contacted",
        )
        return bool(changed)

    async def mark_all_contacted(self, incident_id: int, actor_id: str) -> list[str]:
        """Every customer not contacted yet becomes contacted; returns their names."""
        return await self._set_state(
            incident_id,
            [AffectedCustomer.contact_state == NOT_CONTACTED],
            {"contact_state": CONTACTED, "contacted_by": actor_id, "contacted_at": utcnow()},
            actor_id,
            "customer_contacted",
        )

    async def claim_all_contacted(self, incident_id: int) -> bool:
        """True for exactly one caller once nobody is left uncontacted.

        A conditional update of the incident: it sets ``all_contacted_at`` only while it is
        empty and no customer waits, so of two people confirming the last two customers at
        once (each checking after their own confirmation committed) one wins, the other
        finds it set. Adding a customer empties it again.
        """
        waiting = (
            select(AffectedCustomer.id)
            .where(
                AffectedCustomer.incident_id == incident_id,
                AffectedCustomer.contact_state == NOT_CONTACTED,
            )
            .exists()
        )
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(Incident)
                .where(Incident.id == incident_id, Incident.all_contacted_at.is_(None), ~waiting)
                .values(all_contacted_at=utcnow()),
                execution_options={"synchronize_session": False},
            )
            return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]

    async def mark_followed_up(
        self, incident_id: int, customer_id: int, answer: str, actor_id: str
    ) -> bool:
        """Record the follow-up and the customer's answer, once."""
        changed = await self._set_state(
            incident_id,
            [AffectedCustomer.id == customer_id, AffectedCustomer.contact_state != FOLLOWED_UP],
            {
                "contact_state": FOLLOWED_UP,
                "followed_up_by": actor_id,
                "followed_up_at": utcnow(),
                "answer": answer,
            },
            actor_id,
            "customer_followed_up",
            detail_suffix=f": {answer}",
        )
        return bool(changed)

    async def _set_state(
        self,
        incident_id: int,
        conditions: list[object],
        values: dict[str, object],
        actor_id: str,
        event: str,
        detail_suffix: str = "",
    ) -> list[str]:
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(AffectedCustomer)
                .where(AffectedCustomer.incident_id == incident_id, *conditions)  # type: ignore[arg-type]
                .values(values)
                .returning(AffectedCustomer.name),
                execution_options={"synchronize_session": False},
            )
            names = [str(name) for name in result.scalars()]
            await _events(session, incident_id, actor_id, event, names, detail_suffix)
            return names


async def _events(
    session: AsyncSession,
    incident_id: int,
    actor_id: str,
    kind: str,
    names: Sequence[str],
    suffix: str = "",
) -> None:
    """One timeline entry per customer, inserted in one statement."""
    if not names:
        return
    now = utcnow()
    await session.execute(
        insert(TimelineEvent),
        [
            {
                "incident_id": incident_id,
                "actor_id": actor_id,
                "kind": kind,
                "detail": name + suffix,
                "at": now,
            }
            for name in names
        ],
    )
