"""App-wide middleware: redeliveries from Slack are acknowledged and not applied twice."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.services import Services

log = logging.getLogger("amends.requests")

Next = Callable[[], Awaitable[BoltResponse]]


def register(app: AsyncApp, services: Services) -> None:
    @app.middleware
    async def drop_redeliveries(req: AsyncBoltRequest, next: Next) -> BoltResponse | None:
        retry = (req.headers.get("x-slack-retry-num") or [""])[0]
        # Socket Mode hands Bolt the parsed payload, with no raw body.
        body = req.raw_body or json.dumps(req.body, sort_keys=True)
        first = await services.redeliveries.first_delivery(
            req.context.team_id or "", body, redelivered=bool(retry)
        )
        if first:
            return await next()
        log.info("dropped a redelivered request (retry %s)", retry)
        return BoltResponse(status=200, body="", headers={"X-Slack-No-Retry": "1"})
