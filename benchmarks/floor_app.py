"""The floor for ack latency: a bare Bolt AsyncApp whose /incident listener only acks.

Run as a separate process by ``ack_latency.py``: ``python benchmarks/floor_app.py PORT``.
Reads SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET and SLACK_API_URL like Amends does.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


def build() -> AsyncApp:
    app = AsyncApp(
        client=AsyncWebClient(
            token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]
        ),
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
    )

    @app.command("/incident")
    async def only_ack(ack: Any) -> None:
        await ack()

    return app


if __name__ == "__main__":
    web.run_app(
        build().web_app(path="/slack/events"),
        host="127.0.0.1",
        port=int(sys.argv[1]),
        print=None,
        access_log=None,
    )
