"""Customer-update buttons: the header's “Post customer update” and the reminder's buttons."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.runtime.services import Services
from handlers.controls import Click, on_incident
from handlers.customers import show
from messages import ids
from messages.checklists import CONTACT


def register(app: AsyncApp, services: Services) -> None:
    app.action(ids.POST_UPDATE)(on_incident(services, write_update))
    app.action(ids.REMINDER_WRITE)(on_incident(services, write_update_from_reminder))
    app.action(ids.REMINDER_CONTACTED)(on_incident(services, customers_contacted))
    app.action(ids.REMINDER_SNOOZE)(on_incident(services, snooze))


async def write_update(click: Click) -> None:
    await click.services.updates.open_composer(
        click.client, click.incident, click.trigger_id, click.body.get("response_url")
    )


async def write_update_from_reminder(click: Click) -> None:
    """The reminder stays usable: writing may be abandoned, so the button is not used up."""
    await click.services.updates.check_token(click.incident, click.value, consume=False)
    await write_update(click)


async def customers_contacted(click: Click) -> None:
    """With a customer list the button opens the checklist; without one it records that the
    customers were reached directly, as one touchpoint."""
    services, incident = click.services, click.incident
    if incident.customer_count:
        page = await services.customers.page(incident, CONTACT, 0)
        await show(click.respond, page, replace=False)
        return
    await services.updates.check_token(incident, click.value, consume=True)
    note = await services.updates.customers_contacted(click.client, incident, click.actor)
    await click.tell(note)


async def snooze(click: Click) -> None:
    """Using the reminder up (a second click is refused), then snoozing it."""
    updates = click.services.updates
    await updates.check_token(click.incident, click.value, consume=True)
    match = ids.REMINDER_SNOOZE.match(click.action_id)
    minutes = int(match.group("minutes")) if match else 15
    note = await updates.snooze(click.client, click.incident, click.actor, minutes)
    await click.tell(note)
