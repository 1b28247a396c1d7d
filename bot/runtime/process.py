"""Starting and stopping a running Amends: database, services, Bolt app, HTTP server."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.observability.metrics import Metrics
from bot.runtime.app import build_app, slack_client, slack_session
from bot.runtime.gate import add_slack_routes
from bot.runtime.net import start_site
from bot.runtime.services import Services
from bot.runtime.web import Observability
from bot.settings import Settings
from bot.slack.workspaces import CachedInstallations, Workspaces
from bot.status_page.pages import StatusPages
from storage.db import create_engine, migrate
from storage.installations import SignedStateStore, installation_store
from storage.models import utcnow
from storage.repository import IncidentStore

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
UNOPENED_GRACE = timedelta(minutes=5)
"""A declare still without a channel after this long died with its process."""


@dataclass
class Runtime:
    """One running bot: its engine, services and Bolt app (and HTTP server once served)."""

    settings: Settings
    engine: AsyncEngine
    services: Services
    app: AsyncApp
    metrics: Metrics
    runner: web.AppRunner | None = None
    port: int | None = None
    slack_session: aiohttp.ClientSession | None = None
    """The HTTP session every Web API client of this process shares (closed on stop)."""

    @classmethod
    async def start(cls, settings: Settings, engine: AsyncEngine | None = None) -> Runtime:
        """Migrate the schema and build the app; nothing is listening yet."""
        engine = engine or create_engine(settings.database_url)
        await migrate(engine)
        store = IncidentStore(engine)
        swept = await store.discard_unopened(utcnow() - UNOPENED_GRACE)
        if swept:
            log.warning("removed %d incident(s) whose declare never got a channel", swept)
        metrics = Metrics()
        session = slack_session()
        client = slack_client(settings, metrics, session)
        installations = (
            CachedInstallations(installation_store(engine, str(settings.slack_client_id)))
            if settings.oauth
            else None
        )
        workspaces = Workspaces(client, installations)
        services = Services.build(settings, store, workspaces.client_for, metrics)
        states = (
            SignedStateStore(engine, str(settings.slack_state_secret)) if settings.oauth else None
        )
        app = build_app(settings, services, client, installations, states)
        services.engine.start()
        services.updates.outbox.start()
        services.reviews.start()
        return cls(settings, engine, services, app, metrics, slack_session=session)

    async def serve_http(
        self, host: str = "0.0.0.0", port: int | None = None, *, events: bool = True
    ) -> int:
        """Serve Slack's requests on ``/slack/events`` (unless ``events`` is false, as in
        Socket Mode) beside ``/healthz`` and ``/metrics``; returns the bound port."""
        web_app = web.Application()
        observability = Observability(
            self.metrics,
            self.services.store,
            self.reminders_health,
            self.services.updates.outbox.store,
        )
        observability.install(web_app, EVENTS_PATH if events else None)
        StatusPages(self.settings, self.services.status.store).install(web_app)
        if events:
            add_slack_routes(web_app, self.app, self.settings.slack_signing_secret, EVENTS_PATH)
        self.runner = web.AppRunner(web_app, access_log=None)
        await self.runner.setup()
        self.port = await start_site(
            self.runner, host, self.settings.port if port is None else port
        )
        log.info("listening on %s:%s", host, self.port)
        return self.port

    def reminders_health(self) -> tuple[bool, str]:
        """Whether reminders go out, in words for ``/healthz``."""
        engine = self.services.engine
        if not engine.running:
            return False, "stopped"
        return engine.sweeps.problem(self.settings.reminder_sweep_seconds)

    @property
    def events_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{EVENTS_PATH}"

    async def stop(self) -> None:
        await self.services.reviews.stop()
        await self.services.reach.drain()
        await self.services.updates.outbox.stop()
        self.services.engine.stop()
        await self.services.engine.drain()
        if self.runner is not None:
            await self.runner.cleanup()
        if self.slack_session is not None:
            await self.slack_session.close()
        await self.engine.dispose()
