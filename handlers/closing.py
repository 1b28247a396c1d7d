"""Close: the header button, the close form's submission, and the final-update button."""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.incidents.closing import FOLLOW_UP_DUE, FOLLOW_UP_OWNER
from bot.incidents.errors import UserError
from bot.runtime.services import Services
from handlers.controls import Click, Submission, on_form, on_incident
from messages import ids, refusals
from messages.ids import CloseFields
from messages.limits import form_error
from storage.closures import NewClosure


def register(app: AsyncApp, services: Services) -> None:
    app.action(ids.CLOSE_INCIDENT)(on_incident(services, close_clicked))
    app.action(ids.POST_FINAL_UPDATE)(on_incident(services, final_update_clicked))
    app.view(ids.CLOSE_CALLBACK_ID)(on_form(services, close_submitted))


async def close_clicked(click: Click) -> None:
    await click.services.closing.open_form(
        click.client, click.incident, click.actor, click.trigger_id
    )


async def final_update_clicked(click: Click) -> None:
    await click.services.updates.open_composer(
        click.client, click.incident, click.trigger_id, None, final=True
    )


async def close_submitted(form: Submission) -> None:
    incident = await form.incident()
    closing, actor = form.services.closing, form.actor
    try:
        closure = read_close_form(form.values)
        await closing.check_form(form.client, closure)
        resolved = await closing.resolve(incident, closure, actor)
    except UserError as exc:
        await form.ack(response_action="errors", errors={field_of(exc): form_error(exc.message)})
        return
    await form.ack(response_action="update", view=form.services.updates.final_composer(resolved))
    await closing.announce_resolved(form.client, resolved, actor)


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
