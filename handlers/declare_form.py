"""The declare form: a bare ``/incident`` opens it, and Enter in its title suggests a playbook.

The title input dispatches block_actions when Enter is pressed in it (the form itself only
reaches Amends when submitted, ``handlers.views``). The listener acknowledges, finds the
playbook whose keywords the typed title matches (``Catalogue.suggest``) and renders the form
again with ``views.update``: the playbook picked in the menu and a line saying why. Block and
action ids stay the same, so Slack keeps everything typed or picked so far; a playbook the
person picked themselves is never replaced. The update carries the view's ``hash``: when the
form changed in between (Enter pressed twice), Slack refuses the older render and the newer
one stands.
"""

from __future__ import annotations

import json
import logging
from re import Pattern
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime.services import Services
from bot.slack.calls import open_view, slack_error
from handlers.errors import guarded
from handlers.invocation import Call
from handlers.playbooks import picked_playbook
from messages.ids import DeclareFields
from messages.modals import declare_modal

log = logging.getLogger(__name__)

SUPERSEDED = frozenset({"hash_conflict", "not_found"})
"""views.update errors that mean the form moved on: a newer render, or it was closed."""


def declare_form(
    services: Services, private_metadata: str, title: str, suggest: bool = True
) -> dict[str, Any]:
    """The declare form with ``title`` typed; with ``suggest``, the playbook the title
    suggests is picked in the menu (none when no keyword matches)."""
    catalogue = services.playbooks.catalogue
    suggested = catalogue.suggest(title) if suggest and title else None
    return declare_modal(
        severities=services.settings.severities,
        default_severity=services.settings.default_severity,
        private_metadata=private_metadata,
        initial_title=title,
        playbooks=catalogue.names(),
        suggested_playbook=suggested.name if suggested else None,
    )


async def open_declare_form(call: Call) -> None:
    """``/incident`` with no text: the declare form, remembering where it was opened."""
    metadata = json.dumps(
        {
            "channel_id": call.command.get("channel_id"),
            "response_url": call.command.get("response_url"),
        }
    )
    await open_view(
        call.client,
        call.command["trigger_id"],
        declare_form(call.services, metadata, call.parsed.rest),
        "Run `/incident` again, or declare directly with `/incident declare <title>`.",
    )


def register(app: AsyncApp, services: Services) -> None:
    async def title_entered(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        await suggest_playbook(services, client, body.get("view") or {}, action)

    title: dict[str, str | Pattern[str]] = {
        "block_id": DeclareFields.TITLE_BLOCK,
        "action_id": DeclareFields.TITLE_ACTION,
    }
    app.action(title)(guarded(title_entered))


def chose_a_playbook(view: dict[str, Any]) -> bool:
    """Whether the person picked something in the playbook menu themselves: a selection
    other than the one the form was last rendered with (that one was our suggestion)."""
    picked = picked_playbook((view.get("state") or {}).get("values") or {})
    return picked is not None and picked != rendered_suggestion(view)


def rendered_suggestion(view: dict[str, Any]) -> str | None:
    for block in view.get("blocks") or []:
        if block.get("block_id") == DeclareFields.PLAYBOOK_BLOCK:
            initial = (block.get("element") or {}).get("initial_option") or {}
            return str(initial.get("value") or "") or None
    return None


async def suggest_playbook(
    services: Services, client: AsyncWebClient, view: dict[str, Any], action: dict[str, Any]
) -> None:
    """Render the form again with the typed title and, unless the person chose a playbook,
    the one the title suggests."""
    title = str(action.get("value") or "")
    form = declare_form(
        services, str(view.get("private_metadata") or ""), title, not chose_a_playbook(view)
    )
    try:
        await client.views_update(view_id=view["id"], hash=view.get("hash"), view=form)
    except SlackApiError as exc:
        if slack_error(exc) not in SUPERSEDED:
            raise
        log.info("declare form %s moved on (%s): suggestion dropped", view["id"], slack_error(exc))
