"""The declare modal's submission: validate inside the modal, then declare after the ack."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.incidents.customers import parse_customer_list
from bot.incidents.declare import DeclareRequest, check_severity, check_title
from bot.incidents.errors import UserError
from bot.incidents.updates import RESOLVED, UPDATE, check_update_text
from bot.runtime.services import Services
from handlers.errors import guarded
from handlers.replies import team_of, tell, view_metadata
from messages import ids, refusals
from messages.ids import DeclareFields, UpdateFields
from messages.text import declared_reply_text


def register(app: AsyncApp, services: Services) -> None:
    @app.view(ids.DECLARE_CALLBACK_ID)
    @guarded
    async def declare_submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        values = view["state"]["values"]
        request, errors = read_declare_form(services, body, values)
        if errors or request is None:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        declared = await services.declare.declare(client, request)
        text = "\n".join([declared_reply_text(declared.card), *declared.warnings])
        await tell(client, body, text)

    register_composer(app, services)


def register_composer(app: AsyncApp, services: Services) -> None:
    @app.view(ids.UPDATE_CALLBACK_ID)
    @guarded
    async def update_submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        f = UpdateFields
        values = view["state"]["values"]
        raw = text_value(values, f.TEXT_BLOCK, f.TEXT_ACTION)
        try:
            text = check_update_text(raw)
        except UserError as exc:
            await ack(response_action="errors", errors={f.TEXT_BLOCK: exc.message[:150]})
            return
        anyway = values.get(f.ANYWAY_BLOCK, {}).get(f.ANYWAY_ACTION) or {}
        post_anyway = any(
            o.get("value") == f.ANYWAY_VALUE for o in anyway.get("selected_options") or []
        )
        metadata = view_metadata(view)
        number = metadata.get("incident")
        kind = RESOLVED if metadata.get("kind") == RESOLVED else UPDATE
        team_id = team_of(body)
        if not isinstance(number, int):
            raise UserError(refusals.form_lost_its_incident())
        incident = await services.incidents.by_number(
            client, str(team_id), number, body["user"]["id"]
        )
        verdict = services.updates.gate(text, post_anyway, kind)
        if not verdict.posted:
            review = services.updates.review(
                incident, text, view["private_metadata"], verdict.findings
            )
            await ack(response_action="update", view=review)
            return
        await ack()
        await services.updates.post(
            client, incident, body["user"]["id"], text, findings=verdict.findings, kind=kind
        )


def read_declare_form(
    services: Services, body: dict[str, Any], values: dict[str, Any]
) -> tuple[DeclareRequest | None, dict[str, str]]:
    """Read the modal's fields; problems are returned per block, to show inside the modal."""
    f = DeclareFields
    errors: dict[str, str] = {}

    def checked(block_id: str, check: Any, raw: str) -> Any:
        try:
            return check(raw)
        except UserError as exc:
            errors[block_id] = exc.message[:150]
            return None

    title = checked(f.TITLE_BLOCK, check_title, text_value(values, f.TITLE_BLOCK, f.TITLE_ACTION))
    severity = checked(
        f.SEVERITY_BLOCK,
        lambda raw: check_severity(raw or "", services.settings),
        option_value(values, f.SEVERITY_BLOCK, f.SEVERITY_ACTION),
    )
    customers = checked(
        f.CUSTOMERS_BLOCK,
        parse_customer_list,
        text_value(values, f.CUSTOMERS_BLOCK, f.CUSTOMERS_ACTION),
    )
    if errors:
        return None, errors
    return DeclareRequest(
        team_id=team_of(body),
        reporter_id=body["user"]["id"],
        title=title,
        severity=severity,
        description=text_value(values, f.DESCRIPTION_BLOCK, f.DESCRIPTION_ACTION),
        customer_impact=option_value(values, f.IMPACT_BLOCK, f.IMPACT_ACTION) == f.IMPACT_YES,
        impact_text=text_value(values, f.IMPACT_TEXT_BLOCK, f.IMPACT_TEXT_ACTION),
        customers=customers,
    ), {}


def text_value(values: dict[str, Any], block_id: str, action_id: str) -> str:
    return str(_element(values, block_id, action_id).get("value") or "")


def option_value(values: dict[str, Any], block_id: str, action_id: str) -> str:
    option = _element(values, block_id, action_id).get("selected_option")
    return str((option.get("value") if isinstance(option, dict) else None) or "")


def _element(values: dict[str, Any], block_id: str, action_id: str) -> dict[str, Any]:
    """One input's state; anything not shaped like Slack's reads as empty."""
    block = values.get(block_id)
    element = block.get(action_id) if isinstance(block, dict) else None
    return element if isinstance(element, dict) else {}
