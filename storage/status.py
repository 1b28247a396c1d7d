"""What the public status page and the customers' own pages read, and the customers' links.

Only what was said to customers leaves here: the customer-facing title, the updates as
posted (kinds ``update`` and ``resolved``), the status and the times. Internal titles,
tone findings, authors and other customers' names are never selected into these records,
so a page cannot show them by mistake.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from storage.customers import name_key
from storage.models import (
    AffectedCustomer,
    Closure,
    CustomerLink,
    CustomerUpdate,
    Incident,
    Status,
    TimelineEvent,
    utcnow,
)

PUBLIC_KINDS = ("update", "resolved")
"""Update kinds customers read; ``contacted`` only notes that someone reached them."""
PAGE_INCIDENTS = 200
"""At most this many incidents on one page (newest first)."""


def not_a_drill() -> ColumnElement[bool]:
    """Incidents that really happened: a drill never reaches a customer, so every query of
    this module goes through this filter."""
    return Incident.drill.is_(False)


@dataclass(frozen=True)
class PublicUpdate:
    number: int
    text: str
    posted_at: datetime
    final: bool


@dataclass(frozen=True)
class PublicIncident:
    public_id: str
    title: str
    status: str
    started_at: datetime
    resolved_at: datetime | None
    next_update_due: datetime | None
    updates: tuple[PublicUpdate, ...]
    """Newest first."""


@dataclass(frozen=True)
class CustomerIncident:
    """One incident as one customer sees it on its own page."""

    incident: PublicIncident
    contacted_at: datetime | None
    amends: str
    follow_up_due: date | None
    followed_up_at: datetime | None
    answer: str | None


@dataclass(frozen=True)
class CustomerPage:
    team_id: str
    name: str
    incidents: tuple[CustomerIncident, ...]


class StatusStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    # -- the public page ---------------------------------------------------------------

    async def public_incidents(self, team_id: str | None, since: datetime) -> list[PublicIncident]:
        """Public incidents still open, or started or resolved since ``since``, newest first;
        ``team_id`` None means every workspace (a single-workspace install)."""
        query = _public().where(
            or_(
                Incident.status.not_in((Status.RESOLVED, Status.CLOSED)),
                Incident.created_at >= since,
                Incident.last_update_at >= since,
            )
        )
        if team_id is not None:
            query = query.where(Incident.team_id == team_id)
        query = query.order_by(Incident.created_at.desc(), Incident.id.desc())
        return await self._with_updates(query.limit(PAGE_INCIDENTS))

    async def public_incident(self, team_id: str | None, public_id: str) -> PublicIncident | None:
        query = _public().where(Incident.public_id == public_id)
        if team_id is not None:
            query = query.where(Incident.team_id == team_id)
        found = await self._with_updates(query)
        return found[0] if found else None

    async def _with_updates(self, query: Select[Incident]) -> list[PublicIncident]:
        async with self._sessions() as session:
            incidents = list(await session.scalars(query))
            ids = [i.id for i in incidents]
            updates = await session.execute(
                select(CustomerUpdate.incident_id, CustomerUpdate)
                .where(CustomerUpdate.incident_id.in_(ids), CustomerUpdate.kind.in_(PUBLIC_KINDS))
                .order_by(CustomerUpdate.posted_at.desc(), CustomerUpdate.number.desc())
            )
            resolved = await session.execute(
                select(Closure.incident_id, Closure.resolved_at).where(Closure.incident_id.in_(ids))
            )
        by_incident: dict[int, list[PublicUpdate]] = {i: [] for i in ids}
        for incident_id, row in updates.all():
            by_incident[incident_id].append(
                PublicUpdate(row.number, row.text, row.posted_at, row.kind == "resolved")
            )
        resolved_at = {incident_id: at for incident_id, at in resolved.all()}
        return [_public_record(i, by_incident[i.id], resolved_at.get(i.id)) for i in incidents]

    async def set_public(self, incident_id: int, public: bool, actor_id: str) -> bool:
        """Show or hide an incident on the status page; False when it already was so."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(Incident)
                .where(Incident.id == incident_id, Incident.public.is_(not public))
                .values(public=public)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return False
            kind = "status_page_shown" if public else "status_page_hidden"
            session.add(TimelineEvent.now(incident_id, actor_id, kind))
        return True

    # -- customers' own pages ------------------------------------------------------------

    async def link_for(self, team_id: str, customer: str, actor_id: str) -> str:
        """The customer's live link token, issued now if it has none (two people asking
        at once get the same one: the live link is unique per customer)."""
        key = name_key(customer)
        for _ in range(3):
            live = await self._live_token(team_id, key)
            if live is not None:
                return live
            try:
                async with self._sessions.begin() as session:
                    token = secrets.token_urlsafe(24)
                    session.add(
                        CustomerLink(
                            team_id=team_id, name_key=key, token=token, created_by=actor_id
                        )
                    )
                return token
            except IntegrityError:
                continue
        raise RuntimeError(f"no link could be issued for {customer!r}")

    async def _live_token(self, team_id: str, key: str) -> str | None:
        async with self._sessions() as session:
            return await session.scalar(
                select(CustomerLink.token).where(
                    CustomerLink.team_id == team_id,
                    CustomerLink.name_key == key,
                    CustomerLink.revoked_at.is_(None),
                )
            )

    async def revoke_link(self, team_id: str, customer: str, actor_id: str) -> bool:
        """Revoke the customer's live link; False when it had none."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(CustomerLink)
                .where(
                    CustomerLink.team_id == team_id,
                    CustomerLink.name_key == name_key(customer),
                    CustomerLink.revoked_at.is_(None),
                )
                .values(revoked_at=utcnow(), revoked_by=actor_id)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def customer_page(self, token: str) -> CustomerPage | None:
        """Everything one customer's page shows, found by its live link; None for an
        unknown or revoked link."""
        async with self._sessions() as session:
            link = await session.scalar(
                select(CustomerLink).where(
                    CustomerLink.token == token, CustomerLink.revoked_at.is_(None)
                )
            )
            if link is None:
                return None
            rows = (
                await session.execute(
                    select(Incident, AffectedCustomer)
                    .join(AffectedCustomer, AffectedCustomer.incident_id == Incident.id)
                    .where(
                        Incident.team_id == link.team_id,
                        AffectedCustomer.name_key == link.name_key,
                        not_a_drill(),
                    )
                    .order_by(Incident.created_at.desc(), Incident.id.desc())
                    .limit(PAGE_INCIDENTS)
                )
            ).all()
        if not rows:
            return CustomerPage(link.team_id, "", ())
        added = {incident.id: customer.added_at for incident, customer in rows}
        public = await self._with_updates(select(Incident).where(Incident.id.in_(added)))
        by_id = {p.public_id: p for p in public}
        pages = tuple(
            _customer_record(by_id[str(incident.public_id)], incident, customer)
            for incident, customer in rows
        )
        return CustomerPage(link.team_id, rows[0][1].name, pages)


def _public() -> Select[Incident]:
    """Incidents that may be shown publicly: titled for customers, not hidden, not drills."""
    return select(Incident).where(
        and_(Incident.public.is_(True), Incident.public_title.is_not(None), not_a_drill())
    )


def _public_record(
    incident: Incident, updates: Sequence[PublicUpdate], resolved_at: datetime | None
) -> PublicIncident:
    return PublicIncident(
        public_id=str(incident.public_id),
        title=incident.public_title or "",
        status=incident.status,
        started_at=incident.created_at,
        resolved_at=resolved_at,
        next_update_due=incident.next_update_due,
        updates=tuple(updates),
    )


def _customer_record(
    public: PublicIncident, incident: Incident, customer: AffectedCustomer
) -> CustomerIncident:
    """The updates sent since the customer was added, and what the close promised it."""
    sent = tuple(u for u in public.updates if u.posted_at >= customer.added_at)
    closure = incident.closure
    return CustomerIncident(
        incident=replace(public, updates=sent),
        contacted_at=customer.contacted_at,
        amends=closure.amends if closure is not None else "",
        follow_up_due=closure.follow_up_due if closure is not None else None,
        followed_up_at=customer.followed_up_at,
        answer=customer.answer,
    )
