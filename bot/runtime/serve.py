"""``amends serve``: HTTP mode on PORT, or Socket Mode when SLACK_APP_TOKEN is set.

Either way PORT serves ``/healthz`` and ``/metrics``; in HTTP mode it also serves Slack's
``/slack/events`` (and the OAuth pages when OAuth is configured). SIGTERM and SIGINT stop
the bot cleanly: the Socket Mode connection is closed and reminders in flight finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from bot.runtime.process import Runtime
from bot.settings import Settings

log = logging.getLogger(__name__)


async def serve(settings: Settings) -> None:
    runtime = await Runtime.start(settings)
    stopping = asyncio.Event()
    signals = _stop_on_signals(stopping)
    try:
        await runtime.serve_http(events=not settings.socket_mode)
        if settings.slack_app_token:
            await _socket_mode(runtime, settings.slack_app_token, stopping)
        else:
            await stopping.wait()
    finally:
        log.info("stopping")
        for sig in signals:
            asyncio.get_running_loop().remove_signal_handler(sig)
        await runtime.stop()


async def _socket_mode(runtime: Runtime, app_token: str, stopping: asyncio.Event) -> None:
    from bot.runtime.socket_mode import CountingSocketModeHandler

    handler = CountingSocketModeHandler(runtime.app, app_token, runtime.metrics)
    log.info("connecting to Slack in Socket Mode")
    try:
        await handler.connect_async()  # type: ignore[no-untyped-call]
        await stopping.wait()
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]


def _stop_on_signals(stopping: asyncio.Event) -> list[signal.Signals]:
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stopping.set)
            installed.append(sig)
    return installed
