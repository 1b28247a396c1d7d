"""Reminder rows: scheduling, atomic claiming with a lease, fenced delivery steps.

Claiming is one ``UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING``; on PostgreSQL the
inner select takes ``FOR UPDATE SKIP LOCKED`` so replicas never claim the same row, and
SQLite serialises writers anyway. Every claim writes a ``claim_token`` of its own, and
every later write of that claim (recording its message, its direct message, renewing the
lease, completing, releasing, giving up) is ``WHERE id = :id AND claim_token = :token``:
once a claim has been taken over (its lease ran out and another sweep claimed the row) it
can change nothing. People's changes (a new plan, a pause, a button) move ``seq`` but
leave the token, so the claim in flight can still tell "someone acted" (its token still
holds: it takes back its own message) from "someone else holds the row" (it does nothing).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar
from typing import cast as typed

from sqlalchemy import (
    Case,
    ColumnElement,
    String,
    Table,
    Update,
    and_,
    case,
    cast,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.models import Reminder, TimelineEvent

CUSTOMER_UPDATE = "customer_update"
FOLLOW_UP = "follow_up"
CONTACT_CLOCK = "contact_clock"
"""Reminds the comms owner once per customer whose tier's contact clock ran out."""
PENDING, CLAIMED, PAUSED, CANCELLED = "pending", "claimed", "paused", "cancelled"

REMINDERS = typed(Table, Reminder.__table__)
TIMELINE = typed(Table, TimelineEvent.__table__)
"""The tables themselves: batch writes go through Core, without the ORM's bookkeeping."""

NEW_VERSION: dict[str, object] = {"posted_ts": None, "dm_at": None, "first_claimed_at": None}
"""What a delivery of the previous version recorded, forgotten whenever ``seq`` moves."""


def button_is_current(seq: int) -> ColumnElement[bool]:
    """A reminder's buttons carry the version its row gets once its delivery completes
    (the claim's ``seq + 1``). Slack shows the message before that write lands, so a click
    on a message whose delivery is still completing is current too."""
    return or_(Reminder.seq == seq, and_(Reminder.seq == seq - 1, Reminder.state == CLAIMED))


@dataclass(frozen=True)
class Completion:
    """One delivered reminder to complete, and the timeline entry that records it."""

    reminder: Reminder
    next_due: datetime
    next_stage: str
    sent_at: datetime
    message: tuple[str, str] | None
    actor_id: str
    event: str
    detail: str = ""


@dataclass(frozen=True)
class DmMark:
    """A claim taking the right to send its direct message (see ``ReminderStore.mark_dm``)."""

    reminder: Reminder
    at: datetime
    posted_ts: str


class _ForARow(Protocol):
    @property
    def reminder(self) -> Reminder: ...


RowItem = TypeVar("RowItem", bound=_ForARow)


class ReminderStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._one_statement = async_sessionmaker(
            engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
        )
        """For work that is a single statement (atomic on its own): no BEGIN and COMMIT
        (or ROLLBACK) around it, one round trip instead of three on every delivery's path."""
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
        """Use a reminder button once: only the first click with a current ``seq`` wins.

        The row moves past the button's version either way, so a second click on the same
        message never matches again, even one that came while its delivery was completing.
        """
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(Reminder)
                .where(
                    Reminder.incident_id == incident_id,
                    Reminder.kind == kind,
                    button_is_current(seq),
                )
                .values(seq=seq + 1, **NEW_VERSION)
            )
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def is_current(self, incident_id: int, seq: int, kind: str = CUSTOMER_UPDATE) -> bool:
        """Whether a reminder button carrying ``seq`` may still be used."""
        async with self._sessions() as session:
            found = await session.scalar(
                select(Reminder.id).where(
                    Reminder.incident_id == incident_id,
                    Reminder.kind == kind,
                    button_is_current(seq),
                )
            )
            return found is not None

    async def claim_due(
        self,
        now: datetime,
        worker: str,
        lease: timedelta,
        limit: int,
        exclude: Collection[int] = (),
    ) -> list[Reminder]:
        """Take up to ``limit`` due rows (or rows whose claimer's lease ran out), each with
        a fresh ``claim_token``. ``exclude`` names rows this process is still delivering:
        their lease may have run out (a stalled loop, the database away), but they are not
        lost, so they are never claimed a second time."""
        due = or_(
            and_(Reminder.state == PENDING, Reminder.due_at <= now),
            and_(Reminder.state == CLAIMED, Reminder.lease_until < now),
        )
        if exclude:
            due = and_(due, Reminder.id.not_in(list(exclude)))
        candidates = select(Reminder.id).where(due).order_by(Reminder.due_at).limit(limit)
        if self._postgres:
            candidates = candidates.with_for_update(skip_locked=True)
        token = literal(f"{uuid.uuid4().hex}:", String) + cast(Reminder.id, String)
        statement = (
            update(Reminder)
            .where(Reminder.id.in_(candidates.scalar_subquery()))
            .values(
                state=CLAIMED,
                claimed_by=worker,
                claim_token=token,
                lease_until=now + lease,
                first_claimed_at=func.coalesce(
                    Reminder.first_claimed_at, literal(now, Reminder.first_claimed_at.type)
                ),
                attempts=Reminder.attempts + 1,
            )
            .returning(Reminder)
        )
        async with self._sessions.begin() as session:
            rows = await session.scalars(
                statement, execution_options={"synchronize_session": False}
            )
            return list(rows)

    async def renew(self, claims: Mapping[int, str], until: datetime) -> int:
        """Extend the lease of the claims still held (the heartbeat of deliveries in flight)."""
        if not claims:
            return 0
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(Reminder)
                .where(
                    Reminder.id.in_(list(claims)),
                    Reminder.claim_token.in_(list(claims.values())),
                    Reminder.state == CLAIMED,
                )
                .values(lease_until=until)
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    async def holds(self, reminder: Reminder) -> bool:
        """Whether this claim still holds its row, unchanged (checked before posting)."""
        async with self._sessions() as session:
            found = await session.scalar(
                select(Reminder.id).where(
                    Reminder.id == reminder.id,
                    Reminder.claim_token == reminder.claim_token,
                    Reminder.seq == reminder.seq,
                    Reminder.state == CLAIMED,
                )
            )
            return found is not None

    async def holds_many(self, claims: Sequence[Reminder]) -> list[bool]:
        """:meth:`holds` for a batch of claims, in one query."""
        ids = [claim.id for claim in claims]
        async with self._one_statement() as session:
            rows = await session.execute(
                select(Reminder.id, Reminder.claim_token, Reminder.seq).where(
                    Reminder.id.in_(ids), Reminder.state == CLAIMED
                )
            )
            current = {row.id: (row.claim_token, row.seq) for row in rows}
        return [
            claim.claim_token is not None
            and current.get(claim.id) == (claim.claim_token, claim.seq)
            for claim in claims
        ]

    async def mark_dm(self, reminder: Reminder, at: datetime, posted_ts: str) -> bool:
        """Take the right to send this version's direct message: True once per version.

        Recorded before the message is sent, so it goes at most once: a claim that dies
        between this and Slack's answer loses the DM, never doubles it (the channel message,
        which mentions the same person, is there either way). ``posted_ts``, that channel
        message, is recorded with it, so a later claim adopts it without searching.
        """
        return (await self.mark_dm_many([DmMark(reminder, at, posted_ts)]))[0]

    async def mark_dm_many(self, batch: Sequence[DmMark]) -> list[bool]:
        """:meth:`mark_dm` for a batch of claims in one statement, each row fenced by its
        own claim token and version; returns, in order, whether each took the right."""
        held = [item for item in batch if item.reminder.claim_token is not None]
        if not held:
            return [False] * len(batch)
        c = REMINDERS.c
        fences = [
            and_(
                c.id == item.reminder.id,
                c.claim_token == item.reminder.claim_token,
                c.seq == item.reminder.seq,
            )
            for item in held
        ]
        statement = (
            update(REMINDERS)
            .where(c.state == CLAIMED, c.dm_at.is_(None), or_(*fences))
            .values(
                dm_at=_per_row(held, lambda item: item.at, c.dm_at),
                posted_ts=_per_row(held, lambda item: item.posted_ts, c.posted_ts),
            )
            .returning(c.id)
        )
        async with self._one_statement() as session:
            taken = {row[0] for row in await session.execute(statement)}
        return [item.reminder.id in taken for item in batch]

    async def complete(
        self,
        reminder: Reminder,
        *,
        next_due: datetime,
        next_stage: str,
        sent_at: datetime,
        message: tuple[str, str] | None,
    ) -> bool:
        """Mark a delivered reminder and plan its next stage; False if the claim was lost."""
        values = _completed(reminder, next_due, next_stage, sent_at, message)
        return await self._fenced(reminder, values)

    async def complete_many(self, batch: Sequence[Completion]) -> list[bool]:
        """Complete a batch of deliveries in one transaction, each fenced by its own claim
        token (as :meth:`complete`), with the timeline entries of those that completed;
        returns, in order, whether each claim still held its row."""
        if not batch:
            return []
        held = [item for item in batch if item.reminder.claim_token is not None]
        async with self._sessions.begin() as session:
            connection = await session.connection()
            done: set[int] = set()
            if held:
                result = await connection.execute(_complete_all(held))
                done = {row[0] for row in result}
            events = [_timeline(item) for item in held if item.reminder.id in done]
            if events:
                await connection.execute(insert(TIMELINE), events)
        return [item.reminder.id in done for item in batch]

    async def release(self, reminder: Reminder, *, retry_at: datetime, error: str) -> bool:
        """Give a claim back after a failed delivery, to be tried again at ``retry_at``.

        What the claim recorded (its message, its DM) stays: the retry finishes the same
        version instead of repeating it."""
        values = {
            "state": PENDING,
            "due_at": retry_at,
            "lease_until": None,
            "claimed_by": None,
            "claim_token": None,
            "last_error": error[:500],
        }
        return await self._fenced(reminder, values)

    async def finish(self, reminder: Reminder, state: str) -> bool:
        """End a claim with the reminder paused or cancelled (its incident is)."""
        values = {
            "state": state,
            "seq": reminder.seq + 1,
            "lease_until": None,
            "claimed_by": None,
            "claim_token": None,
            **NEW_VERSION,
        }
        return await self._fenced(reminder, values)

    async def give_up(self, reminder: Reminder) -> bool:
        """Drop a claim that could not complete; True if it was still this claim's.

        True means nobody else has claimed the row since, so whatever made the claim fail
        was someone acting (a new plan, a pause, a button) and the message this claim
        posted is its own to take back. False means a newer claim holds (or held) the row
        and may have adopted that message: the caller must leave it alone.
        """
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(Reminder)
                .where(Reminder.id == reminder.id, Reminder.claim_token == reminder.claim_token)
                .values(claim_token=None, claimed_by=None)
            )
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def _fenced(
        self, reminder: Reminder, values: Mapping[str, object], *extra: ColumnElement[bool]
    ) -> bool:
        """Write for a claim still held: same token, same version, still claimed."""
        if reminder.claim_token is None:
            return False
        async with self._sessions.begin() as session:
            result = await session.execute(_fenced_update(reminder, values, *extra))
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def next_wake(self, exclude: Collection[int] = ()) -> datetime | None:
        """The earliest moment any row needs attention (a due time or a lease running out);
        the leases of ``exclude`` (this process's deliveries in flight) do not count."""
        leased = Reminder.state == CLAIMED
        if exclude:
            leased = and_(leased, Reminder.id.not_in(list(exclude)))
        async with self._sessions() as session:
            due = await session.scalar(
                select(func.min(Reminder.due_at)).where(Reminder.state == PENDING)
            )
            lease = await session.scalar(select(func.min(Reminder.lease_until)).where(leased))
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

    async def take_claimed_message(self, claim: Reminder) -> tuple[str, str] | None:
        """The message before this claim's (a delivery retiring it), handed out once, and
        only while the claim still holds the row: a claim that was taken over retires nothing.

        While the claim's token holds, the row's message is the one the claim read when it
        claimed the row, or none (handed out meanwhile): only a completion writes one, and a
        completion ends the claim. So a claim that read none has none to take (no query),
        and one that read one takes it by compare-and-set in one statement.
        """
        channel, ts = claim.message_channel, claim.message_ts
        if claim.claim_token is None or not channel or not ts:
            return None
        c = REMINDERS.c
        async with self._one_statement() as session:
            result = await session.execute(
                update(REMINDERS)
                .where(
                    c.id == claim.id,
                    c.claim_token == claim.claim_token,
                    c.message_channel == channel,
                    c.message_ts == ts,
                )
                .values(message_channel=None, message_ts=None)
            )
            return (channel, ts) if result.rowcount == 1 else None  # type: ignore[attr-defined]


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
    row.posted_ts = row.dm_at = row.first_claimed_at = None
    row.attempts = 0
    await session.flush()
    return row.seq


