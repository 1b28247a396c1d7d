"""Recovery figures, counted by the database: the rules of the figures live here alone.

For one incident (``/incident stats`` in its channel, the remediation report) and for a
window of a workspace's incidents (``/incident stats 30d|90d``) the database answers with
numbers; no incident, update or customer row is loaded, so a window of any size costs the
bot the same little memory.

* An incident is over once it is resolved (or closed) and has its closure: its figures
  end at the resolve. An open incident's end at ``now``.
* A touchpoint is a customer update posted by the end; the first one is how soon the
  customers heard; the longest silence is the longest stretch between the declare, the
  touchpoints and the end.
* The final "resolved" update closes the story: it has no due time to be on time for, so
  it is neither counted as an update nor as on time. An update is on time when it had no
  due time or was posted by it.
* A window holds the incidents declared since its start that got a channel; drills are
  rehearsals, not incidents, and are left out.
* Times across a window are medians (of the incidents that have one), counts are sums.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Float,
    Select,
    Subquery,
    and_,
    case,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from messages.report import RecoveryFigures, WindowFigures
from storage.models import (
    FOLLOWED_UP,
    NOT_CONTACTED,
    AffectedCustomer,
    Closure,
    CustomerUpdate,
    Incident,
    Status,
    UTCDateTime,
)

OVER = (Status.RESOLVED, Status.CLOSED)
MEDIANS = ("first_update_after", "longest_silence", "time_to_resolve")
"""The per-incident times a window shows the median of."""
FINAL_UPDATE = "resolved"


class seconds_between(FunctionElement[float]):
    """``later - earlier`` in seconds (NULL when either is)."""

    type = Float()
    inherit_cache = True


@compiles(seconds_between, "postgresql")
def _seconds_postgres(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"


@compiles(seconds_between)
def _seconds_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


class larger(FunctionElement[float]):
    """The larger of two values (``GREATEST`` on PostgreSQL, two-argument ``max`` on SQLite)."""

    type = Float()
    inherit_cache = True


@compiles(larger, "postgresql")
def _larger_postgres(element: larger, compiler: SQLCompiler, **kw: Any) -> str:
    return f"GREATEST({compiler.process(element.clauses, **kw)})"


@compiles(larger)
def _larger_sqlite(element: larger, compiler: SQLCompiler, **kw: Any) -> str:
    return f"max({compiler.process(element.clauses, **kw)})"


@dataclass(frozen=True)
class Tally:
    """An incident's (or a window's) customers, counted: named as the figures name them."""

    customers: int
    contacted: int
    followed_up: int
    satisfied: int
    not_satisfied: int


class FigureStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def incident(self, incident_id: int, now: datetime) -> RecoveryFigures:
        """One incident's figures (all zero and empty for an unknown incident)."""
        per = _per_incident(_spans(now, Incident.id == incident_id))
        async with self.engine.connect() as connection:
            row = (await connection.execute(select(per))).first()
            tally = await _tally(connection, AffectedCustomer.incident_id == incident_id)
        return RecoveryFigures(
            first_update_after=_duration(row.first_update_after) if row else None,
            updates=int(row.updates) if row else 0,
            on_time=int(row.on_time) if row else 0,
            longest_silence=(_duration(row.longest_silence) if row else None) or timedelta(0),
            **asdict(tally),
            time_to_resolve=_duration(row.time_to_resolve) if row else None,
        )

    async def window(self, team_id: str, days: int, now: datetime) -> WindowFigures:
        """The figures of the workspace's incidents declared in the last ``days`` days."""
        window = _in_window(team_id, now - timedelta(days=days))
        per = _ranked(_per_incident(_spans(now, *window)), MEDIANS)
        statement = select(
            func.count().label("incidents"),
            func.count(per.c.time_to_resolve).label("resolved"),
            func.coalesce(func.sum(per.c.updates), 0).label("updates"),
            func.coalesce(func.sum(per.c.on_time), 0).label("on_time"),
            func.max(per.c.longest_silence).label("longest_silence"),
            *(_median(per, name).label(f"median_{name}") for name in MEDIANS),
        )
        counted = AffectedCustomer.incident_id.in_(select(Incident.id).where(*window))
        async with self.engine.connect() as connection:
            row = (await connection.execute(statement)).one()
            tally = await _tally(connection, counted)
        return WindowFigures(
            days=days,
            incidents=int(row.incidents),
            resolved=int(row.resolved),
            median_first_update=_duration(row.median_first_update_after),
            updates=int(row.updates),
            on_time=int(row.on_time),
            longest_silence=_duration(row.longest_silence),
            median_longest_silence=_duration(row.median_longest_silence),
            **asdict(tally),
            median_time_to_resolve=_duration(row.median_time_to_resolve),
        )


