"""Affected customers of an incident and their contact states.

Every state change is a compare-and-set on the row's current state, so a double click or
two people confirming the same customer at once change it exactly once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.models import (
    CONTACTED,
    FOLLOWED_UP,
    NOT_CONTACTED,
    AffectedCustomer,
    DirectoryCustomer,
    Incident,
    TimelineEvent,
    utcnow,
)


@dataclass(frozen=True)
class Added:
    added: list[str]
    already_listed: list[str]


@dataclass(frozen=True)
class Reachable:
    """An affected customer linked to the directory, with the ways to reach it."""

    id: int
    name: str
    language: str
    slack_channel: str
    emails: tuple[str, ...]
    channel_lost: bool


@dataclass(frozen=True)
class Overdue:
    """A customer whose contact clock ran out before anyone contacted them."""

    id: int
    name: str
    due: datetime


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


Tiers = Mapping[str, timedelta]
"""How soon a customer of each tier must be contacted directly (``CUSTOMER_TIERS``)."""


class CustomerStore:
    def __init__(self, engine: AsyncEngine, tiers: Tiers | None = None) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._dialect = engine.dialect.name
        self.tiers: Tiers = tiers or {}

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
                await link_in(session, incident_id, self.tiers)
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

    async def link(self, incident_id: int) -> None:
        """Link the incident's customers to the directory (see :func:`link_in`)."""
        async with self._sessions.begin() as session:
            await link_in(session, incident_id, self.tiers)

    async def reachable(self, incident_id: int) -> list[Reachable]:
        """The incident's customers that have a Slack channel or an e-mail on file."""
        query = (
            select(AffectedCustomer, DirectoryCustomer)
            .join(DirectoryCustomer, DirectoryCustomer.id == AffectedCustomer.directory_id)
            .where(AffectedCustomer.incident_id == incident_id)
            .order_by(AffectedCustomer.position)
        )
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        found = [
            Reachable(
                id=affected.id,
                name=affected.name,
                language=entry.language,
                slack_channel=entry.slack_channel,
                emails=tuple(entry.emails.split()),
                channel_lost=affected.channel_lost_at is not None,
            )
            for affected, entry in rows
        ]
        return [r for r in found if r.slack_channel or r.emails]

    async def mark_reached(
        self, incident_id: int, customer_id: int, actor_id: str, via: str, ref: str
    ) -> bool:
        """An update reached the customer directly: not contacted → contacted, recording how
        (``via``) and its permalink or Message-ID (``ref``); True if this made the contact.
        Every delivery is on the timeline, the first contact or not."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(AffectedCustomer)
                .where(
                    AffectedCustomer.incident_id == incident_id,
                    AffectedCustomer.id == customer_id,
                    AffectedCustomer.contact_state == NOT_CONTACTED,
                )
                .values(
                    contact_state=CONTACTED,
                    contacted_by=actor_id,
                    contacted_at=utcnow(),
                    contacted_via=via,
                    contact_ref=ref,
                ),
                execution_options={"synchronize_session": False},
            )
            name = await session.scalar(
                select(AffectedCustomer.name).where(AffectedCustomer.id == customer_id)
            )
            if name is not None:
                await _events(
                    session, incident_id, actor_id, "customer_reached", [name], f" by {via}: {ref}"
                )
            return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]

    async def lose_channel(self, incident_id: int, customer_id: int) -> bool:
        """Record that the customer's channel refused the bot; True only the first time."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(AffectedCustomer)
                .where(
                    AffectedCustomer.incident_id == incident_id,
                    AffectedCustomer.id == customer_id,
                    AffectedCustomer.channel_lost_at.is_(None),
                )
                .values(channel_lost_at=utcnow()),
                execution_options={"synchronize_session": False},
            )
            return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]

    def _clock_waiting(self, incident_id: int, tier: str) -> list[ColumnElement[bool]]:
        """Customers of ``tier`` not contacted and not yet reminded about."""
        of_tier = (
            select(DirectoryCustomer.id)
            .where(
                DirectoryCustomer.id == AffectedCustomer.directory_id,
                DirectoryCustomer.tier == tier,
            )
            .exists()
        )
        return [
            AffectedCustomer.incident_id == incident_id,
            AffectedCustomer.contact_state == NOT_CONTACTED,
            AffectedCustomer.contact_due_at.is_not(None),
            AffectedCustomer.clock_alerted_at.is_(None),
            of_tier,
        ]

    async def next_clock(self, incident_id: int, tier: str) -> datetime | None:
        """When the next clock of ``tier`` runs out (of those not reminded about yet)."""
        async with self._sessions() as session:
            return await session.scalar(
                select(func.min(AffectedCustomer.contact_due_at)).where(
                    *self._clock_waiting(incident_id, tier)
                )
            )

    async def clocks_run_out(self, incident_id: int, tier: str, now: datetime) -> list[Overdue]:
        async with self._sessions() as session:
            rows = await session.execute(
                select(AffectedCustomer.id, AffectedCustomer.name, AffectedCustomer.contact_due_at)
                .where(
                    *self._clock_waiting(incident_id, tier), AffectedCustomer.contact_due_at <= now
                )
                .order_by(AffectedCustomer.contact_due_at, AffectedCustomer.position)
            )
            return [Overdue(int(i), str(n), d) for i, n, d in rows.all() if d is not None]

    async def mark_clock_alerted(self, ids: Sequence[int], at: datetime) -> None:
        if not ids:
            return
        async with self._sessions.begin() as session:
            await session.execute(
                update(AffectedCustomer)
                .where(
                    AffectedCustomer.id.in_(list(ids)), AffectedCustomer.clock_alerted_at.is_(None)
                )
                .values(clock_alerted_at=at),
                execution_options={"synchronize_session": False},
            )

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

    async def named(self, incident_id: int, name: str) -> AffectedCustomer | None:
        """The incident's customer called ``name`` (case does not matter), if any."""
        async with self._sessions() as session:
            return await session.scalar(
                select(AffectedCustomer).where(
                    AffectedCustomer.incident_id == incident_id,
                    AffectedCustomer.name_key == name_key(name),
                )
            )

    async def names(self, incident_id: int) -> list[str]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(AffectedCustomer.name)
                .where(AffectedCustomer.incident_id == incident_id)
                .order_by(AffectedCustomer.position)
            )
            return list(rows)

    async def page(self, incident_id: int, offset: int, limit: int) -> list[AffectedCustomer]:
        """``limit`` customers from ``offset``, most urgent first — those not contacted yet
        whose contact clock runs out soonest — then in the order they were added (an
        incident may have thousands: nothing reads them all)."""
        waiting = and_(
            AffectedCustomer.contact_state == NOT_CONTACTED,
            AffectedCustomer.contact_due_at.is_not(None),
        )
        query = (
            select(AffectedCustomer)
            .where(AffectedCustomer.incident_id == incident_id)
            .order_by(
                case((waiting, 0), else_=1),
                case((waiting, AffectedCustomer.contact_due_at), else_=None),
                AffectedCustomer.position,
            )
            .offset(offset)
            .limit(limit)
        )
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


