"""Close: the header button, the close form's submission, and the final-update button."""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.incidents.closing import FOLLOW_UP_DUE, FOLLOW_UP_OWNER
from bot.incidents.errors import UserError
from bot.runtime.services import Services
from handlers.actions import incident_of
from handlers.errors import guarded
from handlers.replies import team_of, view_metadata
from messages import ids, refusals
from messages.ids import CloseFields
from storage.closures import NewClosure


def register(app: AsyncApp, services: Services) -> None:
    closing = services.closing

    @app.action(ids.CLOSE_INCIDENT)
    @guarded
    async def close_clicked(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        incident = await incident_of(services, client, body, action)
        await closing.open_form(client, incident, body["user"]["id"], body["trigger_id"])

    @app.action(ids.POST_FINAL_UPDATE)
    @guarded
    async def final_update_clicked(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        incident = await incident_of(services, client, body, action)
        await services.updates.open_composer(client, incident, body["trigger_id"], None, final=True)

    @app.view(ids.CLOSE_CALLBACK_ID)
    @guarded
    async def close_submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        number = view_metadata(view).get("incident")
        if not isinstance(number, int):
            raise UserError(refusals.form_lost_its_incident())
        incident = await services.incidents.by_number(
            client, team_of(body), number, body["user"]["id"]
        )
        actor = body["user"]["id"]
        try:
            closure = read_close_form(view["state"]["values"])
            await closing.check_form(client, closure)
            resolved = await closing.resolve(incident, closure, actor)
        except UserError as exc:
            await ack(response_action="errors", errors={field_of(exc): exc.message[:150]})
            return
        await ack(response_action="update", view=services.updates.final_composer(resolved))
        await closing.announce_resolved(client, resolved, actor)


def field_of(error: UserError) -> str:
    """The close-form block an error is shown under (the root cause when it names none)."""
    blocks = {
        FOLLOW_UP_DUE: CloseFields.DUE,
        FOLLOW_UP_OWNER: CloseFields.OWNER,
    }
    return blocks.get(error.field or "", CloseFields.ROOT_CAUSE)


def read_close_form(values: dict[str, Any]) -> NewClosure:
    f = CloseFields

    def element(block: str) -> dict[str, Any]:
        return dict((values.get(block) or {}).get(block) or {})

    def text(block: str) -> str:
        return str(element(block).get("value") or "").strip()

    owner = str(element(f.OWNER).get("selected_user") or "")
    if not owner:
        raise UserError(refusals.follow_up_owner_missing(), FOLLOW_UP_OWNER)
    try:
        due = date.fromisoformat(str(element(f.DUE).get("selected_date") or ""))
    except ValueError:
        raise UserError(refusals.follow_up_due_missing(), FOLLOW_UP_DUE) from None
    return NewClosure(
        root_cause=text(f.ROOT_CAUSE),
        resolution=text(f.RESOLUTION),
        impact_summary=text(f.IMPACT),
        amends=text(f.AMENDS),
        prevention=text(f.PREVENTION),
        follow_up_owner=owner,
        follow_up_due=due,
    )
