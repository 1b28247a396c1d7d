"""Customer checklists: show a page, turn pages, confirm contacts, record follow-ups."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.incidents.errors import UserError
from bot.runtime.services import Services
from handlers.actions import incident_of, selected_value
from handlers.errors import guarded
from handlers.parsing import number_part, value_parts
from handlers.replies import team_of, view_metadata
from messages import ids, refusals
from messages.checklists import KINDS, ChecklistPage, checklist_blocks, checklist_text
from messages.ids import CustomersFields


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


def register(app: AsyncApp, services: Services) -> None:
    customers = services.customers

    @app.action(ids.SHOW_CHECKLIST)
    @guarded
    async def show_checklist(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        incident = await incident_of(services, client, body, action)
        kind = str(action.get("value") or "")
        if kind not in KINDS:
            kind = customers.default_kind(incident)
        await show(respond, await customers.page(incident, kind, 0), replace=False)

    @app.action(ids.CHECKLIST_PAGE_TURN)
    @guarded
    async def turn_page(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        incident = await incident_of(services, client, body, action)
        kind, page = value_parts(action.get("value"), 2)
        if kind not in KINDS:
            raise UserError(refusals.control_out_of_date())
        await show(respond, await customers.page(incident, kind, number_part(page)), replace=True)

    @app.action(ids.CONTACT_CONFIRM)
    @guarded
    async def confirm_contact(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        incident = await incident_of(services, client, body, action)
        customer, page = (number_part(p) for p in value_parts(action.get("value"), 2))
        result = await customers.confirm(client, incident, customer, page, body["user"]["id"])
        await show(respond, result, replace=True)

    @app.action(ids.CONTACT_ALL)
    @guarded
    async def confirm_all(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        incident = await incident_of(services, client, body, action)
        page = number_part(str(action.get("block_id", "")).rpartition(":")[2])
        result = await customers.confirm_all(client, incident, page, body["user"]["id"])
        await show(respond, result, replace=True)

    @app.action(ids.FOLLOW_UP_ANSWER)
    @guarded
    async def follow_up_answer(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        incident = await incident_of(services, client, body, action)
        customer, answer, page = value_parts(selected_value(action), 3)
        result = await services.closing.record_follow_up(
            client,
            incident,
            number_part(customer),
            answer,
            number_part(page),
            body["user"]["id"],
        )
        await show(respond, result, replace=True)

    @app.view(ids.CUSTOMERS_CALLBACK_ID)
    @guarded
    async def customers_added(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        values = view["state"]["values"]
        f = CustomersFields
        names = str((values.get(f.NAMES_BLOCK, {}).get(f.NAMES_ACTION) or {}).get("value") or "")
        number = view_metadata(view).get("incident")
        if not isinstance(number, int):
            raise UserError(refusals.form_lost_its_incident())
        incident = await services.incidents.by_number(
            client, team_of(body), number, body["user"]["id"]
        )
        try:
            checked = await customers.check_names(incident, names)
        except UserError as exc:
            await ack(response_action="errors", errors={f.NAMES_BLOCK: exc.message[:150]})
            return
        await ack()
        note = await customers.add(client, incident, checked, body["user"]["id"])
        await client.chat_postEphemeral(
            channel=str(incident.channel_id), user=body["user"]["id"], text=note
        )


def customers_form_metadata(number: int) -> str:
    return json.dumps({"incident": number})