async def link_in(session: AsyncSession, incident_id: int, tiers: Tiers) -> int:
    """Link each customer not linked yet to the directory entry of the same name (compared
    case-insensitively, in the incident's workspace), and start its contact clock: its
    tier's window after it was added. Returns how many were linked."""
    team = select(Incident.team_id).where(Incident.id == incident_id).scalar_subquery()
    found = await session.execute(
        select(
            AffectedCustomer.id,
            AffectedCustomer.added_at,
            DirectoryCustomer.id,
            DirectoryCustomer.tier,
        )
        .join(
            DirectoryCustomer,
            and_(
                DirectoryCustomer.team_id == team,
                DirectoryCustomer.name_key == AffectedCustomer.name_key,
            ),
        )
        .where(AffectedCustomer.incident_id == incident_id, AffectedCustomer.directory_id.is_(None))
    )
    rows = [
        {"row": row_id, "entry": entry_id, "due": _due(added_at, tiers.get(tier))}
        for row_id, added_at, entry_id, tier in found.all()
    ]
    if rows:
        table = cast(Table, AffectedCustomer.__table__)
        await session.execute(
            update(table)
            .where(table.c.id == bindparam("row"))
            .values(directory_id=bindparam("entry"), contact_due_at=bindparam("due")),
            rows,
        )
    return len(rows)


def _due(added_at: datetime, window: timedelta | None) -> datetime | None:
    return added_at + window if window is not None else None


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
