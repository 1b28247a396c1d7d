"""What a claimed reminder posts: the customer-update reminder, its escalation (with the
DM to the owner), and the follow-up reminder after the close.

The engine (``reminder_engine.py``) claims the rows and calls ``ReminderDelivery.deliver``;
this module makes each delivery happen once even when a claim dies or is taken over:

* a later claim of the same version finishes it instead of repeating it: the DM is marked
  in the row (with the channel message it follows) before it is sent, and a message whose
  claim died before completing is found in the channel history (``_already_posted``);
* a claim that was taken over changes nothing and shows nothing: only the holder of the
  current token takes a reminder message back.

When the next step is due (escalation, the next reminder, the next follow-up) is the
update clock's rule (``clock.py``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.customers.clock import QUIET
from bot.incidents import clock
from bot.incidents.policy import ACTIVE_STATUSES, Status, comms_owner
from bot.observability import logs
from bot.observability.metrics import Metrics
from bot.settings import Settings
from bot.slack.calls import ClientFor, slack_error
from bot.slack.header import incident_card
from messages.closing import follow_up_reminder_blocks, overdue_dm_text
from messages.directory import clock_reminder_text
from messages.model import IncidentCard
from messages.updates import (
    escalation_blocks,
    escalation_dm_text,
    reminder_blocks,
    reminder_token,
    retire_reminder_message,
)
from storage.customers import CustomerStore
from storage.models import Incident, Reminder, utcnow
from storage.reminders import (
    CANCELLED,
    CONTACT_CLOCK,
    FOLLOW_UP,
    PAUSED,
    Completion,
    DmMark,
    ReminderStore,
)
from storage.repository import IncidentStore

log = logging.getLogger(__name__)

Parked = Callable[[int], Awaitable[bool]]
"""Whether an incident's lane in the outbox is busy (calls parked, on their way, or a
flow of calls still running), so a reminder waits behind it."""


class BehindParkedCalls(Exception):
    """The follow-up reminder waits until the checklist it points at is in the channel."""


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
DELIVERY_CONCURRENCY = 50
"""At most this many Slack calls of reminder deliveries are in flight at once, per process
(the database steps between a delivery's calls hold none: a burst keeps Slack busy, not
waiting behind the database). The rest of the process's calls (Bolt's) are not counted."""


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
        # One turn of the loop first: the deliveries that Slack's answers wake in the same
        # turn (the claims of a burst are checked all at once) join this batch.
        await asyncio.sleep(0)
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


@dataclass(eq=False)
class ReminderDelivery:
    """Delivers one claimed reminder; ``wake`` asks the engine to wake by a time."""

    settings: Settings
    incidents: IncidentStore
    reminders: ReminderStore
    client_for: ClientFor
    customers: CustomerStore
    metrics: Metrics
    wake: Callable[[datetime], None]
    parked: Parked | None = None
    lateness: list[float] = field(default_factory=list)
    """Seconds late, per customer-update reminder delivered."""
    slots: asyncio.Semaphore = field(
        default_factory=lambda: asyncio.Semaphore(DELIVERY_CONCURRENCY)
    )
    """What each Slack call of a delivery holds while it is in flight."""

    def __post_init__(self) -> None:
        self._users = Lookups()
        self._completions = Batched(self.reminders.complete_many)
        """Completions and their timeline entries, a transaction per batch (each row still
        fenced by its own claim token, see ``ReminderStore.complete_many``)."""
        self._dm_marks = Batched(self.reminders.mark_dm_many)
        """The right to send a DM, a statement per batch (see ``ReminderStore.mark_dm``)."""
        self._holds = Batched(self.reminders.holds_many)
        """The check before posting, one query per batch (see ``_post_once``)."""

    async def _slack(self, call: Callable[..., Awaitable[Any]], **kwargs: Any) -> Any:
        """Make one Slack call of a delivery, holding one of the slots while it is in flight."""
        async with self.slots:
            return await call(**kwargs)

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
        if reminder.kind == CONTACT_CLOCK:
            return await self._deliver_contact_clock(reminder, incident)
        if incident is None or incident.status not in ACTIVE_STATUSES:
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
            next_due = clock.reminder_after_escalation(self.settings, incident, now)
        else:
            ts = await self._post_once(d, self._remind)
            next_stage = "escalate"
            next_due = clock.escalation_due(self.settings, incident, now)
        event = f"reminder_{reminder.stage}"
        if ts is None or not await self._complete(d, ts, next_stage, next_due, event):
            return
        self.lateness.append((now - reminder.due_at).total_seconds())
        self.metrics.reminder_sent(self.lateness[-1])
        self.wake(next_due)

    async def _deliver_contact_clock(self, reminder: Reminder, incident: Incident | None) -> None:
        """The comms owner hears, once, which customers' contact clocks ran out uncontacted
        (``bot/customers/clock.py`` plans the row)."""
        tier = self.settings.escalating_tier
        if incident is None or incident.status not in ACTIVE_STATUSES:
            await self.reminders.finish(reminder, CANCELLED)
            return
        now = utcnow()
        overdue = await self.customers.clocks_run_out(incident.id, tier, now)
        if not overdue:
            await self.reminders.finish(reminder, CANCELLED)
            await self._replan_contact_clock(incident)
            return
        logs.note(incident=incident.number)
        client = await self.client_for(reminder.team_id)
        card = incident_card(incident, self.settings.severities, customer_names=())
        owner, note = await self._owner(client, reminder.team_id, card)
        d = Delivery(client, card, incident, reminder, owner, note, now)

        async def post(d: Delivery) -> str:
            waiting = [(o.name, o.due) for o in overdue]
            text = clock_reminder_text(d.card.label, d.owner, tier, waiting)
            posted = await self._slack(
                d.client.chat_postMessage,
                channel=str(d.card.channel_id),
                text=text,
                metadata=reminder_metadata(d.reminder),
            )
            return str(posted["ts"])

        ts = await self._post_once(d, post)
        if ts is None:
            return
        await self.customers.mark_clock_alerted([o.id for o in overdue], now)
        following = await self.customers.next_clock(incident.id, tier)
        next_due = following or now + QUIET
        detail = ", ".join(o.name for o in overdue)
        if await self._complete(d, ts, "due", next_due, "contact_clock_ran_out", detail):
            self.metrics.reminder_sent((now - reminder.due_at).total_seconds())
            self.wake(next_due)

    async def _replan_contact_clock(self, incident: Incident) -> None:
        due = await self.customers.next_clock(incident.id, self.settings.escalating_tier)
        if due is not None:
            await self.reminders.schedule(incident.id, incident.team_id, due, kind=CONTACT_CLOCK)
            self.wake(due)

    async def _deliver_follow_up(self, reminder: Reminder, incident: Incident | None) -> None:
        """Remind the follow-up owner while customers wait; stop once none do."""
        closure = incident.closure if incident else None
        remaining = 0
        if incident is not None and closure is not None and incident.status == Status.RESOLVED:
            counts = await self.customers.counts(reminder.incident_id)
            remaining = counts.total - counts.followed_up
        if incident is None or closure is None or not remaining:
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
            return await self._remind_follow_up(d, remaining, counts.total, overdue)

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
        self.wake(next_due)

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
        ``ReminderStore.mark_dm``, batched with other deliveries'); a claim that was taken
        over sends none."""
        if not await self._dm_marks(DmMark(d.reminder, d.now, ts)):
            return
        try:
            await self._slack(d.client.chat_postMessage, channel=user, text=text, blocks=blocks)
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
        message = retire_reminder_message("handled meanwhile.", "Handled")
        await self._retire(
            client, card, (str(card.channel_id), ts), message, "withdraw a superseded"
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
                page = await self._slack(
                    d.client.conversations_history,
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
        posted = await self._slack(
            d.client.chat_postMessage,
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
        await self._retire_previous(
            d, retire_reminder_message("escalated, see below.", "Escalated")
        )
        posted = await self._slack(
            d.client.chat_postMessage,
            channel=str(d.card.channel_id),
            text=f"The customer update for {d.card.label} is {overdue} min overdue.",
            blocks=blocks,
            metadata=reminder_metadata(d.reminder),
        )
        return str(posted["ts"])

    async def _retire_previous(self, d: Delivery, message: dict[str, Any]) -> None:
        """The new message carries the buttons now; the one before it gives them up (only
        while this claim holds the row)."""
        previous = await self.reminders.take_claimed_message(d.reminder)
        if previous is not None:
            what = "retire the follow-up" if d.reminder.kind == FOLLOW_UP else "retire the"
            await self._retire(d.client, d.card, previous, message, what)

    async def _remind_follow_up(
        self, d: Delivery, remaining: int, total: int, overdue: bool
    ) -> str:
        """Post the follow-up reminder (the previous one gives up its button). The lead's
        DM once overdue is sent once per version, by ``_dm_once``."""
        superseded = retire_reminder_message("a newer follow-up reminder is below.", "Superseded")
        await self._retire_previous(d, superseded)
        posted = await self._slack(
            d.client.chat_postMessage,
            channel=str(d.card.channel_id),
            text=f"{remaining} customers of {d.card.label} still need a follow-up.",
            blocks=follow_up_reminder_blocks(d.card, d.owner, remaining, total, overdue),
            metadata=reminder_metadata(d.reminder),
        )
        return str(posted["ts"])

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
            user = (await self._slack(client.users_info, user=user_id))["user"]
        except SlackApiError as exc:
            if slack_error(exc) != "user_not_found":
                raise
            user = {"deleted": True}
        left = bool(user.get("deleted"))
        self._users.put((team_id, user_id), left)
        return left

    async def _retire(
        self,
        client: AsyncWebClient,
        card: IncidentCard,
        message_at: tuple[str, str],
        message: dict[str, Any],
        what: str,
    ) -> None:
        """Replace a reminder message (channel, ts) with what it became; a failure is
        logged: the delivery that retires it goes on."""
        channel, ts = message_at
        try:
            await self._slack(client.chat_update, channel=channel, ts=ts, **message)
        except SlackApiError as exc:
            log.warning("%s: could not %s reminder: %s", card.label, what, slack_error(exc))
