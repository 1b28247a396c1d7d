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
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from typing import cast as typed

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Executable,
    FromClause,
    Integer,
    Select,
    String,
    Subquery,
    Table,
    Update,
    and_,
    bindparam,
    cast,
    func,
    insert,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.batches import BatchIds, BatchTable
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


class ReminderStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._one_statement = engine.execution_options(isolation_level="AUTOCOMMIT").connect
        """For work that is a single statement (atomic on its own): no BEGIN and COMMIT
        (or ROLLBACK) around it, one round trip instead of three on every delivery's path,
        and a bare connection, without an ORM session's bookkeeping."""
        self._postgres = engine.dialect.name == "postgresql"
        self._statements = _Statements(engine.dialect)
        self._claim = self._claim_statement()

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
        claim = {
            "now": now,
            "limit": limit,
            "worker": worker,
            "token": f"{uuid.uuid4().hex}:",
            "lease_until": now + lease,
            **self._statements.ids.bind(exclude),
        }
        async with self._sessions.begin() as session:
            rows = await session.scalars(
                self._claim, claim, execution_options={"synchronize_session": False}
            )
            return list(rows)

    def _claim_statement(self) -> Update:
        """What ``claim_due`` runs (built once): each row claimed gets the claim's token
        prefix and its own id as its token, the worker's name and lease, one more attempt,
        and keeps the moment its version was first claimed."""
        now = bindparam("now", type_=Reminder.due_at.type)
        return (
            update(Reminder)
            .where(Reminder.id.in_(self._claimable(now)))
            .values(
                state=CLAIMED,
                claimed_by=bindparam("worker", type_=String),
                claim_token=bindparam("token", type_=String) + cast(Reminder.id, String),
                lease_until=bindparam("lease_until", type_=Reminder.lease_until.type),
                first_claimed_at=func.coalesce(Reminder.first_claimed_at, now),
                attempts=Reminder.attempts + 1,
            )
            .returning(Reminder)
        )

    def _claimable(self, now: BindParameter[datetime]) -> Select[tuple[int]]:
        """The rows a claim takes, soonest due first: pending rows that are due and claimed
        rows whose lease ran out, each read in due order from the (state, due_at) index
        (one condition joined by OR read and sorted every due row to take the first few).
        On PostgreSQL they are locked as read and locked ones skipped: replicas never
        take the same row."""
        limit = bindparam("limit", type_=Integer)

        def first(condition: ColumnElement[bool]) -> Subquery:
            rows = (
                select(Reminder.id, Reminder.due_at)
                .where(condition, self._statements.ids.not_among(Reminder.id))
                .order_by(Reminder.due_at)
                .limit(limit)
            )
            return (rows.with_for_update(skip_locked=True) if self._postgres else rows).subquery()

        due = first(and_(Reminder.state == PENDING, Reminder.due_at <= now))
        expired = first(and_(Reminder.state == CLAIMED, Reminder.lease_until < now))
        both = union_all(select(due.c.id, due.c.due_at), select(expired.c.id, expired.c.due_at))
        either = both.subquery()
        return select(either.c.id).order_by(either.c.due_at).limit(limit)

    async def renew(self, claims: Mapping[int, str], until: datetime) -> int:
        """Extend the lease of the claims still held (the heartbeat of deliveries in flight)."""
        if not claims:
            return 0
        rows = ({"id": i, "token": token, "until": until} for i, token in claims.items())
        async with self._one_statement() as connection:
            result = await connection.execute(
                self._statements.renew, self._statements.leases.bind(rows)
            )
            return len(result.all())

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
        ids = self._statements.ids.bind(claim.id for claim in claims)
        async with self._one_statement() as connection:
            rows = await connection.execute(self._statements.holds, ids)
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
        rows = self._statements.dm_marks.bind(
            {**_claim(item.reminder), "at": item.at, "posted_ts": item.posted_ts} for item in held
        )
        async with self._one_statement() as connection:
            taken = {row[0] for row in await connection.execute(self._statements.mark_dm, rows)}
        return [item.reminder.id in taken for item in batch]

    async def complete_many(self, batch: Sequence[Completion]) -> list[bool]:
        """Complete a batch of deliveries in one transaction, each fenced by its own claim
        token (as :meth:`complete`), with the timeline entries of those that completed;
        returns, in order, whether each claim still held its row."""
        held = [item for item in batch if item.reminder.claim_token is not None]
        if not held:
            return [False] * len(batch)
        rows = self._statements.completions.bind(_completion_row(item) for item in held)
        if self._postgres:
            async with self._one_statement() as connection:
                done = set((await connection.execute(self._statements.complete, rows)).scalars())
        else:
            async with self._sessions.begin() as session:
                done = set((await session.execute(self._statements.complete, rows)).scalars())
                events = [_timeline(item) for item in held if item.reminder.id in done]
                if events:
                    await session.execute(insert(TIMELINE), events)
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
        leased = and_(Reminder.state == CLAIMED, self._statements.ids.not_among(Reminder.id))
        excluded = self._statements.ids.bind(exclude)
        async with self._sessions() as session:
            due = await session.scalar(
                select(func.min(Reminder.due_at)).where(Reminder.state == PENDING)
            )
            lease = await session.scalar(
                select(func.min(Reminder.lease_until)).where(leased), excluded
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
        async with self._one_statement() as connection:
            result = await connection.execute(
                update(REMINDERS)
                .where(
                    c.id == claim.id,
                    c.claim_token == claim.claim_token,
                    c.message_channel == channel,
                    c.message_ts == ts,
                )
                .values(message_channel=None, message_ts=None)
            )
            return (channel, ts) if result.rowcount == 1 else None


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


class _Statements:
    """The statements on every delivery's path, built once for the store's dialect, each
    reading its batch as one parameter (``storage/batches.py``): one shape for any size."""

    def __init__(self, dialect: Dialect) -> None:
        c, t = REMINDERS.c, TIMELINE.c
        claim = (("id", c.id.type), ("token", c.claim_token.type), ("seq", c.seq.type))
        self.ids = BatchIds(dialect, c.id.type)
        self.leases = BatchTable(dialect, (*claim[:2], ("until", c.lease_until.type)))
        self.dm_marks = BatchTable(
            dialect, (*claim, ("at", c.dm_at.type), ("posted_ts", c.posted_ts.type))
        )
        self.completions = BatchTable(
            dialect,
            (
                *claim,
                ("stage", c.stage.type),
                ("due_at", c.due_at.type),
                ("sent_at", c.sent_at.type),
                ("channel", c.message_channel.type),
                ("ts", c.message_ts.type),
                ("actor", t.actor_id.type),
                ("event", t.kind.type),
                ("detail", t.detail.type),
            ),
        )
        self.holds = select(c.id, c.claim_token, c.seq).where(
            self.ids.among(c.id), c.state == CLAIMED
        )
        leases = self.leases.table()
        self.renew = (
            update(REMINDERS)
            .where(c.id == leases.c.id, c.claim_token == leases.c.token, c.state == CLAIMED)
            .values(lease_until=leases.c.until)
            .returning(c.id)
        )
        marks = self.dm_marks.table()
        self.mark_dm = (
            update(REMINDERS)
            .where(_held_by(marks.c.id, marks.c.token, marks.c.seq), c.dm_at.is_(None))
            .values(dm_at=marks.c.at, posted_ts=marks.c.posted_ts)
            .returning(c.id)
        )
        self.complete = _complete_statement(self.completions.table(), dialect)


def _complete_statement(batch: FromClause, dialect: Dialect) -> Executable:
    """Complete every delivery of a batch whose claim still holds its row (see
    :func:`_completed`); returns the ids it completed. On PostgreSQL the timeline entries
    of those are written by the same statement; on SQLite the caller writes them in the
    same transaction."""
    c = REMINDERS.c
    done = (
        update(REMINDERS)
        .where(_held_by(batch.c.id, batch.c.token, batch.c.seq))
        .values(_completed(batch))
    )
    if dialect.name != "postgresql":
        return done.returning(c.id)
    b = batch.c
    completed = done.returning(c.id, c.incident_id, b.sent_at, b.actor, b.event, b.detail).cte(
        "completed"
    )
    entries = select(
        completed.c.incident_id,
        completed.c.sent_at,
        completed.c.actor,
        completed.c.event,
        completed.c.detail,
    )
    logged = insert(TIMELINE).from_select(
        ["incident_id", "at", "actor_id", "kind", "detail"], entries
    )
    return select(completed.c.id).add_cte(logged.cte("logged"))


def _completed(batch: FromClause) -> dict[str, object]:
    """A delivered version's row: the next stage planned, the claim ended, the message it
    posted remembered (the one before kept when it posted none)."""
    c, b = REMINDERS.c, batch.c
    return {
        "state": PENDING,
        "stage": b.stage,
        "due_at": b.due_at,
        "seq": c.seq + 1,
        "lease_until": None,
        "claimed_by": None,
        "claim_token": None,
        "attempts": 0,
        "last_error": "",
        "sent_at": b.sent_at,
        **NEW_VERSION,
        "message_channel": func.coalesce(b.channel, c.message_channel),
        "message_ts": func.coalesce(b.ts, c.message_ts),
    }


def _held_by(row_id: Any, token: Any, seq: Any) -> ColumnElement[bool]:
    """The fence of every write of a claim: its row, its token, its version, still claimed
    (values of one claim, or the columns of a batch of them)."""
    c = REMINDERS.c
    return and_(c.id == row_id, c.claim_token == token, c.seq == seq, c.state == CLAIMED)


def _claim(reminder: Reminder) -> dict[str, object]:
    return {"id": reminder.id, "token": reminder.claim_token, "seq": reminder.seq}


def _completion_row(item: Completion) -> dict[str, object]:
    channel, ts = item.message or (None, None)
    return {
        **_claim(item.reminder),
        "stage": item.next_stage,
        "due_at": item.next_due,
        "sent_at": item.sent_at,
        "channel": channel,
        "ts": ts,
        "actor": item.actor_id,
        "event": item.event,
        "detail": item.detail,
    }


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
    """An update that only a claim still holding its row can make."""
    fence = _held_by(reminder.id, reminder.claim_token, reminder.seq)
    return update(REMINDERS).where(fence, *extra).values(dict(values))
