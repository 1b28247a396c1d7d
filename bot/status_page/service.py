"""Who sees what outside Slack: an incident on or off the status page, and each
customer's private link (issued and revoked from ``/incident customers``)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient

from bot.incidents.errors import UserError
from bot.incidents.updates import UpdateService
from bot.settings import Settings
from bot.status_page import customer_page_url, status_url
from messages import refusals
from messages import status_page as answers
from storage.customers import CustomerStore
from storage.models import AffectedCustomer, Incident
from storage.status import StatusStore


@dataclass(eq=False)
class StatusService:
    store: StatusStore
    settings: Settings
    updates: UpdateService
    customers: CustomerStore

    async def set_public(
        self, client: AsyncWebClient, incident: Incident, actor_id: str, public: bool
    ) -> None:
        """Show or hide the incident on the status page; the channel is told."""
        if not await self.store.set_public(incident.id, public, actor_id):
            raise UserError(refusals.already_public(incident.number, public))
        if public:
            text = (
                f"<@{actor_id}> put INC-{incident.number} on the status page "
                f"({status_url(self.settings)}), once it has a customer-facing title."
            )
        else:
            text = (
                f"<@{actor_id}> took INC-{incident.number} off the status page. "
                "`/incident public on` puts it back."
            )
        await self.updates.say(client, incident, text, what="the note in the incident channel")

    async def customer_link(self, incident: Incident, name: str, actor_id: str) -> str:
        """The customer's private page link, to send it; issued on first use."""
        customer = await self._affected(incident, name)
        token = await self.store.link_for(incident.team_id, customer.name, actor_id)
        return answers.customer_link(customer.name, customer_page_url(self.settings, token))

    async def revoke_link(self, incident: Incident, name: str, actor_id: str) -> str:
        customer = await self._affected(incident, name)
        if not await self.store.revoke_link(incident.team_id, customer.name, actor_id):
            return refusals.no_customer_link(customer.name)
        return answers.customer_link_revoked(customer.name)

    async def _affected(self, incident: Incident, name: str) -> AffectedCustomer:
        name = " ".join(name.split())
        if not name:
            raise UserError(refusals.customers_usage())
        customer = await self.customers.named(incident.id, name)
        if customer is not None:
            return customer
        names = await self.customers.names(incident.id)
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        raise UserError(
            refusals.not_an_affected_customer(name, incident.number, close[0] if close else None)
        )
