"""The routes: ``/status``, ``/status/incidents/<id>``, ``/status/feed.atom``,
``/status.json`` and ``/c/<token>``; each reads the database at request time."""

from __future__ import annotations

import logging
from datetime import timedelta

from aiohttp import web

from bot.settings import Settings
from bot.status_page import CUSTOMER_PATH, STATUS_PATH, status_url
from bot.status_page.feed import atom_feed, status_json
from bot.status_page.render import render
from bot.status_page.views import IncidentView, customer_incident_view, incident_view
from storage.models import utcnow
from storage.status import StatusStore

log = logging.getLogger("amends.status_page")

WINDOW_DAYS = 90
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
PRIVATE = {**HEADERS, "Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}
"""A customer page is for its customer only: not cached, not indexed, its address not
passed on as a referrer."""


class StatusPages:
    def __init__(self, settings: Settings, store: StatusStore) -> None:
        self.settings = settings
        self.store = store

    def install(self, app: web.Application) -> None:
        app.router.add_get(STATUS_PATH, self.index)
        app.router.add_get(f"{STATUS_PATH}/incidents/{{public_id}}", self.incident)
        app.router.add_get(f"{STATUS_PATH}/feed.atom", self.feed)
        app.router.add_get(f"{STATUS_PATH}.json", self.json)
        app.router.add_get(f"{CUSTOMER_PATH}/{{token}}", self.customer)

    @property
    def _team(self) -> str | None:
        return self.settings.status_page_team

    def _configured(self) -> None:
        """With many workspaces, the page needs to know whose incidents it shows."""
        if self._team is None and self.settings.oauth:
            raise self._not_found("This status page is not set up (STATUS_PAGE_TEAM).")

    def _common(self) -> dict[str, object]:
        base = status_url(self.settings)
        return {
            "site_title": self.settings.status_page_title,
            "status_url": base,
            "feed_url": f"{base}/feed.atom",
            "json_url": f"{base}.json",
        }

    async def index(self, request: web.Request) -> web.Response:
        self._configured()
        views = await self._public_views()
        current = [v for v in views if not v.resolved]
        past = [v for v in views if v.resolved]
        html = render("index.html", current=current, past=past, days=WINDOW_DAYS, **self._common())
        return web.Response(text=html, content_type="text/html", headers=HEADERS)

    async def incident(self, request: web.Request) -> web.Response:
        self._configured()
        found = await self.store.public_incident(self._team, request.match_info["public_id"])
        if found is None:
            raise self._not_found("There is no such incident on this page.")
        html = render(
            "incident.html", incident=incident_view(self.settings, found), **self._common()
        )
        return web.Response(text=html, content_type="text/html", headers=HEADERS)

    async def feed(self, request: web.Request) -> web.Response:
        self._configured()
        base = status_url(self.settings)
        body = atom_feed(
            self.settings.status_page_title,
            base,
            f"{base}/feed.atom",
            await self._public_views(),
            utcnow(),
        )
        return web.Response(
            body=body, content_type="application/atom+xml", charset="utf-8", headers=HEADERS
        )

    async def json(self, request: web.Request) -> web.Response:
        self._configured()
        body = status_json(
            self.settings.status_page_title,
            status_url(self.settings),
            await self._public_views(),
        )
        return web.json_response(body, headers=HEADERS)

    async def customer(self, request: web.Request) -> web.Response:
        page = await self.store.customer_page(request.match_info["token"])
        if page is None:
            raise self._not_found(
                "This link does not work (any more). Ask your contact for a new one.",
                PRIVATE,
            )
        views = [customer_incident_view(self.settings, i) for i in page.incidents]
        html = render("customer.html", customer=page.name, incidents=views, **self._common())
        return web.Response(text=html, content_type="text/html", headers=PRIVATE)

    async def _public_views(self) -> list[IncidentView]:
        since = utcnow() - timedelta(days=WINDOW_DAYS)
        found = await self.store.public_incidents(self._team, since)
        return [incident_view(self.settings, i) for i in found]

    def _not_found(self, message: str, headers: dict[str, str] | None = None) -> web.HTTPNotFound:
        html = render("not_found.html", message=message, **self._common())
        return web.HTTPNotFound(text=html, content_type="text/html", headers=headers or HEADERS)
