"""Affected customers of an incident and their contact states.

Every state change is a compare-and-set on the row's current state, so a double click or
two people confirming the same customer at once change it exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.models import (
    CONTACTED,
    FOLLOWED_UP,
    NOT_CONTACTED,
    AffectedCustomer,
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

    async def add(self, incident_id: int, names: Sequence[str], actor_id: str) -> Added:
        """Add the names not listed yet (case-insensitively), after the existing ones."""
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
            if new:
                now = utcnow()
                await session.execute(
                    insert(AffectedCustomer),
                    [
                        {
                            "incident_id": incident_id,
                            "position": int(last or 0) + 1 + i,
                            "name": name,
                            "name_key": name_key(name),
                            "contact_state": NOT_CONTACTED,
                            "added_by": actor_id,
                            "added_at": now,
                        }
                        for i, name in enumerate(new)
                    ],
                )
                await _events(session, incident_id, actor_id, "customer_added", new)
        return Added(new, [n for n in names if name_key(n) in existing])

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
