"""Affected customers: names as people type them, and confirming each was contacted."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from slack_sdk.web.async_client import AsyncWebClient

from bot.customers.clock import ContactClock
from bot.incidents.errors import UserError
from bot.incidents.policy import ACTIVE_STATUSES, Status
from bot.incidents.updates import UpdateService
from bot.playbooks.drafts import incident_draft
from bot.playbooks.languages import split_languages
from bot.settings import Settings
from bot.slack.header import incident_card, refresh_header
from messages import refusals
from messages.checklists import CONTACT, FOLLOW_UP, PAGE_SIZE, ChecklistPage, page_count
from messages.directory import clock_text
from messages.limits import CUSTOMER_NAME_MAX
from messages.model import CustomerRow
from storage.customers import CustomerStore
from storage.models import AffectedCustomer, Incident, utcnow

_SEPARATORS = re.compile(r"[\n,;]+")


def parse_customer_list(text: str) -> tuple[str, ...]:
    """Split, trim and de-duplicate (case-insensitively, first spelling wins)."""
    names: dict[str, str] = {}
    for raw in _SEPARATORS.split(text or ""):
        name = " ".join(raw.split())
        if not name:
            continue
        if len(name) > CUSTOMER_NAME_MAX:
            raise UserError(refusals.customer_name_too_long(name, CUSTOMER_NAME_MAX))
        names.setdefault(name.casefold(), name)
    return tuple(names.values())


def parse_customer_entries(text: str) -> tuple[str, ...]:
    """:func:`parse_customer_list`, with each entry's trailing language code (``Acme (cs)``)
    checked: an unknown one is a UserError, said before anything is declared."""
    entries = parse_customer_list(text)
    split_languages(entries)
    return entries


MAX_CUSTOMERS = 5000
"""More than this is a different kind of incident: tell everyone through a status page."""


def customer_rows(customers: Sequence[AffectedCustomer]) -> tuple[CustomerRow, ...]:
    now = utcnow()
    return tuple(
        CustomerRow(
            id=c.id,
            name=c.name,
            state=c.contact_state,
            contacted_by=c.contacted_by,
            contacted_at=c.contacted_at,
            followed_up_by=c.followed_up_by,
            followed_up_at=c.followed_up_at,
            answer=c.answer,
            clock=clock_text(c.contact_due_at, now),
            contacted_via=c.contacted_via,
            language=c.language,
        )
        for c in customers
    )


@dataclass(eq=False)
class CustomerService:
    """Adding and removing affected customers, and confirming they were contacted."""

    customers: CustomerStore
    settings: Settings
    updates: UpdateService
    contact_clock: ContactClock | None = None

    async def check_names(self, incident: Incident, text: str) -> tuple[str, ...]:
        """The names to add, or a UserError saying what is wrong with the list."""
        names = parse_customer_list(text)
        if not names:
            raise UserError(refusals.name_a_customer())
        counts = await self.customers.counts(incident.id)
        if counts.total + len(names) > MAX_CUSTOMERS:
            raise UserError(refusals.too_many_customers(counts.total + len(names), MAX_CUSTOMERS))
        return names

    async def add(
        self, client: AsyncWebClient, incident: Incident, names: Sequence[str], actor: str
    ) -> str:
        plain_names, languages = split_languages(names)
        added = await self.customers.add(incident.id, plain_names, actor, languages)
        if added.added:
            if self.contact_clock is not None:
                await self.contact_clock.plan(incident.id, incident.team_id)
            await self._refresh(client, incident)
        return added_text(added.added, added.already_listed)

    async def remove(
        self, client: AsyncWebClient, incident: Incident, name: str, actor: str
    ) -> str:
        name = " ".join(name.split())
        if not name:
            raise UserError(refusals.customers_remove_usage())
        removed = await self.customers.remove(incident.id, name, actor)
        if removed is None:
            raise UserError(await self._not_listed(incident, name))
        await self._refresh(client, incident)
        return f"Removed {removed.name} from the affected customers of INC-{incident.number}."

    async def _not_listed(self, incident: Incident, name: str) -> str:
        names = await self.customers.names(incident.id)
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        return refusals.not_an_affected_customer(name, incident.number, close[0] if close else None)

    async def page(self, incident: Incident, kind: str, page: int, note: str = "") -> ChecklistPage:
        """One page of the contact or follow-up checklist, as it stands now."""
        counts = await self.customers.counts(incident.id)
        pages = page_count(counts.total)
        page = min(max(page, 0), pages - 1)
        customers = await self.customers.page(incident.id, page * PAGE_SIZE, PAGE_SIZE)
        rows = customer_rows(customers)
        if kind == FOLLOW_UP:
            rows = tuple(
                replace(row, message=self._follow_up_message(incident, customer) or "")
                for row, customer in zip(rows, customers, strict=True)
            )
        status = incident.status
        editable = status in ACTIVE_STATUSES if kind == CONTACT else status == Status.RESOLVED
        done = counts.contacted + counts.followed_up if kind == CONTACT else counts.followed_up
        return ChecklistPage(
            kind=kind,
            card=incident_card(incident, self.settings.severities),
            rows=rows,
            page=page,
            pages=pages,
            total=counts.total,
            done=done,
            editable=editable,
            note=note,
        )

    def _follow_up_message(self, incident: Incident, customer: AffectedCustomer) -> str | None:
        """The playbook's follow-up message for this customer, in the customer's language
        when it has one, else the incident's."""
        playbook = self.updates.catalogue.get(incident.playbook)
        if playbook is None:
            return None
        language = customer.language or incident.language
        return incident_draft(playbook, incident, "follow_up", language, customer=customer.name)

    def default_kind(self, incident: Incident) -> str:
        """While the incident is active people confirm contacts; after it, follow-ups."""
        return CONTACT if incident.status in ACTIVE_STATUSES else FOLLOW_UP

    async def confirm(
        self, client: AsyncWebClient, incident: Incident, customer_id: int, page: int, actor: str
    ) -> ChecklistPage:
        self._check_active(incident)
        customer = await self.customers.get(incident.id, customer_id)
        if customer is None:
            raise UserError(refusals.customer_gone())
        if await self.customers.mark_contacted(incident.id, customer_id, actor):
            note = f"Recorded: {customer.name} was contacted."
            note += await self._all_contacted(client, incident, actor)
        else:
            note = already_confirmed(await self.customers.get(incident.id, customer_id))
        return await self.page(incident, CONTACT, page, note)

    async def confirm_all(
        self, client: AsyncWebClient, incident: Incident, page: int, actor: str
    ) -> ChecklistPage:
        self._check_active(incident)
        names = await self.customers.mark_all_contacted(incident.id, actor)
        if names:
            note = f"Recorded: {len(names)} more customers were contacted."
            note += await self._all_contacted(client, incident, actor)
        else:
            note = "Every customer had already been confirmed as contacted."
        return await self.page(incident, CONTACT, page, note)

    async def _all_contacted(self, client: AsyncWebClient, incident: Incident, actor: str) -> str:
        """Once everyone affected has heard from us, that counts as a customer update: once,
        however many people confirmed the last ones at the same moment."""
        if not await self.customers.claim_all_contacted(incident.id):
            return ""
        await self.updates.customers_contacted(client, incident, actor)
        return " Every customer has now been contacted; the update clock starts again."

    def _check_active(self, incident: Incident) -> None:
        if incident.status not in ACTIVE_STATUSES:
            raise UserError(refusals.contacts_are_over(incident.number, incident.status))

    async def _refresh(self, client: AsyncWebClient, incident: Incident) -> None:
        fresh = await self.updates.store.reload(incident.id)
        await refresh_header(self.updates.outbox, client, fresh, self.settings.severities)


def added_text(added: Sequence[str], already: Sequence[str]) -> str:
    parts = []
    if added:
        parts.append(f"Added {len(added)} affected customer(s): {_names(added)}.")
    if already:
        parts.append(f"Already listed: {_names(already)}.")
    return " ".join(parts)


def _names(names: Sequence[str], shown: int = 10) -> str:
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {more} more" if more > 0 else "")


def already_confirmed(customer: AffectedCustomer | None) -> str:
    if customer is None or not customer.contacted_at:
        return "That customer is no longer on the list of this incident."
    return (
        f"{customer.name} was already confirmed by <@{customer.contacted_by}> "
        f"at {customer.contacted_at:%H:%M} UTC."
    )
