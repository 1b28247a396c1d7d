"""The reminder engine: the database holds every reminder; APScheduler only wakes us up.

Each wake claims the due rows atomically (with a lease), delivers them, and completes them
fenced by the claim, then sleeps until the next due time (or the slow safety sweep, which
also picks up rows another replica left behind when it died). The cost of a wake grows
with what is due, not with what is open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import logs
from bot.cards import incident_card
from bot.follow_up import send_follow_up_reminder
from bot.metrics import Metrics
from bot.policy import ACTIVE_STATUSES, Status, comms_owner
from bot.settings import Settings
from bot.slack_calls import slack_error
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
from storage.reminders import CANCELLED, FOLLOW_UP, PAUSED, ReminderStore
from storage.repository import IncidentStore

log = logging.getLogger(__name__)

ClientFor = Callable[[str], Awaitable[AsyncWebClient]]
Parked = Callable[[int], Awaitable[bool]]
"""Whether an incident still has Slack calls parked in the outbox (its lane is busy)."""


class BehindParkedCalls(Exception):
    """The follow-up reminder waits until the checklist it points at is in the channel."""


CLAIM_BATCH = 200
DELIVERY_CONCURRENCY = 50
MAX_BACKOFF = timedelta(minutes=5)
NEAR = timedelta(seconds=1)
"""Due times closer than this are waited for in the sweep itself, not via the scheduler."""


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
        self._scheduler: AsyncIOScheduler | None = None
        self._lock = asyncio.Lock()
        self._poke = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(DELIVERY_CONCURRENCY)

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
                nxt = await self.reminders.next_wake()
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
        """Claim due reminders (as many as there is room for) and start delivering them."""
        while len(self._in_flight) >= 2 * DELIVERY_CONCURRENCY:
            await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)
        room = min(CLAIM_BATCH, 2 * DELIVERY_CONCURRENCY - len(self._in_flight))
        lease = timedelta(seconds=self.settings.reminder_lease_seconds)
        claimed = await self.reminders.claim_due(utcnow(), self.worker, lease, room)
        for reminder in claimed:
            task = asyncio.create_task(self._deliver_guarded(reminder))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        return CLAIM_BATCH if len(claimed) == room else len(claimed)

    async def drain(self, timeout: float = 10.0) -> None:
        """Let a sweep under way and the deliveries it started finish (used on shutdown,
        before the database connections are closed under them)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                async with self._lock:
                    pass
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=timeout)

    # -- delivery --------------------------------------------------------------------------

    async def _deliver_guarded(self, reminder: Reminder) -> None:
        self.metrics.reminders_due.inc()
        known = {"team": reminder.team_id, "reminder": reminder.kind, "status": reminder.stage}
        async with self._slots:
            with logs.scope(**known) as fields:
                outcome = "sent"
                try:
                    await self.deliver(reminder)
                except Exception as exc:
                    outcome = "retry"
                    try:
                        await self._retry_later(reminder, exc)
                    except Exception as lost:
                        # The database is away too: the lease runs out, a sweep takes the
                        # reminder again, and _already_posted keeps it from posting twice.
                        outcome = "retry-after-lease"
                        log.warning("reminder %s: could not release it: %r", reminder.id, lost)
                fields["outcome"] = outcome
                log.info("reminder %s %s", reminder.kind, outcome, extra=fields)

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
        await self.reminders.release(
            reminder, self.worker, retry_at=utcnow() + backoff, error=error
        )

    async def deliver(self, reminder: Reminder) -> None:
        incident = await self.incidents.get(reminder.incident_id)
        if reminder.kind == FOLLOW_UP:
            await self._deliver_follow_up(reminder, incident)
            return
        if incident is None or Status(incident.status) not in ACTIVE_STATUSES:
            await self.reminders.set_state(reminder.incident_id, CANCELLED)
            return
        if incident.paused:
            await self.reminders.set_state(reminder.incident_id, PAUSED)
            return
        logs.note(incident=incident.number)
        client = await self.client_for(reminder.team_id)
        card = incident_card(incident, self.settings.severities)
        owner, note = await self._owner(client, card)
        now = utcnow()
        d = Delivery(client, card, incident, reminder, owner, note, now)
        ts = await self._already_posted(d) if reminder.attempts > 1 else None
        if reminder.stage == "escalate":
            ts = ts or await self._escalate(d)
            next_stage, next_due = "due", now + self.settings.cadence(card.severity)
        else:
            ts = ts or await self._remind(d)
            next_stage, next_due = "escalate", now + self.settings.grace(card.severity)
        done = await self.reminders.complete(
            reminder,
            self.worker,
            next_due=next_due,
            next_stage=next_stage,
            sent_at=now,
            message=(str(card.channel_id), ts),
        )
        if not done:
            await self._withdraw(client, card, ts)
            return
        self.lateness.append((now - reminder.due_at).total_seconds())
        self.metrics.reminder_sent(self.lateness[-1])
        await self.incidents.add_event(incident.id, owner, f"reminder_{reminder.stage}", "")
        self.wake_at(next_due)

    async def _deliver_follow_up(self, reminder: Reminder, incident: Incident | None) -> None:
        """Remind the follow-up owner while customers wait; stop once none do."""
        closure = incident.closure if incident else None
        counts = await self.customers.counts(reminder.incident_id)
        remaining = counts.total - counts.followed_up
        if incident is None or closure is None or incident.status != "resolved" or not remaining:
            await self.reminders.set_state(reminder.incident_id, CANCELLED, kind=FOLLOW_UP)
            return
        logs.note(incident=incident.number)
        if self.parked is not None and await self.parked(incident.id):
            raise BehindParkedCalls(f"INC-{incident.number} has parked Slack calls")
        client = await self.client_for(reminder.team_id)
        card = incident_card(incident, self.settings.severities)
        now = utcnow()
        overdue = now.date() > closure.follow_up_due
        d = Delivery(client, card, incident, reminder, closure.follow_up_owner, "", now)
        ts = await self._already_posted(d) if reminder.attempts > 1 else None
        ts = ts or await send_follow_up_reminder(
            client,
            self.reminders,
            card,
            incident.id,
            d.owner,
            remaining,
            counts.total,
            overdue,
            reminder_metadata(reminder),
        )
        next_due = now + self.settings.follow_up_reminder
        stage = "overdue" if overdue else "due"
        if not await self.reminders.complete(
            reminder,
            self.worker,
            next_due=next_due,
            next_stage=stage,
            sent_at=now,
            message=(str(card.channel_id), ts),
        ):
            await self._withdraw(client, card, ts)
            return
        await self.incidents.add_event(incident.id, d.owner, f"follow_up_{stage}", str(remaining))
        self.wake_at(next_due)

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
        """After a lost claim (a crash, a timeout), find this delivery if it did reach Slack.

        Each reminder message carries its row and version as message metadata, so a retry
        completes the row instead of posting the same reminder twice.
        """
        oldest = d.reminder.sent_at.timestamp() if d.reminder.sent_at else 0
        try:
            history = await d.client.conversations_history(
                channel=str(d.card.channel_id),
                oldest=f"{oldest:.6f}",
                limit=200,
                include_all_metadata=True,
            )
        except SlackApiError as exc:
            log.warning(
                "%s: could not check for a posted reminder: %s", d.card.label, slack_error(exc)
            )
            return None
        messages: list[dict[str, Any]] = history.get("messages") or []
        for message in messages:
            if message.get("metadata") == reminder_metadata(d.reminder):
                return str(message["ts"])
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

    async def _escalate(self, d: Delivery) -> str:
        due = d.incident.next_update_due or d.now
        overdue = max(1, int((d.now - due).total_seconds() // 60))
        await self._retire_previous(d.client, d.card, d.incident.id)
        blocks = escalation_blocks(
            d.card, d.owner, d.card.roles.get("lead"), d.token, overdue_minutes=overdue
        )
        posted = await d.client.chat_postMessage(
            channel=str(d.card.channel_id),
            text=f"The customer update for {d.card.label} is {overdue} min overdue.",
            blocks=blocks,
            metadata=reminder_metadata(d.reminder),
        )
        try:
            await d.client.chat_postMessage(
                channel=d.owner, text=escalation_dm_text(d.card, overdue), blocks=blocks
            )
        except SlackApiError as exc:
            log.warning("%s: could not DM %s: %s", d.card.label, d.owner, slack_error(exc))
        return str(posted["ts"])

    async def _retire_previous(
        self, client: AsyncWebClient, card: IncidentCard, incident_id: int
    ) -> None:
        """The escalation carries the buttons now; the first reminder gives them up."""
        previous = await self.reminders.take_message(incident_id)
        if previous is None:
            return
        try:
            await client.chat_update(
                channel=previous[0],
                ts=previous[1],
                text="Escalated",
                blocks=reminder_handled_blocks("escalated, see below."),
            )
        except SlackApiError as exc:
            log.warning("%s: could not retire the reminder: %s", card.label, slack_error(exc))

    async def _owner(self, client: AsyncWebClient, card: IncidentCard) -> tuple[str, str]:
        """The comms owner, or the lead when the owner has left the workspace."""
        owner = comms_owner(card.roles) or card.reporter_id
        lead = card.roles.get("lead") or card.reporter_id
        if owner == lead:
            return owner, ""
        try:
            user = (await client.users_info(user=owner))["user"]
        except SlackApiError as exc:
            if slack_error(exc) != "user_not_found":
                raise
            user = {"deleted": True}
        if user.get("deleted"):
            return lead, f"<@{owner}> has left the workspace, so this comes to you as lead."
        return owner, ""
