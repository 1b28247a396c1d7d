"""The Bolt app factory. No globals and no network at import: build as many as needed."""

from __future__ import annotations

import logging

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient

import handlers
from bot.observability.metrics import Metrics, SlackCallRecorder
from bot.runtime.services import Services
from bot.settings import Settings

SLACK_TIMEOUT_SECONDS = 10
BOT_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "channels:manage",
    "channels:read",
    "channels:join",
    "groups:write",
    "pins:write",
    "bookmarks:write",
    "users:read",
    "channels:history",
    "groups:history",
    "im:write",
    "files:write",
)
"""What the bot asks for when installed; the same list as manifests/*.yml."""


def slack_session() -> aiohttp.ClientSession:
    """The HTTP session a process's Web API clients share. It carries the timeout itself:
    slack-sdk applies ``timeout`` only to the sessions it opens on its own."""
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=SLACK_TIMEOUT_SECONDS))


def slack_client(
    settings: Settings, metrics: Metrics, session: aiohttp.ClientSession | None = None
) -> AsyncWebClient:
    """A Web API client that retries rate limits (honouring Retry-After), 5xx and drops,
    and counts every attempt. Under OAuth it has no token: Bolt adds each workspace's.

    ``session`` is the HTTP session its calls share (kept-alive connections to Slack);
    without one slack-sdk opens a new session, and a new connection, for every call."""
    return AsyncWebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=SLACK_TIMEOUT_SECONDS,
        session=session,
        retry_handlers=[
            SlackCallRecorder(metrics),
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def build_app(
    settings: Settings,
    services: Services,
    client: AsyncWebClient,
    installations: AsyncInstallationStore | None = None,
    states: AsyncOAuthStateStore | None = None,
) -> AsyncApp:
    if installations is None:
        app = AsyncApp(
            client=client,
            signing_secret=settings.slack_signing_secret,
            ignoring_self_events_enabled=True,
            raise_error_for_unhandled_request=True,
            request_verification_enabled=False,  # bot.runtime.gate verifies, before Bolt parses
        )
    else:
        app = _oauth_app(settings, client, installations, states)
    handlers.register(app, services)
    return app


def _oauth_app(
    settings: Settings,
    client: AsyncWebClient,
    installations: AsyncInstallationStore,
    states: AsyncOAuthStateStore | None,
) -> AsyncApp:
    """Bolt's install pages (/slack/install, /slack/oauth_redirect) and per-workspace tokens."""
    authorize = AsyncInstallationStoreAuthorize(
        installation_store=installations,
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        bot_only=True,
        cache_enabled=True,
        client=client,
        logger=logging.getLogger("slack_bolt.authorize"),
    )
    oauth = AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=list(BOT_SCOPES),
        installation_store=installations,
        installation_store_bot_only=True,
        state_store=states,
    )
    return AsyncApp(
        client=client,
        signing_secret=settings.slack_signing_secret,
        authorize=authorize,  # type: ignore[arg-type]  # Bolt takes an AsyncAuthorize too
        installation_store=installations,
        oauth_settings=oauth,
        ignoring_self_events_enabled=True,
        raise_error_for_unhandled_request=True,
        request_verification_enabled=False,  # bot.runtime.gate verifies, before Bolt parses
    )
