"""``amends serve``: HTTP mode on PORT, or Socket Mode when SLACK_APP_TOKEN is set."""

from __future__ import annotations

import asyncio
import logging

from bot.runtime import Runtime
from bot.settings import Settings

log = logging.getLogger(__name__)


async def serve(settings: Settings) -> None:
    runtime = await Runtime.start(settings)
    try:
        if settings.slack_app_token:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            handler = AsyncSocketModeHandler(runtime.app, settings.slack_app_token)
            log.info("connecting to Slack in Socket Mode")
            await handler.start_async()  # type: ignore[no-untyped-call]
        else:
            await runtime.serve_http()
            await asyncio.Event().wait()
    finally:
        await runtime.stop()
