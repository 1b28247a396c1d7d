"""``/incident customer <name>``: one customer of the directory, shown in a form that edits it."""

from __future__ import annotations

import json

from slack_bolt.async_app import AsyncApp

from bot.customers.directory import EntryError, check_entry, emails_of
from bot.runtime.services import Services
from bot.slack.calls import open_view
from handlers.controls import Submission, on_form
from handlers.invocation import Call
from handlers.replies import team_of, view_metadata
from handlers.views import text_value
from messages import ids
from messages.directory import CustomerCard, directory_modal, saved_text
from messages.ids import DirectoryFields
from messages.modals import error_modal
from messages.refusals import directory_customer_gone

FIELD_BLOCKS = {
    "name": DirectoryFields.NAME,
    "tier": DirectoryFields.TIER,
    "language": DirectoryFields.LANGUAGE,
    "slack_channel": DirectoryFields.SLACK_CHANNEL,
    "email": DirectoryFields.EMAILS,
    "contact": DirectoryFields.CONTACT,
}
"""Which input shows the problem with each field of an entry."""


def register(app: AsyncApp, services: Services) -> None:
    app.view(ids.DIRECTORY_CALLBACK_ID)(on_form(services, customer_saved))


async def show_customer(call: Call) -> None:
    directory = call.services.directory
    found = await directory.find(call.team_id, call.parsed.rest)
    card = CustomerCard(
        name=found.name,
        tier=found.tier,
        language=found.language,
        slack_channel=found.slack_channel,
        emails=emails_of(found),
        contact=found.contact,
    )
    tiers = tuple(call.services.settings.customer_tiers)
    view = directory_modal(card, tiers, json.dumps({"customer": found.id}))
    await open_view(call.client, call.command["trigger_id"], view, "Run the command again.")


async def customer_saved(form: Submission) -> None:
    customer_id = view_metadata(form.view).get("customer")
    if not isinstance(customer_id, int):
        await form.ack(
            response_action="update", view=error_modal("Customer", directory_customer_gone())
        )
        return
    values = form.values

    def field(block: str) -> str:
        return text_value(values, block, block)

    directory = form.services.directory
    try:
        entry = check_entry(
            directory.tiers,
            name=field(DirectoryFields.NAME),
            tier=field(DirectoryFields.TIER),
            language=field(DirectoryFields.LANGUAGE),
            slack_channel=field(DirectoryFields.SLACK_CHANNEL),
            emails=field(DirectoryFields.EMAILS),
            contact=field(DirectoryFields.CONTACT),
        )
        await directory.save(team_of(form.body), customer_id, entry)
    except EntryError as exc:
        await form.ack(
            response_action="errors", errors={FIELD_BLOCKS[exc.field]: exc.message[:150]}
        )
        return
    await form.ack(response_action="update", view=error_modal("Customer", saved_text(entry.name)))