async def set_state_in(session: AsyncSession, incident_id: int, state: str, kind: str) -> None:
    """:meth:`ReminderStore.set_state` inside a caller's transaction."""
    await session.execute(
        update(Reminder)
        .where(Reminder.incident_id == incident_id, Reminder.kind == kind)
        .values(state=state, seq=Reminder.seq + 1, lease_until=None, claimed_by=None, **NEW_VERSION)
    )


def _completed(
    reminder: Reminder,
    next_due: datetime,
    next_stage: str,
    sent_at: datetime,
    message: tuple[str, str] | None,
) -> dict[str, object]:
    """A delivered version's row: the next stage planned, the claim ended."""
    values: dict[str, object] = {
        "state": PENDING,
        "stage": next_stage,
        "due_at": next_due,
        "seq": reminder.seq + 1,
        "lease_until": None,
        "claimed_by": None,
        "claim_token": None,
        "attempts": 0,
        "last_error": "",
        "sent_at": sent_at,
        **NEW_VERSION,
    }
    if message:
        values["message_channel"], values["message_ts"] = message
    return values


def _per_row(
    batch: Sequence[RowItem], pick: Callable[[RowItem], object], column: ColumnElement[Any]
) -> Case[Any]:
    """A column's new value, row by row of a batch (typed as the column: times stay UTC)."""
    return case(
        {item.reminder.id: _typed(pick(item), column) for item in batch}, value=REMINDERS.c.id
    )


