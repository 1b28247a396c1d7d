"""Socket Mode, counted like HTTP: each envelope adds to ``amends_requests_total`` and
``amends_ack_seconds`` as a request on ``/slack/events`` does (see ``bot.runtime.web``)."""

from __future__ import annotations

import time

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import run_async_bolt_app, send_async_response
from slack_bolt.async_app import AsyncApp
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

from bot.observability.metrics import Metrics
from bot.runtime.web import envelope_kind


class CountingSocketModeHandler(AsyncSocketModeHandler):
    """Bolt's handler, timing each envelope from its arrival until its ack is sent."""

    def __init__(self, app: AsyncApp, app_token: str, metrics: Metrics) -> None:
        super().__init__(app, app_token)
        self.metrics = metrics

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        started = time.perf_counter()
        response = await run_async_bolt_app(self.app, req)
        await send_async_response(client, req, response, time.time())
        kind = envelope_kind(req.type, req.payload)
        self.metrics.request_answered(kind, response.status, time.perf_counter() - started)
