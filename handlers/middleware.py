"""App-wide middleware: Slack's redeliveries of an event are acknowledged, not applied again.

Only Events API deliveries are ever redelivered by Slack (see ``bot.slack.event_deliveries``); slash
commands and interactive payloads pass straight through, with nothing written for them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.runtime.services import Services

log = logging.getLogger("amends.requests")

Next = Callable[[], Awaitable[BoltResponse]]


def register(app: AsyncApp, services: Services) -> None:
    @app.middleware
    async def apply_each_event_once(req: AsyncBoltRequest, next: Next) -> BoltResponse | None:
        event_id = req.body.get("event_id") if req.body.get("type") == "event_callback" else None
        if not isinstance(event_id, str) or not event_id:
            return await next()
        if await services.events.first_time(event_id):
            return await next()
        retry = (req.headers.get("x-slack-retry-num") or [""])[0]
        log.info("dropped a redelivered event %s (retry %s)", event_id, retry or "in envelope")
        return BoltResponse(status=200, body="", headers={"X-Slack-No-Retry": "1"})
