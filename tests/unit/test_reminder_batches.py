"""A batch of reminders costs the same few statements however many reminders it holds.

The reminder engine loads what a claimed batch needs in one query (the incident, its roles
and closure, and a COUNT of its customers, never the customer rows), checks the batch's
claims in one query, and completes the batch with its timeline entries in one statement
(two on SQLite); escalations take their DM rights a batch per statement, and retire the
message before them in one statement (none when there is none). Every batch statement
has one shape whatever the batch's size (it is compiled and prepared once). Counted here
with a SQLAlchemy event listener, on SQLite and PostgreSQL; no timing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.incidents.reminder_delivery import Lookups
from storage.db import migrate
from storage.models import Reminder, TimelineEvent, utcnow
from storage.reminders import Completion, DmMark, ReminderStore
from storage.repository import IncidentStore, NewIncident
from tests.support.helpers import completion

TEAM, LEAD = "T0BATCH", "ULEAD"
CUSTOMERS_EACH = 20
LEASE = timedelta(minutes=1)


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """Every SQL statement the engine sends while the block runs."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def claimed(engine: AsyncEngine, n: int) -> tuple[IncidentStore, ReminderStore, list[Any]]:
    """``n`` open incidents with 20 customers each, and their due reminders, claimed."""
    await migrate(engine)
    incidents, reminders = IncidentStore(engine), ReminderStore(engine)
    now = utcnow()
    for i in range(n):
        incident = await incidents.create_pending(
            NewIncident(
                team_id=TEAM,
                title=f"Outage {i}",
                severity="SEV2",
                status="investigating",
                reporter_id=LEAD,
                customers=tuple(f"Customer {k}" for k in range(CUSTOMERS_EACH)),
            )
        )
        await reminders.schedule(incident.id, TEAM, now - timedelta(seconds=1))
    return incidents, reminders, await reminders.claim_due(now, "w1", LEASE, n)


def delivered(claim: Reminder) -> Completion:
    """The completion of a claim that posted its message in ``C1``."""
    return completion(claim, ("C1", f"{claim.id}.000100"))


async def test_a_batch_of_reminders_loads_its_incidents_in_one_query(
    engine: AsyncEngine,
) -> None:
    incidents, _, batch = await claimed(engine, 12)
    with statements(engine) as seen:
        loaded = await incidents.for_reminders({r.incident_id for r in batch})
    assert len([s for s in seen if s.lstrip().upper().startswith("SELECT")]) == 1
    assert {count for _, count in loaded.values()} == {CUSTOMERS_EACH}
    assert all(incident.roles for incident, _ in loaded.values())


async def test_the_reminder_load_never_reads_customer_rows(engine: AsyncEngine) -> None:
    incidents, _, batch = await claimed(engine, 3)
    with statements(engine) as seen:
        await incidents.for_reminders({r.incident_id for r in batch})
    touching = [s for s in seen if "affected_customers" in s]
    assert touching
    assert all("count(affected_customers.id)" in s for s in touching)


async def test_checking_a_batch_of_claims_is_one_query(engine: AsyncEngine) -> None:
    _, reminders, batch = await claimed(engine, 12)
    with statements(engine) as seen:
        held = await reminders.holds_many(batch)
    assert held == [True] * 12
    assert len(seen) == 1


async def test_a_batch_completes_with_its_timeline_in_one_statement_on_postgres(
    engine: AsyncEngine,
) -> None:
    """PostgreSQL completes the rows and writes their timeline entries in one statement
    (one round trip); SQLite, which has no writing CTEs, in two within one transaction."""
    _, reminders, batch = await claimed(engine, 12)
    with statements(engine) as seen:
        done = await reminders.complete_many([delivered(r) for r in batch])
    assert done == [True] * 12
    writes = [s for s in seen if not s.lstrip().upper().startswith(("BEGIN", "COMMIT"))]
    assert len(writes) == (1 if engine.dialect.name == "postgresql" else 2)
    assert await logged(engine, "reminder_due") == {r.incident_id for r in batch}


async def test_a_batch_of_any_size_sends_the_same_statements(engine: AsyncEngine) -> None:
    """One shape for every batch size: compiled once and, on PostgreSQL, prepared once
    (a statement with a bound value per row is new for every size)."""
    incidents, reminders, batch = await claimed(engine, 12)
    shapes = []
    for few in (batch[:3], batch[3:]):
        with statements(engine) as seen:
            await incidents.for_reminders({r.incident_id for r in few})
            await reminders.holds_many(few)
            await reminders.mark_dm_many([DmMark(r, utcnow(), "1.000100") for r in few])
            await reminders.complete_many([delivered(r) for r in few])
            await reminders.renew({r.id: str(r.claim_token) for r in few}, utcnow())
            await reminders.claim_due(utcnow(), "w1", LEASE, 5, exclude={r.id for r in few})
            await reminders.next_wake(exclude={r.id for r in few})
        shapes.append(seen)
    assert shapes[0] == shapes[1]
    assert len(shapes[0]) >= 7


