"""The reminder engine: the database holds every reminder; APScheduler only wakes us up.

Each wake claims the due rows atomically (with a lease and a claim token of their own),
delivers them, and completes them fenced by that token, then sleeps until the next due
time (or the slow safety sweep, which also picks up rows another replica left behind when
it died). The cost of a wake grows with what is due, not with what is open.

Delivered once, even when Slack is slower than the lease:

* a heartbeat renews the lease of every delivery in flight, so a live delivery keeps its
  row however long Slack takes to answer;
* this process never claims a row it is still delivering, even if that lease ran out;
* a later claim of the same version finishes it instead of repeating it: the DM is marked
  in the row (with the channel message it follows) before it is sent, and a message whose
  claim died before completing is found in the channel history (``_already_posted``);
* a claim that was taken over changes nothing and shows nothing: only the holder of the
  current token takes a reminder message back.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.incidents import clock
from bot.incidents.follow_up import overdue_dm_text, send_follow_up_reminder
from bot.incidents.policy import ACTIVE_STATUSES, Status, comms_owner
from bot.runtime import logs
from bot.runtime.health import SweepRecord
from bot.runtime.metrics import Metrics
from bot.settings import Settings
from bot.slack.calls import MAX_BACKOFF, ClientFor, slack_error
from bot.slack.header import incident_card
from bot.slack.workspaces import workspace_gone
from messages.closing import follow_up_reminder_blocks
from messages.model import IncidentCard
from messages.updates import (
    escalation_blocks,
    escalation_dm_text,
    reminder_blocks,
    reminder_handled_blocks,
    reminder_token,
)
from storage.customers import CustomerStore
from storage.db import database_unavailable
from storage.models import Incident, Reminder, utcnow
from storage.reminders import CANCELLED, FOLLOW_UP, PAUSED, Completion, ReminderStore
from storage.repository import IncidentStore

log = logging.getLogger(__name__)

Parked = Callable[[int], Awaitable[bool]]
"""Whether an incident's lane in the outbox is busy (calls parked, on their way, or a
flow of calls still running), so a reminder waits behind it."""


class BehindParkedCalls(Exception):
    """The follow-up reminder waits until the checklist it points at is in the channel."""


CLAIM_BATCH = 200
DELIVERY_CONCURRENCY = 50
NEAR = timedelta(seconds=1)
"""Due times closer than this are waited for in the sweep itself, not via the scheduler."""
HEARTBEATS_PER_LEASE = 3
"""How often, per lease, the leases of deliveries in flight are renewed."""
HISTORY_PAGE = 200
CLOCK_SKEW = timedelta(minutes=5)
"""How far our clock may be ahead of Slack's when the history is searched for a message."""
Blocks = list[dict[str, Any]]
T = TypeVar("T")
R = TypeVar("R")
LOOKUP_TTL = 60.0
"""How long (seconds) an answer about a user is trusted before Slack is asked again."""
LOOKUP_ENTRIES = 10_000
"""At most this many answers are remembered; the oldest go first."""


class Lookups:
    """Slack's recent answers, trusted for ``LOOKUP_TTL`` and at most ``LOOKUP_ENTRIES``
    of them: a burst of reminders asks about each comms owner once, not once a reminder."""

    def __init__(self, ttl: float = LOOKUP_TTL, size: int = LOOKUP_ENTRIES) -> None:
        self.ttl, self.size = ttl, size
        self._answers: dict[tuple[str, str], tuple[float, bool]] = {}

    def get(self, key: tuple[str, str]) -> bool | None:
        found = self._answers.get(key)
        if found is None or found[0] <= time.monotonic():
            self._answers.pop(key, None)
            return None
        return found[1]

    def put(self, key: tuple[str, str], answer: bool) -> None:
        self._answers.pop(key, None)
        while len(self._answers) >= self.size:
            self._answers.pop(next(iter(self._answers)))
        self._answers[key] = (time.monotonic() + self.ttl, answer)