def _in_window(team_id: str, since: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        Incident.team_id == team_id,
        Incident.created_at >= since,
        Incident.channel_id.is_not(None),
        Incident.drill.is_(False),
    )


def _spans(now: datetime, *where: ColumnElement[bool]) -> CTE:
    """Each incident's declare, end and resolve (the resolve only once it is over)."""
    over = and_(Closure.id.is_not(None), Incident.status.in_(OVER))
    resolved = case((over, Closure.resolved_at), else_=None)
    return (
        select(
            Incident.id,
            Incident.created_at,
            func.coalesce(resolved, literal(now, UTCDateTime())).label("end_at"),
            resolved.label("resolved_at"),
        )
        .select_from(Incident)
        .outerjoin(Closure, Closure.incident_id == Incident.id)
        .where(*where)
        .cte("spans")
    )


def _per_incident(spans: CTE) -> CTE:
    """Per incident: seconds to the first touchpoint, updates and those on time, the
    longest silence in seconds, and the seconds to resolve. Each incident's updates are
    read by index (``ix_updates_incident_at``), with the one posted before each."""
    u = CustomerUpdate
    updates = (
        select(
            spans,
            u.posted_at,
            u.kind,
            u.due_at,
            func.lag(u.posted_at)
            .over(partition_by=spans.c.id, order_by=(u.posted_at, u.id))
            .label("before"),
        )
        .select_from(spans)
        .outerjoin(u, u.incident_id == spans.c.id)
        .subquery("updates")
    )
    c = updates.c
    touch = c.posted_at <= c.end_at
    scheduled = c.kind != FINAL_UPDATE
    in_time = or_(c.due_at.is_(None), c.posted_at <= c.due_at)
    gap = seconds_between(c.posted_at, func.coalesce(c.before, c.created_at))
    first_touch = func.min(case((touch, c.posted_at)))
    last_touch = func.max(case((touch, c.posted_at)))
    until_end = seconds_between(c.end_at, func.coalesce(last_touch, c.created_at))
    return (
        select(
            c.id,
            seconds_between(first_touch, c.created_at).label("first_update_after"),
            func.sum(case((scheduled, 1), else_=0)).label("updates"),
            func.sum(case((and_(scheduled, in_time), 1), else_=0)).label("on_time"),
            larger(func.coalesce(func.max(case((touch, gap))), 0), until_end).label(
                "longest_silence"
            ),
            seconds_between(c.resolved_at, c.created_at).label("time_to_resolve"),
        )
        .group_by(c.id, c.created_at, c.end_at, c.resolved_at)
        .cte("per_incident")
    )


def _ranked(per: CTE, names: Sequence[str]) -> Subquery:
    """``per`` with, for each of ``names``, each incident's rank by it (those without one
    last) and how many incidents have one: the medians are read off these in the same
    pass over the window as its sums."""
    ranks = []
    for name in names:
        value = per.c[name]
        ranks.append(func.row_number().over(order_by=value.nulls_last()).label(f"{name}_rank"))
        ranks.append(func.count(value).over().label(f"{name}_count"))
    return select(per, *ranks).subquery("ranked")


def _median(ranked: Subquery, name: str) -> Any:
    """The median of the figure ``name`` over the incidents that have one (the mean of the
    middle two for an even count); NULL when none has one."""
    rank, n = ranked.c[f"{name}_rank"], ranked.c[f"{name}_count"]
    middle = rank.in_(((n + 1) // 2, (n + 2) // 2))
    return func.avg(case((middle, ranked.c[name])))


async def _tally(connection: Any, which: ColumnElement[bool]) -> Tally:
    c = AffectedCustomer
    followed = c.contact_state == FOLLOWED_UP

    def count(condition: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    statement: Select[Any] = select(
        func.count(c.id),
        count(c.contact_state != NOT_CONTACTED),
        count(followed),
        count(and_(followed, c.answer == "satisfied")),
        count(and_(followed, c.answer == "not_satisfied")),
    ).where(which)
    row = (await connection.execute(statement)).one()
    return Tally(*(int(n) for n in row))


def _duration(value: Any) -> timedelta | None:
    """Seconds as the database counted them (PostgreSQL's are ``Decimal``)."""
    return None if value is None else timedelta(seconds=float(value))
