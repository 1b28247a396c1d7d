"""Lists and windows of incidents read a bounded number of rows, however large the history.

``/incident list`` never reads a customer row; ``/incident stats`` is counted by the
database and answered as a row of numbers. Checked on the statements sent
(a SQLAlchemy event listener), on SQLite and PostgreSQL; no timing.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import migrate
from storage.figures import FigureStore
from storage.models import AffectedCustomer, utcnow
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


async def test_a_window_is_counted_by_the_database_in_two_statements_of_one_row(
    engine: AsyncEngine,
) -> None:
    """However large the window: the figures in one statement, the customers in another,
    each answered with one row of numbers (no incident, update or customer row)."""
    await seeded(engine, 5, 4)
    async with engine.begin() as connection:
        await connection.execute(
            update(AffectedCustomer)
            .where(AffectedCustomer.position == 0)
            .values(contact_state="followed_up", answer="satisfied")
        )
    with statements(engine) as seen:
        window = await FigureStore(engine).window(TEAM, 1, utcnow())
    assert len(seen) == 2
    assert (window.incidents, window.customers, window.followed_up, window.satisfied) == (
        5,
        20,
        5,
        5,
    )