def _complete_all(batch: Sequence[Completion]) -> Update:
    """One statement completing every delivery of a batch (see :func:`_completed`), each
    row fenced by its own claim token and version; returns the ids it completed."""
    c = REMINDERS.c

    def per_row(pick: Callable[[Completion], object], column: ColumnElement[Any]) -> Case[Any]:
        return _per_row(batch, pick, column)

    fences = [
        and_(
            c.id == item.reminder.id,
            c.claim_token == item.reminder.claim_token,
            c.seq == item.reminder.seq,
        )
        for item in batch
    ]
    completed = {
        **_completed(batch[0].reminder, batch[0].next_due, "", batch[0].sent_at, None),
        "stage": per_row(lambda item: item.next_stage, c.stage),
        "due_at": per_row(lambda item: item.next_due, c.due_at),
        "sent_at": per_row(lambda item: item.sent_at, c.sent_at),
        "seq": c.seq + 1,
        "message_channel": per_row(
            lambda item: item.message[0] if item.message else c.message_channel,
            c.message_channel,
        ),
        "message_ts": per_row(
            lambda item: item.message[1] if item.message else c.message_ts, c.message_ts
        ),
    }
    return (
        update(REMINDERS).where(c.state == CLAIMED, or_(*fences)).values(completed).returning(c.id)
    )


def _typed(value: object, column: ColumnElement[Any]) -> ColumnElement[Any]:
    return value if isinstance(value, ColumnElement) else literal(value, column.type)


def _timeline(item: Completion) -> dict[str, object]:
    return {
        "incident_id": item.reminder.incident_id,
        "at": item.sent_at,
        "actor_id": item.actor_id,
        "kind": item.event,
        "detail": item.detail,
    }


def _fenced_update(
    reminder: Reminder, values: Mapping[str, object], *extra: ColumnElement[bool]
) -> Update:
    """An update that only a claim still holding its row can make: same token, same
    version, still claimed."""
    table = REMINDERS.c
    return (
        update(REMINDERS)
        .where(
            table.id == reminder.id,
            table.claim_token == reminder.claim_token,
            table.seq == reminder.seq,
            table.state == CLAIMED,
            *extra,
        )
        .values(dict(values))
    )
