"""The reminder engine: the database holds every reminder; APScheduler only wakes us up.

Each wake claims the due rows atomically (with a lease and a claim token of their own),
hands them to the delivery (``reminder_delivery.py``: what a claimed reminder posts), and
the delivery completes them fenced by that token; then the engine sleeps until the next
due time (or the slow safety sweep, which also picks up rows another replica left behind
when it died). The cost of a wake grows with what is due, not with what is open.

Delivered once, even when Slack is slower than the lease:

* a heartbeat renews the lease of every delivery in flight, so a live delivery keeps its
  row however long Slack takes to answer;
* this process never claims a row it is still delivering, even if that lease ran out;
* a later claim of the same version finishes it instead of repeating it, and a claim that
  was taken over changes nothing (see ``reminder_delivery.py``).
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
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_sdk.errors import SlackApiError

from bot.incidents.reminder_delivery import DELIVERY_CONCURRENCY, Parked, ReminderDelivery
from bot.observability import logs
from bot.observability.health import SweepRecord
from bot.observability.metrics import Metrics
from bot.settings import Settings
from bot.slack.calls import MAX_BACKOFF, ClientFor, slack_error
from bot.slack.workspaces import workspace_gone
from storage.customers import CustomerStore
from storage.db import database_unavailable
from storage.models import Incident, Reminder, utcnow
from storage.reminders import CANCELLED, ReminderStore
from storage.repository import IncidentStore

log = logging.getLogger(__name__)

CLAIM_BATCH = 200
NEAR = timedelta(seconds=1)
"""Due times closer than this are waited for in the sweep itself, not via the scheduler."""
HEARTBEATS_PER_LEASE = 3
"""How often, per lease, the leases of deliveries in flight are renewed."""


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
        self.metrics = metrics
        self.settings = settings
        self.incidents = incidents
        self.reminders = reminders
        self.delivery = ReminderDelivery(
            settings, incidents, reminders, client_for, customers, metrics, self.wake_at, parked
        )
        self.worker = worker_name()
        self.sweeps = SweepRecord()
        self._scheduler: AsyncIOScheduler | None = None
        self._lock = asyncio.Lock()
        self._poke = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._claims: dict[int, str] = {}
        """Rows this process is delivering, with their claim tokens (see ``_heartbeats``)."""
        self._heartbeat: asyncio.Task[None] | None = None

    @property
    def lateness(self) -> list[float]:
        """Seconds late, per customer-update reminder delivered by this process."""
        return self.delivery.lateness

    # -- waking up -------------------------------------------------------------------------

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

    # -- one delivery and its outcome ------------------------------------------------------

    async def _deliver_guarded(
        self, reminder: Reminder, loaded: tuple[Incident, int] | None = None
    ) -> None:
        self.metrics.reminders_due.inc()
        known = {"team": reminder.team_id, "reminder": reminder.kind, "status": reminder.stage}
        with logs.scope(**known) as fields:
            started = time.perf_counter()
            outcome = "sent"
            try:
                await self.delivery.deliver(reminder, loaded)
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
