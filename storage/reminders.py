"""Reminder rows: scheduling, atomic claiming with a lease, fenced completion.

Claiming is one ``UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING``; on PostgreSQL the
inner select takes ``FOR UPDATE SKIP LOCKED`` so replicas never claim the same row, and
SQLite serialises writers anyway. Completion is fenced by ``claimed_by`` and ``seq``: a
worker whose lease ran out cannot complete a row another worker has taken over.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.models import Reminder

CUSTOMER_UPDATE = "customer_update"
FOLLOW_UP = "follow_up"
PENDING, CLAIMED, PAUSED, CANCELLED = "pending", "claimed", "paused", "cancelled"


class ReminderStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._postgres = engine.dialect.name == "postgresql"

    async def schedule(
        self,
        incident_id: int,
        team_id: str,
        due_at: datetime,
        *,
        stage: str = "due",
        kind: str = CUSTOMER_UPDATE,
    ) -> int:
        """(Re)plan the incident's reminder; returns its new ``seq`` (older buttons go stale).

        A paused reminder stays paused, with its new due time.
        """
        for _ in range(3):
            try:
                return await self._upsert(incident_id, team_id, kind, due_at, stage)
            except IntegrityError:
                continue
        raise RuntimeError(f"could not schedule the reminder of incident {incident_id}")

    async def _upsert(
        self, incident_id: int, team_id: str, kind: str, due_at: datetime, stage: str
    ) -> int:
        async with self._sessions.begin() as session:
            return await schedule_in(session, incident_id, team_id, kind, due_at, stage)

    async def get(self, incident_id: int, kind: str = CUSTOMER_UPDATE) -> Reminder | None:
        async with self._sessions() as session:
            return await session.scalar(
                select(Reminder).where(Reminder.incident_id == incident_id, Reminder.kind == kind)
            )

    async def set_state(self, incident_id: int, state: str, kind: str = CUSTOMER_UPDATE) -> None:
        """Pause, resume (pending) or cancel; any of these makes older buttons stale."""
        async with self._sessions.begin() as session:
            await set_state_in(session, incident_id, state, kind)

    async def consume(self, incident_id: int, seq: int, kind: str = CUSTOMER_UPDATE) -> bool:
        """Use a reminder button once: only the first click with the current ``seq`` wins."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(Reminder)
                .where(
                    Reminder.incident_id == incident_id, Reminder.kind == kind, Reminder.seq == seq
                )
                .values(seq=Reminder.seq + 1)
            )
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def claim_due(
        self, now: datetime, worker: str, lease: timedelta, limit: int
    ) -> list[Reminder]:
        """Take up to ``limit`` due rows (or rows whose claimer's lease ran out)."""
        due = or_(
            and_(Reminder.state == PENDING, Reminder.due_at <= now),
            and_(Reminder.state == CLAIMED, Reminder.lease_until < now),
        )
        candidates = select(Reminder.id).where(due).order_by(Reminder.due_at).limit(limit)
        if self._postgres:
            candidates = candidates.with_for_update(skip_locked=True)
        statement = (
            update(Reminder)
            .where(Reminder.id.in_(candidates.scalar_subquery()))
            .values(
                state=CLAIMED,
                claimed_by=worker,
                lease_until=now + lease,
                attempts=Reminder.attempts + 1,
            )
            .returning(Reminder)
        )
        async with self._sessions.begin() as session:
            rows = await session.scalars(
                statement, execution_options={"synchronize_session": False}
            )
            return list(rows)

    async def complete(
        self,
        reminder: Reminder,
        worker: str,
        *,
        next_due: datetime,
        next_stage: str,
        sent_at: datetime,
        message: tuple[str, str] | None,
    ) -> bool:
        """Mark a delivered reminder and plan its next stage; False if the claim was lost."""
        values: dict[str, object] = {
            "state": PENDING,
            "stage": next_stage,
            "due_at": next_due,
            "seq": reminder.seq + 1,
            "lease_until": None,
            "claimed_by": None,
            "attempts": 0,
            "last_error": "",
            "sent_at": sent_at,
        }
        if message:
            values["message_channel"], values["message_ts"] = message
        return await self._fenced(reminder, worker, values)

    async def release(
        self, reminder: Reminder, worker: str, *, retry_at: datetime, error: str
    ) -> bool:
        """Give a claim back after a failed delivery, to be tried again at ``retry_at``."""
        values = {
            "state": PENDING,
            "due_at": retry_at,
            "lease_until": None,
            "claimed_by": None,
            "last_error": error[:500],
        }
        return await self._fenced(reminder, worker, values)

    async def _fenced(self, reminder: Reminder, worker: str, values: dict[str, object]) -> bool:
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(Reminder)
                .where(
                    Reminder.id == reminder.id,
                    Reminder.state == CLAIMED,
                    Reminder.claimed_by == worker,
                    Reminder.seq == reminder.seq,
                )
                .values(values)
            )
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def next_wake(self) -> datetime | None:
        """The earliest moment any row needs attention (a due time or a lease running out)."""
        async with self._sessions() as session:
            due = await session.scalar(
                select(func.min(Reminder.due_at)).where(Reminder.state == PENDING)
            )
            lease = await session.scalar(
                select(func.min(Reminder.lease_until)).where(Reminder.state == CLAIMED)
            )
        times = [t for t in (due, lease) if t is not None]
        return min(times) if times else None

    async def take_message(
        self, incident_id: int, kind: str = CUSTOMER_UPDATE
    ) -> tuple[str, str] | None:
        """The last reminder message not yet marked handled, handed out once."""
        async with self._sessions.begin() as session:
            row = await session.scalar(
                select(Reminder)
                .where(Reminder.incident_id == incident_id, Reminder.kind == kind)
                .with_for_update()
            )
            if row is None or not row.message_channel or not row.message_ts:
                return None
            message = (row.message_channel, row.message_ts)
            row.message_channel = row.message_ts = None
            return message


async def schedule_in(
    session: AsyncSession,
    incident_id: int,
    team_id: str,
    kind: str,
    due_at: datetime,
    stage: str = "due",
) -> int:
    """:meth:`ReminderStore.schedule` inside a caller's transaction (a resolve commits
    its follow-up reminder with it); returns the row's new ``seq``."""
    row = await session.scalar(
        select(Reminder)
        .where(Reminder.incident_id == incident_id, Reminder.kind == kind)
        .with_for_update()
    )
    if row is None:
        row = Reminder(
            incident_id=incident_id,
            team_id=team_id,
            kind=kind,
            seq=0,
            attempts=0,
            last_error="",
            state=PENDING,
        )
        session.add(row)
    row.due_at, row.stage = due_at, stage
    row.seq = (row.seq or 0) + 1
    row.state = PAUSED if row.state == PAUSED else PENDING
    row.lease_until = row.claimed_by = None
    row.attempts = 0
    await session.flush()
    return row.seq


async def set_state_in(session: AsyncSession, incident_id: int, state: str, kind: str) -> None:
    """:meth:`ReminderStore.set_state` inside a caller's transaction."""
    await session.execute(
        update(Reminder)
        .where(Reminder.incident_id == incident_id, Reminder.kind == kind)
        .values(state=state, seq=Reminder.seq + 1, lease_until=None, claimed_by=None)
    )
