"""Lists and windows of incidents read a bounded number of rows, however large the history.

``/incident list`` never reads a customer row; ``/incident stats`` reads its window a chunk
of incidents at a time and only counts customers in SQL. Checked on the statements sent
(a SQLAlchemy event listener), on SQLite and PostgreSQL; no timing.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.closures import ClosureStore, CustomerTally
from storage.db import migrate
from storage.models import AffectedCustomer, Incident, utcnow
from storage.repository import IncidentStore, NewIncident
from tests.unit.test_reminder_batches import statements

TEAM, LEAD = "T0BOUND", "ULEAD"


async def seeded(engine: AsyncEngine, n: int, customers: int) -> IncidentStore:
    await migrate(engine)
    store = IncidentStore(engine)
    for i in range(n):
        incident = await store.create_pending(
            NewIncident(
                team_id=TEAM,
                title=f"Outage {i}",
                severity="SEV2",
                status="investigating",
                reporter_id=LEAD,
                customers=tuple(f"Customer {k}" for k in range(customers)),
            )
        )
        await store.attach_channel(incident.id, f"C{i}", f"inc-{i}")
    return store


async def test_the_open_list_never_reads_a_customer_row(engine: AsyncEngine) -> None:
    store = await seeded(engine, 3, 5)
    with statements(engine) as seen:
        rows, total = await store.list_by_status(TEAM, ["investigating"], 40)
    assert (len(rows), total) == (3, 3)
    assert not [s for s in seen if "affected_customers" in s]


async def test_a_window_is_read_in_chunks_with_customers_only_counted(
    engine: AsyncEngine,
) -> None:
    await seeded(engine, 5, 4)
    async with engine.begin() as connection:
        await connection.execute(
            update(AffectedCustomer)
            .where(AffectedCustomer.position == 0)
            .values(contact_state="followed_up", answer="satisfied")
        )
    closures = ClosureStore(engine)
    with statements(engine) as seen:
        chunks = [c async for c in closures.since_in_chunks(TEAM, utcnow() - timedelta(1), 2)]
    assert [len(c.incidents) for c in chunks] == [2, 2, 1]
    tallies = [t for c in chunks for t in c.customers.values()]
    assert tallies == [CustomerTally(4, 1, 1, 1, 0)] * 5
    touching = [s for s in seen if "affected_customers" in s]
    assert touching
    assert all("count(affected_customers.id)" in s and "GROUP BY" in s for s in touching)
    reads = [s for s in seen if "FROM incidents" in s and "incident_closures" not in s]
    assert reads
    assert all("LIMIT" in s for s in reads)


async def test_a_window_leaves_out_incidents_without_a_channel(engine: AsyncEngine) -> None:
    await seeded(engine, 2, 0)
    async with engine.begin() as connection:
        await connection.execute(
            update(Incident).where(Incident.number == 1).values(channel_id=None)
        )
    closures = ClosureStore(engine)
    chunks = [c async for c in closures.since_in_chunks(TEAM, utcnow() - timedelta(1))]
    assert [i.number for c in chunks for i in c.incidents] == [2]
