"""Contact clocks by tier: each customer of the directory must be contacted directly within
its tier's window (``CUSTOMER_TIERS``) after the declare or after being added.

The comms owner is reminded when a clock of the first tier listed (``premium`` by default)
runs out, through the reminder engine: one row of kind ``contact_clock`` per incident, due
when the earliest such clock runs out. Its delivery posts one message naming every customer
whose clock ran out and marks them reminded, so each is reminded about once; a claim that
died after posting finds its message (the engine's ``_post_once``) instead of posting again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.incidents.policy import ACTIVE_STATUSES, Status
from bot.runtime import logs
from bot.settings import Settings
from bot.slack.header import incident_card
from messages.directory import clock_reminder_text
from storage.customers import CustomerStore
from storage.models import Incident, Reminder, utcnow
from storage.reminders import CANCELLED, CONTACT_CLOCK, PENDING, ReminderStore

if TYPE_CHECKING:
    from bot.incidents.reminders import Delivery, ReminderEngine

Waker = Callable[[datetime], None]
QUIET = timedelta(days=1)
"""When nobody is left to remind about, the row waits this long and then ends itself."""


class ContactClock:
    """Links added customers to the directory and plans the reminder for their clocks."""

    def __init__(
        self,
        customers: CustomerStore,
        reminders: ReminderStore,
        settings: Settings,
        waker: Waker,
    ) -> None:
        self.customers = customers
        self.reminders = reminders
        self.settings = settings
        self.waker = waker

    async def customers_added(self, incident: Incident) -> None:
        """Link new customers to the directory (starting their clocks) and plan the reminder."""
        await self.customers.link(incident.id)
        await self.plan(incident.id, incident.team_id)

    async def plan(self, incident_id: int, team_id: str) -> None:
        due = await self.customers.next_clock(incident_id, self.settings.escalating_tier)
        if due is None:
            return
        current = await self.reminders.get(incident_id, CONTACT_CLOCK)
        if current is not None and current.state == PENDING and current.due_at <= due:
            return
        await self.reminders.schedule(incident_id, team_id, due, kind=CONTACT_CLOCK)
        self.waker(due)


async def deliver_contact_clock(
    engine: ReminderEngine, reminder: Reminder, incident: Incident | None
) -> None:
    """The comms owner hears, once, which customers' clocks ran out uncontacted."""
    tier = engine.settings.escalating_tier
    if incident is None or Status(incident.status) not in ACTIVE_STATUSES:
        await engine.reminders.finish(reminder, CANCELLED)
        return
    now = utcnow()
    overdue = await engine.customers.clocks_run_out(incident.id, tier, now)
    if not overdue:
        await engine.reminders.finish(reminder, CANCELLED)
        await _replan(engine, incident)
        return
    logs.note(incident=incident.number)
    client = await engine.client_for(reminder.team_id)
    card = incident_card(incident, engine.settings.severities, customer_names=())
    owner, note = await engine._owner(client, reminder.team_id, card)
    from bot.incidents.reminders import Delivery, reminder_metadata  # the engine imports us

    d = Delivery(client, card, incident, reminder, owner, note, now)

    async def post(d: Delivery) -> str:
        text = clock_reminder_text(d.card.label, d.owner, tier, [(o.name, o.due) for o in overdue])
        posted = await d.client.chat_postMessage(
            channel=str(d.card.channel_id),
            text=text,
            metadata=reminder_metadata(d.reminder),
        )
        return str(posted["ts"])

    ts = await engine._post_once(d, post)
    if ts is None:
        return
    await engine.customers.mark_clock_alerted([o.id for o in overdue], now)
    following = await engine.customers.next_clock(incident.id, tier)
    next_due = following or now + QUIET
    detail = ", ".join(o.name for o in overdue)
    if await engine._complete(d, ts, "due", next_due, "contact_clock_ran_out", detail):
        engine.metrics.reminder_sent((now - reminder.due_at).total_seconds())
        engine.wake_at(next_due)


async def _replan(engine: ReminderEngine, incident: Incident) -> None:
    due = await engine.customers.next_clock(incident.id, engine.settings.escalating_tier)
    if due is not None:
        await engine.reminders.schedule(incident.id, incident.team_id, due, kind=CONTACT_CLOCK)
        engine.wake_at(due)
