"""Serving helpers shared by the bot and the sandbox's Slack double."""

from __future__ import annotations

import asyncio
from typing import cast

from aiohttp import web


async def start_site(runner: web.AppRunner, host: str, port: int) -> int:
    """Start serving ``runner`` on ``host:port`` and return the port actually bound (port 0)."""
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = cast(asyncio.Server | None, site._server)
    if server is None or not server.sockets:
        return port
    return int(server.sockets[0].getsockname()[1])
