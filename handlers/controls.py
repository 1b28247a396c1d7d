"""Clicks on the controls of an incident's messages: which incident, who acts, may they.

Every button and menu Amends puts on an incident's messages sits in a block whose id names
the incident (``messages.ids.INCIDENT_BLOCK``). :func:`on_incident` turns a handler of a
:class:`Click` into the Bolt listener for such a control, so the lookup is written once:
acknowledge at once (Slack allows 3 seconds, and finding the incident may ask Slack who is
in the channel), find the incident in the clicker's workspace, check the clicker takes part
in it, then run the handler. Everything runs inside :func:`handlers.errors.guarded`, so a
refusal or failure at any step still answers the person privately.

This is listener middleware in all but name. Bolt's own (``app.action(id, middleware=[…])``)
runs before the listener and holds the HTTP response until it finishes, so the lookup would
delay the acknowledgement; composing it inside the guarded listener keeps ack-first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.incidents.errors import UserError
from bot.runtime.services import Incident, Services
from handlers.errors import Listener, guarded
from handlers.replies import team_of, tell, view_metadata
from messages import ids, refusals


@dataclass(frozen=True)
class Click:
    """A click on a control of ``incident``'s messages by ``actor``, who takes part in it."""

    services: Services
    incident: Incident
    actor: str
    body: dict[str, Any]
    action: dict[str, Any]
    client: AsyncWebClient
    respond: AsyncRespond

    @property
    def action_id(self) -> str:
        return str(self.action["action_id"])

    @property
    def value(self) -> str:
        return str(self.action.get("value", ""))

    @property
    def trigger_id(self) -> str:
        return str(self.body["trigger_id"])

    async def tell(self, note: str | None) -> None:
        """A private note to whoever clicked: in place when the click came from a message,
        else as a DM (a click in a modal or App Home has no response_url)."""
        if note:
            await tell(self.client, self.body, note)


Handler = Callable[[Click], Awaitable[None]]


def on_incident(services: Services, handler: Handler) -> Listener:
    """The guarded Bolt listener that acknowledges, finds the incident and runs ``handler``."""

    async def listener(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        incident = await incident_of(services, client, body, action)
        await handler(Click(services, incident, actor_of(body), body, action, client, respond))

    listener.__name__ = listener.__qualname__ = handler.__name__
    return guarded(listener)


async def incident_of(
    services: Services, client: AsyncWebClient, body: dict[str, Any], action: dict[str, Any]
) -> Incident:
    """The incident a control belongs to, in the clicking user's workspace, for a participant."""
    match = ids.INCIDENT_BLOCK.match(str(action.get("block_id", "")))
    team_id = team_of(body)
    if not match or not team_id:
        raise UserError(refusals.not_an_incident_control())
    number = int(match.group("number"))
    return await services.incidents.by_number(client, str(team_id), number, actor_of(body))


def actor_of(body: dict[str, Any]) -> str:
    user = body.get("user") or {}
    return str(user.get("id") or "")


def selected_value(action: dict[str, Any]) -> str:
    option = action.get("selected_option") or {}
    value = option.get("value")
    if not value:
        raise UserError(refusals.nothing_selected())
    return str(value)


@dataclass(frozen=True)
class Submission:
    """A submitted form (view); its incident, if it has one, is in its private_metadata."""

    services: Services
    ack: AsyncAck
    body: dict[str, Any]
    view: dict[str, Any]
    client: AsyncWebClient

    @property
    def actor(self) -> str:
        return str(self.body["user"]["id"])

    @property
    def values(self) -> dict[str, Any]:
        return dict(self.view["state"]["values"])

    async def incident(self) -> Incident:
        """The incident the form was opened for, for someone taking part in it."""
        number = view_metadata(self.view).get("incident")
        if not isinstance(number, int):
            raise UserError(refusals.form_lost_its_incident())
        return await self.services.incidents.by_number(
            self.client, team_of(self.body), number, self.actor
        )


FormHandler = Callable[[Submission], Awaitable[None]]


def on_form(services: Services, handler: FormHandler) -> Listener:
    """The guarded Bolt listener of a form. The handler acknowledges: a form's ack carries
    its answer (errors shown in the form, or the next view)."""

    async def listener(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await handler(Submission(services, ack, body, view, client))

    listener.__name__ = listener.__qualname__ = handler.__name__
    return guarded(listener)
