"""Socket Mode for the double: ``apps.connections.open``, the WebSocket, envelopes and acks.

As Slack does it: ``apps.connections.open`` takes only an app-level token (``xapp-``) and
answers a one-time WebSocket URL; each socket opens with a ``hello``; Slack sends envelopes
(``slash_commands``, ``interactive``, ``events_api``) and the app acks each one on the same
socket with its ``envelope_id`` (and a ``payload`` where the envelope accepts one). A
``disconnect`` message asks the app to fetch a new URL and reconnect. Pings are answered.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from bot.sandbox.double.records import wait_for
from bot.sandbox.double.state import APP_ID

OPEN_METHOD = "apps.connections.open"
SOCKET_PATH = "/socket/{ticket}"
ENVELOPE_TYPES = ("slash_commands", "interactive", "events_api")
ACCEPTS_PAYLOAD = frozenset({"view_submission", "block_suggestion"})
"""Interactive payload types whose ack may carry a response (slash commands always may)."""


@dataclass
class Delivery:
    """One envelope sent to the app, and the ack it got (None until acked)."""

    envelope: dict[str, Any]
    ack: dict[str, Any] | None = None
    acked_in: float | None = None


class SocketMode:
    """The Socket Mode side of one Slack app, served by the double's HTTP server."""

    def __init__(self, app_token: str = "xapp-1-test", app_id: str = APP_ID) -> None:
        self.app_token = app_token
        self.app_id = app_id
        self.deliveries: list[Delivery] = []
        self.connections = 0
        """How many WebSockets the app has opened so far (reconnects count)."""
        self._tickets: set[str] = set()
        self._sockets: list[web.WebSocketResponse] = []
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}

    # -- apps.connections.open and the WebSocket ------------------------------------------

    def open(self, token: str | None, base_url: str, error: str | None = None) -> dict[str, Any]:
        """The body of ``apps.connections.open``: a one-time ``ws://`` URL for an app token."""
        if not token:
            return {"ok": False, "error": "not_authed"}
        if not token.startswith("xapp-"):
            return {"ok": False, "error": "not_allowed_token_type"}
        if token != self.app_token:
            return {"ok": False, "error": "invalid_auth"}
        if error:
            return {"ok": False, "error": error}
        ticket = uuid.uuid4().hex
        self._tickets.add(ticket)
        ws_base = "ws" + base_url.removeprefix("http")
        return {"ok": True, "url": f"{ws_base}{SOCKET_PATH.format(ticket=ticket)}"}

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """The WebSocket at a URL ``open`` gave out; each URL works once."""
        ticket = request.match_info["ticket"]
        if ticket not in self._tickets:
            return web.Response(status=401, text="invalid or used ticket")
        self._tickets.discard(ticket)
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        self.connections += 1
        try:
            await ws.send_json(self._hello())
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self._receive(message.data)
        finally:
            self._sockets.remove(ws)
        return ws

    def _hello(self) -> dict[str, Any]:
        return {
            "type": "hello",
            "num_connections": len(self._sockets),
            "debug_info": {
                "host": "applink-double",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.app_id},
        }

    def _receive(self, data: str) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        future = self._pending.get(str(message.get("envelope_id")))
        if future is not None and not future.done():
            future.set_result(message)

    # -- what tests use ----------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return any(not ws.closed for ws in self._sockets)

    async def wait_connected(self, timeout: float = 5.0) -> None:
        """Until the app has a WebSocket open (it connects in the background)."""
        await wait_for(lambda: self.connected, timeout)

    async def deliver(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        timeout: float = 3.0,
        accepts_response_payload: bool | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> dict[str, Any] | None:
        """Send an envelope to the connected app and wait for its ack.

        Returns the ack's ``payload`` (None if the ack had none). Raises TimeoutError when no
        ack comes within ``timeout`` seconds, as Slack would then give up (and retry events),
        and AssertionError when no app is connected. ``retry_attempt`` above 0 sends an
        event again as Slack's retry; Slack retries nothing else (ValueError).
        """
        if kind not in ENVELOPE_TYPES:
            raise ValueError(f"{kind!r} is not one of {ENVELOPE_TYPES}")
        if retry_attempt and kind != "events_api":
            raise ValueError("Slack redelivers only events_api envelopes")
        live = [ws for ws in self._sockets if not ws.closed]
        if not live:
            raise AssertionError("no app is connected to the double in Socket Mode")
        if accepts_response_payload is None:
            accepts_response_payload = kind == "slash_commands" or (
                kind == "interactive" and payload.get("type") in ACCEPTS_PAYLOAD
            )
        envelope: dict[str, Any] = {
            "envelope_id": str(uuid.uuid4()),
            "payload": payload,
            "type": kind,
            "accepts_response_payload": accepts_response_payload,
        }
        if kind == "events_api":
            envelope.update(retry_attempt=retry_attempt, retry_reason=retry_reason)
        delivery = Delivery(envelope)
        self.deliveries.append(delivery)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[envelope["envelope_id"]] = future
        started = time.perf_counter()
        try:
            await live[-1].send_json(envelope)
            delivery.ack = await asyncio.wait_for(future, timeout)
        finally:
            self._pending.pop(envelope["envelope_id"], None)
        delivery.acked_in = time.perf_counter() - started
        answer = delivery.ack.get("payload")
        return answer if isinstance(answer, dict) else None

    async def disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask every connected app to reconnect, as Slack does before it refreshes a socket."""
        message = {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-double"}}
        for ws in [ws for ws in self._sockets if not ws.closed]:
            await ws.send_json(message)

    async def close(self) -> None:
        """Close every socket (the double is stopping); pending deliveries are cancelled."""
        for future in self._pending.values():
            future.cancel()
        for ws in list(self._sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server stopping")
