"""The Bolt app factory. No globals and no network at import: build as many as needed."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

import handlers
from bot.metrics import Metrics, SlackCallRecorder
from bot.services import Services
from bot.settings import Settings

SLACK_TIMEOUT_SECONDS = 10


def slack_client(settings: Settings, metrics: Metrics) -> AsyncWebClient:
    """A Web API client that retries rate limits (honouring Retry-After), 5xx and drops,
    and counts every attempt."""
    return AsyncWebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=SLACK_TIMEOUT_SECONDS,
        retry_handlers=[
            SlackCallRecorder(metrics),
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def build_app(settings: Settings, services: Services, client: AsyncWebClient) -> AsyncApp:
    app = AsyncApp(
        client=client,
        signing_secret=settings.slack_signing_secret,
        ignoring_self_events_enabled=True,
    )
    handlers.register(app, services)
    return app
