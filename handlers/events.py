"""The Events API events Amends subscribes to: ``app_uninstalled`` and ``tokens_revoked``.

Both arrive over HTTP (``/slack/events``) or as Socket Mode ``events_api`` envelopes, and
Bolt acks them before these listeners run. With OAuth, Bolt's own token revocation
listeners remove the installation the way its installation store expects; then the
workspace's reminders and parked calls are stopped. Applying either twice changes nothing
more (``handlers.middleware`` also drops Slack's redeliveries of the same event).
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext

from bot.runtime.services import Services


def register(app: AsyncApp, services: Services) -> None:
    @app.event("app_uninstalled")
    async def uninstalled(context: AsyncBoltContext) -> None:
        if app.installation_store is not None:
            remove = app.default_app_uninstalled_event_listener()
            await remove(context=context)
        await services.departures.left(str(context.team_id), "uninstalled Amends")

    @app.event("tokens_revoked")
    async def revoked(event: dict[str, Any], context: AsyncBoltContext) -> None:
        if app.installation_store is not None:
            remove = app.default_tokens_revoked_event_listener()
            await remove(event=event, context=context)
        if (event.get("tokens") or {}).get("bot"):
            await services.departures.left(str(context.team_id), "revoked the bot token")