async def test_a_batch_completes_only_the_rows_whose_claims_still_hold(
    engine: AsyncEngine,
) -> None:
    _, reminders, batch = await claimed(engine, 3)
    taken_over, kept = batch[0], batch[1:]
    async with engine.begin() as connection:
        await connection.execute(
            update(Reminder).where(Reminder.id == taken_over.id).values(claim_token="newer:1")
        )
    done = await reminders.complete_many([delivered(r) for r in batch])
    assert done == [False, True, True]
    async with engine.connect() as connection:
        rows = {
            row.id: row
            for row in await connection.execute(select(Reminder.id, Reminder.state, Reminder.seq))
        }
    assert rows[taken_over.id].state == "claimed"
    assert rows[taken_over.id].seq == taken_over.seq
    assert all(rows[r.id].state == "pending" and rows[r.id].seq == r.seq + 1 for r in kept)
    assert await logged(engine, "reminder_due") == {r.incident_id for r in kept}


async def test_a_completed_reminder_falls_due_exactly_when_its_delivery_planned(
    engine: AsyncEngine,
) -> None:
    """The batch carries times as text (JSON): they are stored as the column stores them,
    so the next claim compares them to the microsecond."""
    _, reminders, [claim] = await claimed(engine, 1)
    planned = delivered(claim)
    assert await reminders.complete_many([planned]) == [True]
    stored = await reminders.get(claim.incident_id)
    assert stored is not None and stored.due_at == planned.next_due
    assert stored.sent_at == planned.sent_at
    just_before = planned.next_due - timedelta(microseconds=1)
    assert await reminders.claim_due(just_before, "w2", LEASE, 5) == []
    [again] = await reminders.claim_due(planned.next_due, "w2", LEASE, 5)
    assert again.id == claim.id and again.stage == "escalate"


async def test_a_batch_does_not_complete_a_reminder_someone_acted_on(
    engine: AsyncEngine,
) -> None:
    _, reminders, batch = await claimed(engine, 2)
    acted_on = batch[0]
    assert await reminders.consume(acted_on.incident_id, acted_on.seq)
    done = await reminders.complete_many([delivered(r) for r in batch])
    assert done == [False, True]


async def test_a_batch_takes_its_dm_rights_in_one_statement_and_each_only_once(
    engine: AsyncEngine,
) -> None:
    _, reminders, batch = await claimed(engine, 5)
    marks = [DmMark(r, utcnow(), f"{r.id}.000100") for r in batch]
    with statements(engine) as seen:
        taken = await reminders.mark_dm_many(marks)
    assert taken == [True] * 5
    assert len(seen) == 1
    assert await reminders.mark_dm_many(marks) == [False] * 5


async def test_a_claim_taken_over_takes_no_dm_right(engine: AsyncEngine) -> None:
    _, reminders, batch = await claimed(engine, 2)
    await take_over(engine, batch[0])
    taken = await reminders.mark_dm_many([DmMark(r, utcnow(), "1.000100") for r in batch])
    assert taken == [False, True]


async def test_a_claim_retires_the_message_before_it_once_and_only_while_it_holds_the_row(
    engine: AsyncEngine,
) -> None:
    _, reminders, first = await claimed(engine, 2)
    assert await reminders.complete_many([delivered(r) for r in first]) == [True, True]
    taken_over, held = await reminders.claim_due(utcnow() + timedelta(hours=2), "w1", LEASE, 2)
    await take_over(engine, taken_over)

    assert await reminders.take_claimed_message(taken_over) is None
    assert await reminders.take_claimed_message(held) == ("C1", f"{held.id}.000100")
    assert await reminders.take_claimed_message(held) is None
    left = await reminders.get(taken_over.incident_id)
    assert left is not None and left.message_ts == f"{taken_over.id}.000100"


async def test_a_claim_with_no_message_before_it_asks_the_database_nothing(
    engine: AsyncEngine,
) -> None:
    _, reminders, batch = await claimed(engine, 1)
    with statements(engine) as seen:
        assert await reminders.take_claimed_message(batch[0]) is None
    assert seen == []


async def logged(engine: AsyncEngine, kind: str) -> set[int]:
    """The incidents whose timeline has an entry of ``kind``."""
    async with engine.connect() as connection:
        found = await connection.scalars(
            select(TimelineEvent.incident_id).where(TimelineEvent.kind == kind)
        )
        return set(found)


async def take_over(engine: AsyncEngine, claim: Reminder) -> None:
    """Another replica claims the row (its lease ran out): a newer token."""
    async with engine.begin() as connection:
        await connection.execute(
            update(Reminder).where(Reminder.id == claim.id).values(claim_token="newer:1")
        )


def test_an_answer_about_a_user_is_trusted_only_for_its_time() -> None:
    fresh, stale = Lookups(ttl=60), Lookups(ttl=0)
    for lookups in (fresh, stale):
        lookups.put((TEAM, "UCOMMS"), False)
    assert fresh.get((TEAM, "UCOMMS")) is False
    assert stale.get((TEAM, "UCOMMS")) is None


def test_the_user_answers_kept_are_bounded_and_the_oldest_go_first() -> None:
    lookups = Lookups(size=2)
    for user in ("U1", "U2", "U3"):
        lookups.put((TEAM, user), True)
    assert [lookups.get((TEAM, u)) for u in ("U1", "U2", "U3")] == [None, True, True]
