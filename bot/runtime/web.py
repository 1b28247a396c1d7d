"""The bot's HTTP surface beside Slack's events: ``/healthz``, ``/metrics``, request counts.

Kept apart from Bolt's routes so Socket Mode can serve the same health and metrics.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from prometheus_client import Gauge

from bot.customers.email import EMAIL_SEND
from bot.incidents.policy import OPEN_STATUSES
from bot.observability.metrics import Metrics
from storage.outbox import OutboxStore
from storage.repository import IncidentStore

log = logging.getLogger("amends.http")

HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
HEALTH_TIMEOUT_SECONDS = 2.0

INTERACTIVE_KINDS = frozenset(
    {
        "block_actions",
        "view_submission",
        "view_closed",
        "shortcut",
        "message_action",
        "block_suggestion",
        "interactive_message",
    }
)
"""Known payload types; anything else is counted as ``other`` to bound the label values."""


class Observability:
    """Health and metrics endpoints for one running bot.

    ``reminders`` says whether the reminder sweeps work, and in what words (see
    ``bot.observability.health``)."""

    def __init__(
        self,
        metrics: Metrics,
        store: IncidentStore,
        reminders: Callable[[], tuple[bool, str]],
        outbox: OutboxStore,
    ) -> None:
        self.metrics = metrics
        self.store = store
        self.outbox = outbox
        self.reminders = reminders

    def install(self, app: web.Application, events_path: str | None) -> None:
        app.router.add_get(HEALTH_PATH, self.health)
        app.router.add_get(METRICS_PATH, self.exposition)
        if events_path is not None:
            app.middlewares.append(self._counting(events_path))

    async def health(self, request: web.Request) -> web.Response:
        """200 when the database answers and reminder sweeps complete, else 503; each
        check in plain words (what failed and why goes to the log)."""
        database_ok, database = await self._database()
        reminders_ok, reminders = self.reminders()
        healthy = database_ok and reminders_ok
        return web.json_response(
            {"ok": healthy, "database": database, "reminders": reminders},
            status=200 if healthy else 503,
        )

    async def _database(self) -> tuple[bool, str]:
        try:
            await asyncio.wait_for(self.store.ping(), HEALTH_TIMEOUT_SECONDS)
        except Exception as exc:
            log.warning("healthz: the database did not answer: %r", exc)
            return False, "not answering"
        return True, "ok"

    async def exposition(self, request: web.Request) -> web.Response:
        """The metrics; the gauges are counted in the database at each scrape, so they stay
        true when the loop that also updates them (the outbox's) is stuck or slow."""
        open_statuses = [s.value for s in OPEN_STATUSES]
        open_incidents = self.store.count_open(open_statuses)
        await self._count("open incidents", self.metrics.open_incidents, open_incidents)
        await self._count("parked calls", self.metrics.outbox_pending, self.outbox.pending())
        parked_mail = self.outbox.pending(EMAIL_SEND)
        await self._count("parked mail", self.metrics.mail_parked, parked_mail)
        return web.Response(
            body=self.metrics.exposition(),
            headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
        )

    async def _count(self, what: str, gauge: Gauge, count: Awaitable[int]) -> None:
        try:
            gauge.set(await asyncio.wait_for(count, HEALTH_TIMEOUT_SECONDS))
        except Exception as exc:
            log.warning("metrics: could not count %s: %r", what, exc)

    def _counting(self, events_path: str) -> Middleware:
        metrics = self.metrics

        @web.middleware
        async def count(request: web.Request, handler: Handler) -> web.StreamResponse:
            if request.path != events_path:
                return await handler(request)
            started = time.perf_counter()
            kind = request_kind(await request.read())
            response = await handler(request)
            metrics.request_answered(kind, response.status, time.perf_counter() - started)
            if response.status != 200:
                log.warning("refused %s request with HTTP %s", kind, response.status)
            return response

        return count


def envelope_kind(envelope_type: str, payload: object) -> str:
    """The same kinds as :func:`request_kind`, for a Socket Mode envelope."""
    if envelope_type == "slash_commands":
        return "command"
    if envelope_type == "events_api":
        return "event"
    if envelope_type != "interactive" or not isinstance(payload, dict):
        return "unknown"
    kind = payload.get("type")
    return kind if isinstance(kind, str) and kind in INTERACTIVE_KINDS else "other"


def request_kind(body: bytes) -> str:
    """``command``, the interactive payload's type, or ``unknown`` (never raises)."""
    try:
        form = parse_qs(body.decode("utf-8", "replace"), max_num_fields=100)
    except ValueError:
        return "unknown"
    if "command" in form:
        return "command"
    payload = form.get("payload")
    if payload:
        try:
            kind = json.loads(payload[0]).get("type")
        except (ValueError, AttributeError):
            return "unknown"
        return kind if isinstance(kind, str) and kind in INTERACTIVE_KINDS else "other"
    return "event" if body.startswith(b"{") else "unknown"
