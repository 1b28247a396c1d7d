"""The App Home: published when a person opens it; its buttons that need a listener of
their own (the incident ones reuse the header's)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime.services import Services
from handlers.controls import Click, on_incident
from handlers.errors import Listener, guarded
from handlers.reminders import write_update
from handlers.replies import tell
from messages import ids
from messages.checklists import checklist_blocks, checklist_text
from messages.home import playbook_review_text


def register(app: AsyncApp, services: Services) -> None:
    @app.event("app_home_opened")
    async def home_opened(
        event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        if event.get("tab", "home") == "home" and event.get("user"):
            await services.home.publish(client, str(context.team_id), str(event["user"]))

    app.action(ids.HOME_WRITE)(on_incident(services, write_update))
    app.action(ids.HOME_CHECKLIST)(on_incident(services, checklist_in_dm))
    app.action(ids.HOME_PLAYBOOK_REVIEW)(guarded(playbook_review(services)))


async def checklist_in_dm(click: Click) -> None:
    customers = click.services.customers
    page = await customers.page(click.incident, customers.default_kind(click.incident), 0)
    await tell(click.client, click.body, checklist_text(page), checklist_blocks(page))


def playbook_review(services: Services) -> Listener:
    async def review(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        name = str((body.get("actions") or [{}])[0].get("value", ""))
        user_id = str(body.get("user", {}).get("id", ""))
        due = {p.name: p.path for p in await services.home.playbooks_due(user_id)}
        if name in due:
            await tell(client, body, playbook_review_text(name, due[name]))

    return review
