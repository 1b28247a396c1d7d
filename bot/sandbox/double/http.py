"""The HTTP side of the double: reading requests as Slack does, faults, rate limits, serving."""

from __future__ import annotations

import json
import math
import socket
import time
from collections import deque
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

RATELIMITED_BODY = {"ok": False, "error": "ratelimited"}
"""Slack's 429 body (docs.slack.dev/apis/web-api/rate-limits; the copy in
tests/slack_reference/payloads/ratelimited_429.json checks it)."""


@dataclass(frozen=True)
class Fault:
    """One injected failure: a Slack error, an HTTP status, a 429, a slow answer, or a
    dropped connection (the socket closed with no answer, as when a load balancer or the
    network gives way)."""

    error: str | None = None
    http_status: int | None = None
    retry_after: int | None = None
    delay: float | None = None
    drop: bool = False


class RateLimiter:
    """At most ``burst`` calls per ``per_seconds`` window; answers how long to wait."""

    def __init__(self, per_seconds: float, burst: int) -> None:
        self.per_seconds = per_seconds
        self.burst = burst
        self.recent: deque[float] = deque()

    def retry_after(self) -> int | None:
        now = time.monotonic()
        while self.recent and now - self.recent[0] >= self.per_seconds:
            self.recent.popleft()
        if len(self.recent) >= self.burst:
            wait = self.per_seconds - (now - self.recent[0])
            return max(1, int(wait + 0.999))
        self.recent.append(now)
        return None


class PerChannelLimiter:
    """Slack's special tier for chat.postMessage: "roughly one message per second per
    channel, short bursts allowed" (tests/slack_reference/methods/chat.postMessage.json,
    tier ``t5``; docs.slack.dev/apis/web-api/rate-limits). A token bucket per channel:
    ``burst`` messages at once, then one more every ``per_seconds``."""

    def __init__(
        self, per_seconds: float, burst: int, channels: Collection[str] | None = None
    ) -> None:
        self.per_seconds = per_seconds
        self.burst = burst
        self.channels = None if channels is None else frozenset(channels)
        """Only these channels are limited (None: every channel, as Slack does)."""
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}

    def retry_after(self, team_id: str, channel: str) -> int | None:
        """None and the message is taken; else the seconds to wait (``Retry-After``)."""
        if self.channels is not None and channel not in self.channels:
            return None
        now = time.monotonic()
        key = (team_id, channel)
        tokens, then = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - then) / self.per_seconds)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            return max(1, math.ceil((1.0 - tokens) * self.per_seconds))
        self._buckets[key] = (tokens - 1.0, now)
        return None


async def read_args(request: web.Request) -> dict[str, Any]:
    """Query string, then a form or JSON body, as Slack accepts either."""
    args: dict[str, Any] = dict(request.query)
    body = await request.read()
    if not body:
        return args
    if request.content_type == "application/json":
        try:
            parsed = json.loads(body)
        except ValueError:
            return args
        if isinstance(parsed, dict):
            args.update(parsed)
        return args
    args.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return args


def token_of(request: web.Request, args: dict[str, Any]) -> str | None:
    """``Authorization: Bearer`` first, then the ``token`` argument."""
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        return auth.removeprefix("Bearer ").strip() or None
    token = args.get("token")
    return str(token) if token else None


def fault_answer(fault: Fault) -> tuple[int, dict[str, Any], dict[str, str]] | None:
    """The answer for a fault that stops a call before auth, or None."""
    if fault.retry_after is not None:
        return 429, dict(RATELIMITED_BODY), {"Retry-After": str(fault.retry_after)}
    if fault.http_status is not None:
        return fault.http_status, {"ok": False, "error": "internal_error"}, {}
    return None


def drop_connection(request: web.Request) -> web.Response:
    """Close the socket with no answer; the response returned is never written."""
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=499)


async def serve(runner: web.AppRunner, host: str, port: int) -> int:
    """Serve ``runner`` on a socket bound here, so the real port is known even for port 0."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    site = web.SockSite(runner, sock)
    await site.start()
    return int(sock.getsockname()[1])
