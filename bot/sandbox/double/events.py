"""Events API for the double: signed ``event_callback`` deliveries, and Slack's retries.

What Slack does, copied here as facts (sources named per item):

* Envelope (api.slack.com/events/app_uninstalled and /events/tokens_revoked examples; the
  wrapper's required fields from slackapi/slack-api-specs events-api AsyncAPI
  ``GenericEventWrapper``): ``token``, ``team_id``, ``api_app_id``, ``event``,
  ``type: "event_callback"``, ``event_id``, ``event_time``; current deliveries also carry
  ``authorizations`` (one installation: enterprise_id, team_id, user_id, is_bot,
  is_enterprise_install), ``is_ext_shared_channel`` and ``event_context``.
* ``app_uninstalled``'s event is ``{"type": "app_uninstalled"}``; ``tokens_revoked``'s is
  ``{"type": "tokens_revoked", "tokens": {"oauth": [user ids], "bot": [bot user ids]}}``.
  Slack sends both when an app is uninstalled, in no guaranteed order.
* Over HTTP an event is POSTed as JSON to the app's Request URL, signed like every request
  (``X-Slack-Signature``, ``X-Slack-Request-Timestamp``). An answer other than 2xx within
  3 seconds counts as failed; Slack then retries up to three times (at once, after about
  1 minute, after about 5 minutes) with ``X-Slack-Retry-Num`` (1..3) and
  ``X-Slack-Retry-Reason`` (``http_timeout``, ``http_error``, ``connection_failed``, ...).
  An answer with ``X-Slack-No-Retry: 1`` stops the retries (Slack's "Events API" docs,
  "Retries" and "Turning retries off").
* In Socket Mode the same body is the ``payload`` of an ``events_api`` envelope with
  ``retry_attempt`` and ``retry_reason``; an envelope not acked in time is sent again.
* Only events are retried: Slack never redelivers a slash command or an interactive
  payload, so this module refuses to "redeliver" anything but an ``event_callback``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot.sandbox.double.socket import SocketMode
from bot.sandbox.double.state import APP_ID, Workspace, new_id

ACK_SECONDS = 3.0
MAX_RETRIES = 3
SLACK_RETRY_DELAYS = (0.0, 60.0, 300.0)
"""When Slack retries a failed delivery, after the previous attempt; tests shorten them."""
VERIFICATION_TOKEN = "verification-token-unused"
"""Slack still sends the deprecated verification token; signed requests make it moot."""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``v0=`` + hex HMAC-SHA256 of ``v0:<timestamp>:<body>``, as Slack signs requests."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class NotAnEvent(ValueError):
    """Slack redelivers Events API deliveries only, never commands or interactions."""


@dataclass
class Attempt:
    """One delivery attempt: its retry number, and how the app answered (None: no answer;
    header names in lower case)."""

    retry: int
    reason: str
    status: int | None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class EventDelivery:
    body: dict[str, Any]
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def acked(self) -> bool:
        return any(a.status is not None and 200 <= a.status < 300 for a in self.attempts)


def event_callback(ws: Workspace, event: dict[str, Any], app_id: str = APP_ID) -> dict[str, Any]:
    """The Events API envelope Slack wraps ``event`` in for workspace ``ws``."""
    now = int(time.time())
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": ws.team_id,
        "api_app_id": app_id,
        "event": event,
        "type": "event_callback",
        "event_id": new_id("Ev"),
        "event_time": now,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": ws.team_id,
                "user_id": ws.bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{secrets.token_hex(16)}",
    }


def uninstall_events(ws: Workspace) -> list[dict[str, Any]]:
    """What Slack sends when the app is uninstalled from ``ws``: its bot token is revoked,
    then the app is uninstalled (Slack does not promise this order)."""
    return [
        {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": [ws.bot_user_id]}},
        {"type": "app_uninstalled"},
    ]


class Events:
    """The app's event subscription: over its Socket Mode connection when one is open,
    else to the Request URL given with :meth:`subscribe`."""

    def __init__(self, socket: SocketMode) -> None:
        self.socket = socket
        self.request_url: str | None = None
        self.signing_secret = ""
        self.ack_seconds = ACK_SECONDS
        self.retry_delays: tuple[float, ...] = SLACK_RETRY_DELAYS
        self.deliveries: list[EventDelivery] = []

    def subscribe(self, request_url: str, signing_secret: str) -> None:
        """The app's Event Subscriptions Request URL, and its signing secret."""
        self.request_url = request_url
        self.signing_secret = signing_secret

    async def send(self, body: dict[str, Any], *, retry: bool = True) -> EventDelivery:
        """Deliver an ``event_callback``; retried as Slack does while it is not acked."""
        delivery = EventDelivery(body)
        self.deliveries.append(delivery)
        await self._attempt(delivery, 0, "")
        for number in range(1, MAX_RETRIES + 1 if retry else 1):
            last = delivery.attempts[-1]
            if delivery.acked or last.headers.get("x-slack-no-retry") == "1":
                break
            await asyncio.sleep(self.retry_delays[number - 1])
            await self._attempt(delivery, number, _reason(last))
        return delivery

    async def redeliver(
        self, body: dict[str, Any], retry: int = 1, reason: str = "http_timeout"
    ) -> Attempt:
        """Slack's retry ``retry`` of an event it delivered before (tests choose when)."""
        if body.get("type") != "event_callback" or not body.get("event_id"):
            raise NotAnEvent("Slack redelivers only Events API deliveries (event_callback)")
        if not 1 <= retry <= MAX_RETRIES:
            raise ValueError(f"Slack retries an event at most {MAX_RETRIES} times")
        delivery = next((d for d in self.deliveries if d.body is body), None)
        if delivery is None:
            delivery = EventDelivery(body)
            self.deliveries.append(delivery)
        await self._attempt(delivery, retry, reason)
        return delivery.attempts[-1]

    async def _attempt(self, delivery: EventDelivery, retry: int, reason: str) -> None:
        if self.socket.connected:
            attempt = await self._over_socket(delivery.body, retry, reason)
        else:
            attempt = await self._over_http(delivery.body, retry, reason)
        delivery.attempts.append(attempt)

    async def _over_socket(self, body: dict[str, Any], retry: int, reason: str) -> Attempt:
        try:
            await self.socket.deliver(
                "events_api",
                body,
                timeout=self.ack_seconds,
                retry_attempt=retry,
                retry_reason=reason,
            )
        except TimeoutError:
            return Attempt(retry, reason, None, {"reason": "timeout"})
        return Attempt(retry, reason, 200)

    async def _over_http(self, body: dict[str, Any], retry: int, reason: str) -> Attempt:
        if self.request_url is None:
            raise AssertionError("the app has no Request URL and no Socket Mode connection")
        raw = json.dumps(body).encode()
        stamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": str(stamp),
            "X-Slack-Signature": signature(self.signing_secret, stamp, raw),
        }
        if retry:
            headers["X-Slack-Retry-Num"] = str(retry)
            headers["X-Slack-Retry-Reason"] = reason
        timeout = aiohttp.ClientTimeout(total=self.ack_seconds)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.post(self.request_url, data=raw, headers=headers) as response,
            ):
                await response.read()
                answered = {k.lower(): v for k, v in response.headers.items()}
                return Attempt(retry, reason, response.status, answered)
        except TimeoutError:
            return Attempt(retry, reason, None, {"reason": "http_timeout"})
        except aiohttp.ClientError:
            return Attempt(retry, reason, None, {"reason": "connection_failed"})


def _reason(last: Attempt) -> str:
    """``X-Slack-Retry-Reason`` for the retry after ``last``."""
    if last.status is None:
        return last.headers.get("reason", "unknown_error")
    return "http_error"
