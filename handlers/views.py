"""The declare modal's submission: validate inside the modal, then declare after the ack."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.incidents.customers import parse_customer_entries
from bot.incidents.declare import DeclareRequest, check_severity
from bot.incidents.errors import UserError
from bot.incidents.titles import check_title
from bot.incidents.updates import RESOLVED, UPDATE, check_public_title, check_update_text
from bot.runtime.services import Services
from handlers.controls import Submission, on_form
from handlers.playbooks import chosen_playbook
from handlers.replies import team_of, tell, view_metadata
from messages import ids
from messages.ids import DeclareFields, UpdateFields
from messages.limits import form_error
from messages.text import declared_reply_text


def register(app: AsyncApp, services: Services) -> None:
    app.view(ids.DECLARE_CALLBACK_ID)(on_form(services, declare_submitted))
    app.view(ids.UPDATE_CALLBACK_ID)(on_form(services, update_submitted))


async def declare_submitted(form: Submission) -> None:
    services = form.services
    request, errors = read_declare_form(services, form.body, form.values)
    if errors or request is None:
        await form.ack(response_action="errors", errors=errors)
        return
    playbook = chosen_playbook(services, form.values)
    if playbook is not None:
        request = replace(request, severity=playbook.severity)
    await form.ack()
    declared = await services.declare.declare(form.client, request)
    if playbook is not None:
        await services.playbooks.apply_to_declared(form.client, declared, playbook, form.actor)
    text = "\n".join([declared_reply_text(declared.card), *declared.warnings])
    await tell(form.client, form.body, text)


async def update_submitted(form: Submission) -> None:
    f, values, updates = UpdateFields, form.values, form.services.updates
    raw = text_value(values, f.TEXT_BLOCK, f.TEXT_ACTION)
    try:
        text = check_update_text(raw)
    except UserError as exc:
        await form.ack(response_action="errors", errors={f.TEXT_BLOCK: form_error(exc.message)})
        return
    anyway = values.get(f.ANYWAY_BLOCK, {}).get(f.ANYWAY_ACTION) or {}
    post_anyway = any(
        o.get("value") == f.ANYWAY_VALUE for o in anyway.get("selected_options") or []
    )
    kind = RESOLVED if view_metadata(form.view).get("kind") == RESOLVED else UPDATE
    incident = await form.incident()
    try:
        title = check_public_title(
            incident, text_value(values, f.PUBLIC_TITLE_BLOCK, f.PUBLIC_TITLE_ACTION), kind
        )
    except UserError as exc:
        await form.ack(
            response_action="errors", errors={f.PUBLIC_TITLE_BLOCK: form_error(exc.message)}
        )
        return
    verdict = updates.gate(text, post_anyway, kind, incident.language, title)
    if not verdict.posted:
        metadata = form.view["private_metadata"]
        review = updates.review(
            incident, text, metadata, verdict.findings, kind=kind, public_title=title
        )
        await form.ack(response_action="update", view=review)
        return
    await form.ack()
    await updates.post(
        form.client,
        incident,
        form.actor,
        text,
        findings=verdict.findings,
        kind=kind,
        public_title=title,
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
            errors[block_id] = form_error(exc.message)
            return None

    title = checked(f.TITLE_BLOCK, check_title, text_value(values, f.TITLE_BLOCK, f.TITLE_ACTION))
    severity = checked(
        f.SEVERITY_BLOCK,
        lambda raw: check_severity(raw or "", services.settings),
        option_value(values, f.SEVERITY_BLOCK, f.SEVERITY_ACTION),
    )
    customers = checked(
        f.CUSTOMERS_BLOCK,
        parse_customer_entries,
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