class Batched(Generic[T, R]):
    """Runs a per-item database step a batch at a time: whatever asked while the last batch
    was being run goes in the next one (one statement or transaction for all of them).
    ``run`` answers, in order, one result per item."""

    def __init__(self, run: Callable[[list[T]], Awaitable[list[R]]]) -> None:
        self.run = run
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._runner: asyncio.Task[None] | None = None

    async def __call__(self, item: T) -> R:
        answer: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, answer))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run())
        return await answer

    async def _run(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                results = await self.run([item for item, _ in batch])
            except Exception as exc:
                for _, answer in batch:
                    if not answer.done():
                        answer.set_exception(exc)
                continue
            for (_, answer), result in zip(batch, results, strict=True):
                if not answer.done():
                    answer.set_result(result)


@dataclass(frozen=True)
class Delivery:
    """One reminder being delivered, and what it is delivered with."""

    client: AsyncWebClient
    card: IncidentCard
    incident: Incident
    reminder: Reminder
    owner: str
    note: str
    now: datetime

    @property
    def token(self) -> str:
        """What its buttons carry: the version the row will have once this is delivered."""
        return reminder_token(self.card.number, self.reminder.seq + 1)


def reminder_metadata(reminder: Reminder) -> dict[str, object]:
    """Marks a reminder message with its row and version (see ``_already_posted``)."""
    return {
        "event_type": "amends_reminder",
        "event_payload": {"reminder": reminder.id, "seq": reminder.seq},
    }


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class ReminderEngine:
    def __init__(
        self,
        settings: Settings,
        incidents: IncidentStore,
        reminders: ReminderStore,
        client_for: ClientFor,
        customers: CustomerStore,
        metrics: Metrics,
        parked: Parked | None = None,
    ) -> None:
        self.parked = parked
        self.metrics = metrics
        self.settings = settings
        self.incidents = incidents
        self.reminders = reminders
        self.customers = customers
        self.client_for = client_for
        self.worker = worker_name()
        self.lateness: list[float] = []
        self.sweeps = SweepRecord()
        self._scheduler: AsyncIOScheduler | None = None
        self._lock = asyncio.Lock()
        self._poke = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._claims: dict[int, str] = {}
        """Rows this process is delivering, with their claim tokens (see ``_heartbeats``)."""
        self._heartbeat: asyncio.Task[None] | None = None
        self._slots = asyncio.Semaphore(DELIVERY_CONCURRENCY)
        self._users = Lookups()
        self._completions = Batched(reminders.complete_many)
        """Completions and their timeline entries, a transaction per batch (each row still
        fenced by its own claim token, see ``ReminderStore.complete_many``)."""
        self._holds = Batched(reminders.holds_many)
        """The check before posting, one query per batch (see ``_post_once``)."""

    # -- the clock -------------------------------------------------------------------------

    def start(self) -> None:
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._scheduler.add_job(
            self.sweep,
            "interval",
            seconds=self.settings.reminder_sweep_seconds,
            id="sweep",
            next_run_time=utcnow(),
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
        self._scheduler.start()

    def stop(self) -> None:
        """No more wakes; a sweep under way ends after its current step (see ``drain``)."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        self._poke.set()

    @property
    def running(self) -> bool:
        return self._scheduler is not None and bool(self._scheduler.running)

    def wake_at(self, when: datetime) -> None:
        """Make sure this process wakes by ``when`` (called whenever a due time moves)."""
        if self._scheduler is None:
            return
        job = self._scheduler.get_job("wake")
        if job is not None and job.next_run_time is not None and job.next_run_time <= when:
            return
        if when - utcnow() <= NEAR:
            self._poke.set()
        self._scheduler.add_job(
            self.sweep,
            "date",
            run_date=max(when, utcnow()),
            id="wake",
            replace_existing=True,
            misfire_grace_time=None,
        )

    async def sweep(self) -> None:
        """Deliver what is due; stay awake while more falls due within ``NEAR``, then sleep
        until the next due time. A database outage skips the round (the next sweep retries)."""
        try:
            await self._sweep()
        except Exception as exc:
            self.sweeps.failed()
            if not database_unavailable(exc):
                raise
            log.warning("reminder sweep skipped: database unavailable (%r)", exc)

    async def _sweep(self) -> None:
        if self._lock.locked():
            self._poke.set()
            return
        async with self._lock:
            while self._scheduler is not None:
                if await self.tick() == CLAIM_BATCH:
                    continue
                nxt = await self.reminders.next_wake(exclude=set(self._claims))
                if nxt is None:
                    return
                wait = (nxt - utcnow()).total_seconds()
                if wait > NEAR.total_seconds():
                    self.wake_at(nxt)
                    return
                await self._nap(wait)

    async def _nap(self, seconds: float) -> None:
        """Sleep until the next due time, or until a sooner one is planned."""
        self._poke.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._poke.wait(), timeout=max(0.0, seconds))

    async def tick(self) -> int:
        """Claim due reminders (as many as there is room for) and start delivering them.

        While the queue is full it waits until half of it has gone, then claims the room
        in one batch: a claim (and the load behind it) per batch, not per delivery."""
        while len(self._in_flight) > DELIVERY_CONCURRENCY:
            await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)
        room = min(CLAIM_BATCH, 2 * DELIVERY_CONCURRENCY - len(self._in_flight))
        lease = timedelta(seconds=self.settings.reminder_lease_seconds)
        claimed = await self.reminders.claim_due(
            utcnow(), self.worker, lease, room, exclude=set(self._claims)
        )
        self.sweeps.completed()  # progress, for /healthz: a long sweep is not a stuck one
        for reminder in claimed:
            self._claims[reminder.id] = str(reminder.claim_token)
        loaded = await self._load(claimed)
        for reminder in claimed:
            task = asyncio.create_task(
                self._deliver_guarded(reminder, loaded.get(reminder.incident_id))
            )
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
            task.add_done_callback(functools.partial(self._delivered, reminder.id))
        self._keep_leases()
        return CLAIM_BATCH if len(claimed) == room else len(claimed)

    async def _load(self, claimed: list[Reminder]) -> dict[int, tuple[Incident, int]]:
        """The incidents of a claimed batch, in one query. If the database fails here,
        each delivery loads its own (and meets the same outage, so it retries later)."""
        try:
            return await self.incidents.for_reminders({r.incident_id for r in claimed})
        except Exception as exc:
            log.warning("could not load the incidents of %d reminders: %r", len(claimed), exc)
            return {}

    def _delivered(self, reminder_id: int, _task: asyncio.Task[None]) -> None:
        """A delivery ended (however): its row may be claimed again."""
        self._claims.pop(reminder_id, None)

    def _keep_leases(self) -> None:
        if self._claims and (self._heartbeat is None or self._heartbeat.done()):
            self._heartbeat = asyncio.create_task(self._heartbeats())

    async def _heartbeats(self) -> None:
        """Renew the lease of every delivery in flight, a few times per lease, until none is
        left: a delivery keeps its row however long Slack takes. If the database cannot be
        reached the lease may run out; another replica then takes the row over, and the
        token fence keeps this delivery from acting on it."""
        lease = timedelta(seconds=self.settings.reminder_lease_seconds)
        while self._claims:
            await asyncio.sleep(lease.total_seconds() / HEARTBEATS_PER_LEASE)
            claims = dict(self._claims)
            try:
                await self.reminders.renew(claims, utcnow() + lease)
            except Exception as exc:
                log.warning("could not renew %d reminder leases: %r", len(claims), exc)

    async def drain(self, timeout: float = 10.0) -> None:
        """Let a sweep under way and the deliveries it started finish (used on shutdown,
        before the database connections are closed under them)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                async with self._lock:
                    pass
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=timeout)
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat

    # -- delivery --------------------------------------------------------------------------

    async def _deliver_guarded(
        self, reminder: Reminder, loaded: tuple[Incident, int] | None = None
    ) -> None:
        self.metrics.reminders_due.inc()
        known = {"team": reminder.team_id, "reminder": reminder.kind, "status": reminder.stage}
        async with self._slots:
            with logs.scope(**known) as fields:
                started = time.perf_counter()
                outcome = "sent"
                try:
                    await self.deliver(reminder, loaded)
                except Exception as exc:
                    gone = workspace_gone(exc)
                    outcome = "dropped" if gone else "retry"
                    try:
                        if gone:
                            await self._drop(reminder, exc)
                        else:
                            await self._retry_later(reminder, exc)
                    except Exception as lost:
                        # The database is away too: the lease runs out, a sweep takes the
                        # reminder again, and _already_posted keeps it from posting twice.
                        outcome = "retry-after-lease"
                        log.warning("reminder %s: could not release it: %r", reminder.id, lost)
                fields["outcome"] = outcome
                fields["ms"] = round((time.perf_counter() - started) * 1000, 1)
                log.info("reminder %s %s", reminder.kind, outcome, extra=fields)

    async def _drop(self, reminder: Reminder, exc: Exception) -> None:
        """The workspace uninstalled Amends (or its token is dead): no retry can succeed."""
        log.warning(
            "reminder %s for incident %s dropped: workspace %s is gone (%s)",
            reminder.id,
            reminder.incident_id,
            reminder.team_id,
            slack_error(exc) if isinstance(exc, SlackApiError) else "not installed",
        )
        await self.reminders.finish(reminder, CANCELLED)

    async def _retry_later(self, reminder: Reminder, exc: Exception) -> None:
        error = slack_error(exc) if isinstance(exc, SlackApiError) else repr(exc)
        backoff = min(MAX_BACKOFF, timedelta(seconds=2 ** min(reminder.attempts, 8)))
        log.warning(
            "reminder %s for incident %s failed (%s); retrying in %s",
            reminder.id,
            reminder.incident_id,
            error,
            backoff,
        )
        retry_at = utcnow() + backoff
        if await self.reminders.release(reminder, retry_at=retry_at, error=error):
            self.wake_at(retry_at)

    async def deliver(self, reminder: Reminder, loaded: tuple[Incident, int] | None = None) -> None:
        """Deliver one claimed reminder; ``loaded`` is its incident and customer count when
        the batch already loaded them."""
        if loaded is None:
            loaded = (await self.incidents.for_reminders([reminder.incident_id])).get(
                reminder.incident_id
            )
        incident = loaded[0] if loaded else None
        if reminder.kind == FOLLOW_UP:
            await self._deliver_follow_up(reminder, incident)
            return
        if incident is None or Status(incident.status) not in ACTIVE_STATUSES:
            await self.reminders.finish(reminder, CANCELLED)
            return
        if incident.paused:
            await self.reminders.finish(reminder, PAUSED)
            return
        logs.note(incident=incident.number)
        client = await self.client_for(reminder.team_id)
        card = incident_card(incident, self.settings.severities, customer_names=())
        owner, note = await self._owner(client, reminder.team_id, card)
        logs.note(user=owner)
        now = utcnow()
        d = Delivery(client, card, incident, reminder, owner, note, now)
        if reminder.stage == "escalate":
            ts = await self._post_once(d, self._escalate)
            overdue, blocks = self._escalation(d)
            if ts is not None:
                await self._dm_once(d, ts, d.owner, escalation_dm_text(d.card, overdue), blocks)
            next_stage = "due"
            next_due = clock.reminder_after_escalation(self.settings, card.severity, now)
        else:
            ts = await self._post_once(d, self._remind)
            next_stage = "escalate"
            next_due = clock.escalation_due(self.settings, card.severity, now)
        event = f"reminder_{reminder.stage}"
        if ts is None or not await self._complete(d, ts, next_stage, next_due, event):
            return
        self.lateness.append((now - reminder.due_at).total_seconds())
        self.metrics.reminder_sent(self.lateness[-1])
        self.wake_at(next_due)

    async def _deliver_follow_up(self, reminder: Reminder, incident: Incident | None) -> None:
        """Remind the follow-up owner while customers wait; stop once none do."""
        closure = incident.closure if incident else None
        counts = await self.customers.counts(reminder.incident_id)
        remaining = counts.total - counts.followed_up
        if incident is None or closure is None or incident.status != "resolved" or not remaining:
            await self.reminders.finish(reminder, CANCELLED)
            return
        logs.note(incident=incident.number, user=closure.follow_up_owner)
        if self.parked is not None and await self.parked(incident.id):
            raise BehindParkedCalls(f"INC-{incident.number} has Slack calls still to make")
        client = await self.client_for(reminder.team_id)
        card = incident_card(incident, self.settings.severities, customer_names=())
        now = utcnow()
        overdue = now.date() > closure.follow_up_due
        d = Delivery(client, card, incident, reminder, closure.follow_up_owner, "", now)

        async def post(d: Delivery) -> str:
            return await send_follow_up_reminder(
                d.client,
                self.reminders,
                d.card,
                d.reminder,
                d.owner,
                remaining,
                counts.total,
                overdue,
                reminder_metadata(d.reminder),
            )

        ts = await self._post_once(d, post)
        lead = card.roles.get("lead")
        if ts is not None and overdue and lead and lead != d.owner:
            blocks = follow_up_reminder_blocks(card, d.owner, remaining, counts.total, overdue)
            dm = overdue_dm_text(card, remaining, counts.total)
            await self._dm_once(d, ts, lead, dm, blocks)
        next_due = clock.next_follow_up_reminder(self.settings, now)
        stage = "overdue" if overdue else "due"
        event, detail = f"follow_up_{stage}", str(remaining)
        if ts is None or not await self._complete(d, ts, stage, next_due, event, detail):
            return
        self.metrics.reminder_sent((now - reminder.due_at).total_seconds())
        self.wake_at(next_due)

    # -- one delivery, recorded step by step and fenced by its claim -----------------------

    async def _post_once(
        self, d: Delivery, post: Callable[[Delivery], Awaitable[str]]
    ) -> str | None:
        """This version's message: the one an earlier claim posted, or a new one; None,
        with nothing posted, if the claim was taken over (or someone acted) meanwhile: the
        search and the owner lookup before it can take a while."""
        found = await self._already_posted(d)
        if found is not None:
            return found
        if not await self._holds(d.reminder):
            log.info("%s: reminder %s changed hands before posting", d.card.label, d.reminder.id)
            return None
        return await post(d)

    async def _dm_once(self, d: Delivery, ts: str, user: str, text: str, blocks: Blocks) -> None:
        """A direct message goes at most once per version: the right to send it is taken in
        the row first, with the channel message ``ts`` it follows (see
        ``ReminderStore.mark_dm``); a claim that was taken over sends none."""
        if not await self.reminders.mark_dm(d.reminder, d.now, ts):
            return
        try:
            await d.client.chat_postMessage(channel=user, text=text, blocks=blocks)
        except SlackApiError as exc:
            log.warning("%s: could not DM %s: %s", d.card.label, user, slack_error(exc))

    async def _complete(
        self,
        d: Delivery,
        ts: str,
        next_stage: str,
        next_due: datetime,
        event: str,
        detail: str = "",
    ) -> bool:
        """Record the step and its timeline entry (batched with other deliveries')."""
        done = await self._completions(
            Completion(
                reminder=d.reminder,
                next_due=next_due,
                next_stage=next_stage,
                sent_at=d.now,
                message=(str(d.card.channel_id), ts),
                actor_id=d.owner,
                event=event,
                detail=detail,
            )
        )
        if not done:
            await self._lost(d, ts)
        return done

    async def _lost(self, d: Delivery, ts: str) -> None:
        """The claim could not record its step. If it still holds the row, someone acted (an
        update, a snooze, a pause) while this was being sent: take the message back. If a
        newer claim holds it, that claim may have adopted the message: leave it alone."""
        if await self.reminders.give_up(d.reminder):
            await self._withdraw(d.client, d.card, ts)
        else:
            log.warning(
                "%s: reminder %s was taken over by a newer claim", d.card.label, d.reminder.id
            )

    async def _withdraw(self, client: AsyncWebClient, card: IncidentCard, ts: str) -> None:
        """Someone acted (an update, a snooze) while this was being sent: take it back."""
        try:
            await client.chat_update(
                channel=str(card.channel_id),
                ts=ts,
                text="Handled",
                blocks=reminder_handled_blocks("handled meanwhile."),
            )
        except SlackApiError as exc:
            log.warning(
                "%s: could not withdraw a superseded reminder: %s", card.label, slack_error(exc)
            )

    async def _already_posted(self, d: Delivery) -> str | None:
        """The message an earlier claim of this version posted, if it reached Slack.

        Two records make this hold. A stage that sends a DM after its channel message writes
        that message's ts into the row before the DM (``posted_ts``, with ``dm_at``), so a
        later claim adopts it without asking Slack. Otherwise (a claim that died between
        Slack's answer and its completion), for a claim that is not the version's first,
        the channel history is searched: each reminder message carries its row and version
        as message metadata.
        The search starts when this version was first claimed (no message of it can be
        older; ``CLOCK_SKEW`` covers a clock ahead of Slack's) and follows the cursor page
        after page to the end, so a busy channel cannot push the message off the first page.
        If Slack cannot be asked, the reminder is posted: a possible duplicate over a lost one.
        """
        if d.reminder.posted_ts:
            return d.reminder.posted_ts
        if d.reminder.attempts <= 1:
            return None
        since = d.reminder.first_claimed_at or d.reminder.sent_at
        oldest = f"{(since - CLOCK_SKEW).timestamp():.6f}" if since else "0"
        wanted = reminder_metadata(d.reminder)
        cursor: str | None = None
        try:
            while True:
                page = await d.client.conversations_history(
                    channel=str(d.card.channel_id),
                    oldest=oldest,
                    limit=HISTORY_PAGE,
                    include_all_metadata=True,
                    cursor=cursor,
                )
                messages: list[dict[str, Any]] = page.get("messages") or []
                for message in messages:
                    if message.get("metadata") == wanted:
                        return str(message["ts"])
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not page.get("has_more") or not cursor:
                    return None
        except SlackApiError as exc:
            log.warning(
                "%s: could not check for a posted reminder: %s", d.card.label, slack_error(exc)
            )
            return None

    async def _remind(self, d: Delivery) -> str:
        posted = await d.client.chat_postMessage(
            channel=str(d.card.channel_id),
            text=f"<@{d.owner}>, a customer update for {d.card.label} is due.",
            blocks=reminder_blocks(
                d.card, d.owner, d.token, last_update_at=d.incident.last_update_at, note=d.note
            ),
            metadata=reminder_metadata(d.reminder),
        )
        return str(posted["ts"])

    def _escalation(self, d: Delivery) -> tuple[int, Blocks]:
        """Minutes overdue, and the escalation's blocks (the channel message and the DM)."""
        due = d.incident.next_update_due or d.now
        overdue = max(1, int((d.now - due).total_seconds() // 60))
        blocks = escalation_blocks(
            d.card, d.owner, d.card.roles.get("lead"), d.token, overdue_minutes=overdue
        )
        return overdue, blocks

    async def _escalate(self, d: Delivery) -> str:
        overdue, blocks = self._escalation(d)
        await self._retire_previous(d)
        posted = await d.client.chat_postMessage(
            channel=str(d.card.channel_id),
            text=f"The customer update for {d.card.label} is {overdue} min overdue.",
            blocks=blocks,
            metadata=reminder_metadata(d.reminder),
        )
        return str(posted["ts"])

    async def _retire_previous(self, d: Delivery) -> None:
        """The escalation carries the buttons now; the first reminder gives them up (only
        while this claim holds the row)."""
        previous = await self.reminders.take_message(d.reminder.incident_id, claim=d.reminder)
        if previous is None:
            return
        try:
            await d.client.chat_update(
                channel=previous[0],
                ts=previous[1],
                text="Escalated",
                blocks=reminder_handled_blocks("escalated, see below."),
            )
        except SlackApiError as exc:
            log.warning("%s: could not retire the reminder: %s", d.card.label, slack_error(exc))

    async def _owner(
        self, client: AsyncWebClient, team_id: str, card: IncidentCard
    ) -> tuple[str, str]:
        """The comms owner, or the lead when the owner has left the workspace."""
        owner = comms_owner(card.roles) or card.reporter_id
        lead = card.roles.get("lead") or card.reporter_id
        if owner == lead:
            return owner, ""
        if await self._has_left(client, team_id, owner):
            return lead, f"<@{owner}> has left the workspace, so this comes to you as lead."
        return owner, ""

    async def _has_left(self, client: AsyncWebClient, team_id: str, user_id: str) -> bool:
        """Whether the user has left the workspace (asked of Slack at most once a
        ``LOOKUP_TTL`` per user)."""
        known = self._users.get((team_id, user_id))
        if known is not None:
            return known
        try:
            user = (await client.users_info(user=user_id))["user"]
        except SlackApiError as exc:
            if slack_error(exc) != "user_not_found":
                raise
            user = {"deleted": True}
        left = bool(user.get("deleted"))
        self._users.put((team_id, user_id), left)
        return left
