"""Customer checklists: show a page, turn pages, confirm contacts, record follow-ups."""

from __future__ import annotations

import json

from slack_bolt.async_app import AsyncApp, AsyncRespond

from bot.incidents.errors import UserError
from bot.runtime.services import Services
from handlers.controls import Click, Submission, on_form, on_incident, selected_value
from handlers.parsing import number_part, value_parts
from messages import ids, refusals
from messages.checklists import KINDS, ChecklistPage, checklist_blocks, checklist_text
from messages.ids import CustomersFields
from messages.limits import form_error


def register(app: AsyncApp, services: Services) -> None:
    app.action(ids.SHOW_CHECKLIST)(on_incident(services, show_checklist))
    app.action(ids.CHECKLIST_PREV)(on_incident(services, turn_page))
    app.action(ids.CHECKLIST_NEXT)(on_incident(services, turn_page))
    app.action(ids.CONTACT_CONFIRM)(on_incident(services, confirm_contact))
    app.action(ids.CONTACT_ALL)(on_incident(services, confirm_all))
    app.action(ids.FOLLOW_UP_ANSWER)(on_incident(services, follow_up_answer))
    app.view(ids.CUSTOMERS_CALLBACK_ID)(on_form(services, customers_added))


async def show(respond: AsyncRespond, page: ChecklistPage, *, replace: bool) -> None:
    """A checklist page: a new private message, or the clicked message edited in place."""
    answer = await respond(
        text=checklist_text(page),
        blocks=checklist_blocks(page),
        response_type="ephemeral",
        replace_original=replace,
    )
    if answer.status_code != 200:
        raise UserError(refusals.checklist_not_shown())


async def show_checklist(click: Click) -> None:
    customers, incident = click.services.customers, click.incident
    kind = str(click.action.get("value") or "")
    if kind not in KINDS:
        kind = customers.default_kind(incident)
    await show(click.respond, await customers.page(incident, kind, 0), replace=False)


async def turn_page(click: Click) -> None:
    kind, page = value_parts(click.action.get("value"), 2)
    if kind not in KINDS:
        raise UserError(refusals.control_out_of_date())
    turned = await click.services.customers.page(click.incident, kind, number_part(page))
    await show(click.respond, turned, replace=True)


async def confirm_contact(click: Click) -> None:
    customer, page = (number_part(p) for p in value_parts(click.action.get("value"), 2))
    result = await click.services.customers.confirm(
        click.client, click.incident, customer, page, click.actor
    )
    await show(click.respond, result, replace=True)


async def confirm_all(click: Click) -> None:
    page = number_part(str(click.action.get("block_id", "")).rpartition(":")[2])
    result = await click.services.customers.confirm_all(
        click.client, click.incident, page, click.actor
    )
    await show(click.respond, result, replace=True)


async def follow_up_answer(click: Click) -> None:
    customer, answer, page = value_parts(selected_value(click.action), 3)
    result = await click.services.closing.record_follow_up(
        click.client,
        click.incident,
        number_part(customer),
        answer,
        number_part(page),
        click.actor,
    )
    await show(click.respond, result, replace=True)


async def customers_added(form: Submission) -> None:
    f = CustomersFields
    values = form.values
    names = str((values.get(f.NAMES_BLOCK, {}).get(f.NAMES_ACTION) or {}).get("value") or "")
    incident = await form.incident()
    customers = form.services.customers
    try:
        checked = await customers.check_names(incident, names)
    except UserError as exc:
        await form.ack(response_action="errors", errors={f.NAMES_BLOCK: form_error(exc.message)})
        return
    await form.ack()
    note = await customers.add(form.client, incident, checked, form.actor)
    await form.client.chat_postEphemeral(
        channel=str(incident.channel_id), user=form.actor, text=note
    )


def customers_form_metadata(number: int) -> str:
    return json.dumps({"incident": number})
