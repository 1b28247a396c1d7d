"""Recovery figures as the database counts them (SQLite and PostgreSQL), and how the
report reads them and folds its timeline."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from messages.report import TimelineLine, duration, share, timeline_lines
from storage.db import migrate
from storage.figures import FigureStore
from storage.models import AffectedCustomer, Closure, CustomerUpdate, Incident, Status

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
TEAM = "T0FIGURES"
MS = timedelta(milliseconds=1)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def about(measured: timedelta | None, expected_minutes: float) -> bool:
    """SQLite counts time in fractional days: equal to well under a millisecond."""
    return measured is not None and abs(measured - timedelta(minutes=expected_minutes)) < MS


@dataclass
class Seeder:
    """Incidents written straight into the database, as the lifecycle leaves them."""

    engine: AsyncEngine
    numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def incident(
        self,
        *,
        resolved_after: float | None = None,
        updates: Sequence[tuple[float, float | None, str]] = (),
        customers: Sequence[tuple[str, str | None]] = (),
        declared: datetime = T0,
        team: str = TEAM,
        drill: bool = False,
        channel: bool = True,
    ) -> int:
        """An incident declared at ``declared`` (minutes count from there): resolved after
        ``resolved_after`` minutes (open if None), with updates (posted, due, kind) and
        customers (contact state, answer)."""
        number = next(self.numbers)
        async with AsyncSession(self.engine) as session, session.begin():
            incident = Incident(
                team_id=team,
                number=number,
                title="x",
                severity="SEV2",
                status=Status.INVESTIGATING if resolved_after is None else Status.CLOSED,
                reporter_id="U1",
                created_at=declared,
                channel_id=f"C{number}" if channel else None,
                drill=drill,
            )
            session.add(incident)
            await session.flush()

            def at(m: float) -> datetime:
                return declared + timedelta(minutes=m)

            if resolved_after is not None:
                session.add(
                    Closure(
                        incident_id=incident.id,
                        root_cause="r",
                        follow_up_owner="U1",
                        follow_up_due=date(2026, 11, 9),
                        resolved_by="U1",
                        resolved_at=at(resolved_after),
                    )
                )
            for k, (posted, due, kind) in enumerate(updates, 1):
                session.add(
                    CustomerUpdate(
                        incident_id=incident.id,
                        number=k,
                        author_id="U1",
                        kind=kind,
                        text="x",
                        posted_at=at(posted),
                        due_at=None if due is None else at(due),
                    )
                )
            for k, (state, answer) in enumerate(customers):
                session.add(
                    AffectedCustomer(
                        incident_id=incident.id,
                        name=f"c{k}",
                        name_key=f"c{k}",
                        position=k,
                        contact_state=state,
                        answer=answer,
                        added_by="U1",
                    )
                )
            return incident.id


@pytest.fixture
async def seeder(engine: AsyncEngine) -> Seeder:
    await migrate(engine)
    return Seeder(engine)


async def test_figures_of_one_incident(seeder: Seeder) -> None:
    incident = await seeder.incident(
        resolved_after=200,
        updates=[
            (12, 30, "update"),  # first update after 12 min, on time
            (100, 72, "update"),  # late
            (150, 160, "update"),  # on time
            (210, None, "resolved"),  # the final update: not counted for punctuality
        ],
        customers=[
            ("followed_up", "satisfied"),
            ("followed_up", "not_satisfied"),
            ("contacted", None),
            ("not_contacted", None),
        ],
    )
    f = await FigureStore(seeder.engine).incident(incident, now=minutes(999))
    assert about(f.first_update_after, 12)
    assert (f.on_time, f.updates) == (2, 3)
    assert about(f.longest_silence, 88)
    assert (f.customers, f.contacted, f.followed_up) == (4, 3, 2)
    assert (f.satisfied, f.not_satisfied) == (1, 1)
    assert about(f.time_to_resolve, 200)


async def test_an_open_incident_is_silent_until_now_and_has_no_resolve_time(
    seeder: Seeder,
) -> None:
    incident = await seeder.incident()
    f = await FigureStore(seeder.engine).incident(incident, now=minutes(45))
    assert f.first_update_after is None and f.time_to_resolve is None
    assert about(f.longest_silence, 45) and f.updates == 0


async def test_an_update_after_the_resolve_is_no_touchpoint(seeder: Seeder) -> None:
    incident = await seeder.incident(resolved_after=60, updates=[(90, None, "update")])
    f = await FigureStore(seeder.engine).incident(incident, now=minutes(999))
    assert f.first_update_after is None and about(f.longest_silence, 60)
    assert f.updates == 1 and f.on_time == 1


async def test_the_wait_for_the_first_update_is_a_silence_too(seeder: Seeder) -> None:
    incident = await seeder.incident(resolved_after=110, updates=[(100, None, "update")])
    f = await FigureStore(seeder.engine).incident(incident, now=minutes(999))
    assert about(f.longest_silence, 100)


async def test_window_takes_medians_of_times_and_sums_of_counts(seeder: Seeder) -> None:
    await seeder.incident(
        resolved_after=60, updates=[(10, 30, "update")], customers=[("contacted", None)]
    )
    await seeder.incident(resolved_after=120, updates=[(30, 20, "update")])
    counted = FigureStore(seeder.engine)
    w = await counted.window(TEAM, 30, now=minutes(999))
    assert (w.incidents, w.resolved, w.updates, w.on_time) == (2, 2, 2, 1)
    assert (w.customers, w.contacted) == (1, 1)
    assert about(w.median_first_update, 20)
    assert about(w.median_time_to_resolve, 90)
    assert about(w.longest_silence, 90) and about(w.median_longest_silence, 70)
    empty = await counted.window("T0OTHER", 90, now=minutes(999))
    assert (empty.incidents, empty.median_first_update, empty.longest_silence) == (0, None, None)


async def test_the_median_of_an_odd_count_is_its_middle_figure(seeder: Seeder) -> None:
    for resolved in (30, 200, 40):
        await seeder.incident(resolved_after=resolved)
    w = await FigureStore(seeder.engine).window(TEAM, 30, now=minutes(999))
    assert about(w.median_time_to_resolve, 40)


async def test_a_median_counts_only_the_incidents_that_have_the_figure(seeder: Seeder) -> None:
    for resolved in (None, None, 30, 50):
        await seeder.incident(resolved_after=resolved)
    w = await FigureStore(seeder.engine).window(TEAM, 30, now=minutes(999))
    assert w.resolved == 2 and about(w.median_time_to_resolve, 40)


async def test_a_window_leaves_out_drills_unopened_other_workspaces_and_older_incidents(
    seeder: Seeder,
) -> None:
    await seeder.incident(resolved_after=10)
    await seeder.incident(resolved_after=20, drill=True)
    await seeder.incident(resolved_after=30, channel=False)
    await seeder.incident(resolved_after=40, team="T0OTHER")
    await seeder.incident(resolved_after=50, declared=T0 - timedelta(days=31))
    w = await FigureStore(seeder.engine).window(TEAM, 30, now=minutes(999))
    assert w.incidents == 1 and about(w.median_time_to_resolve, 10)


def test_durations_read_in_the_two_largest_units_that_matter() -> None:
    assert [duration(timedelta(seconds=s)) for s in (42, 600, 7500, 200000)] == [
        "42 s",
        "10 min",
        "2 h 05 min",
        "2 d 7 h",
    ]


def test_a_share_reads_as_a_fraction_with_its_percentage() -> None:
    assert share(1, 3) == "1/3 (33%)"


@pytest.mark.parametrize("missing", [duration(None), share(0, 0)])
def test_a_figure_with_nothing_to_measure_is_a_dash(missing: str) -> None:
    assert missing == "—"


def test_bulk_customer_changes_fold_into_one_timeline_line() -> None:
    events = [TimelineLine(minutes(0), "U1", "declared", "Checkout down")]
    events += [TimelineLine(minutes(1), "U2", "customer_contacted", f"C{i}") for i in range(998)]
    events += [TimelineLine(minutes(1), "U3", "customer_contacted", "C998")]
    events += [TimelineLine(minutes(5), "U1", "resolved", "config\nchange")]
    lines = timeline_lines(events)
    assert len(lines) == 4
    assert lines[1].endswith("U2: customer_contacted x998 (C0, C1, C2, C3, C4 …)")
    assert lines[2].endswith("U3: customer_contacted x1 (C998)")
    assert lines[3].endswith("U1: resolved: config change")
