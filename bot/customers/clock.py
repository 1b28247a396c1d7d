"""Contact clocks by tier: each customer of the directory must be contacted directly within
its tier's window (``CUSTOMER_TIERS``) after the declare or after being added.

The comms owner is reminded when a clock of the first tier listed (``premium`` by default)
runs out, through the reminder engine: one row of kind ``contact_clock`` per incident, due
when the earliest such clock runs out. Its delivery (``ReminderDelivery`` in
``bot/incidents/reminder_delivery.py``, with the other kinds) posts one message naming every
customer whose clock ran out and marks them reminded, so each is reminded about once; a
claim that died after posting finds its message instead of posting again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.settings import Settings
from storage.customers import CustomerStore
from storage.models import Incident
from storage.reminders import CONTACT_CLOCK, PENDING, ReminderStore

Waker = Callable[[datetime], None]
QUIET = timedelta(days=1)
"""When nobody is left to remind about, the row waits this long and then ends itself."""


@dataclass(eq=False)
class ContactClock:
    """Links added customers to the directory and plans the reminder for their clocks."""

    customers: CustomerStore
    reminders: ReminderStore
    settings: Settings
    waker: Waker

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
