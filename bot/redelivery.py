"""Slack's redeliveries are answered, not applied again.

Slack redelivers a request it thinks failed (``X-Slack-Retry-Num``, for instance after a
slow ack). Each request is recorded as it arrives, keyed by workspace and body (Slack
resends the identical body, and an event's ``event_id``); a redelivery of something
already recorded is acknowledged and dropped. Records live a little longer than Slack's
retry window (its last retry comes after about 5 minutes).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import timedelta

from storage.models import utcnow
from storage.outbox import SeenRequests, request_digest

log = logging.getLogger("amends.redelivery")

KEEP_FOR = timedelta(minutes=15)
PRUNE_EVERY_SECONDS = 60.0


class Redeliveries:
    def __init__(self, seen: SeenRequests) -> None:
        self.seen = seen
        self._task: asyncio.Task[None] | None = None

    async def first_delivery(self, team_id: str, body: str) -> bool:
        """Record this request; false when it (or the event in it) was seen already."""
        return await self.seen.first_time(request_digest(team_id, _identity(body).encode()))

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._prune_forever())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _prune_forever(self) -> None:
        while True:
            try:
                await self.seen.forget_before(utcnow() - KEEP_FOR)
            except Exception as exc:
                log.warning("could not prune seen requests: %r", exc)
            await asyncio.sleep(PRUNE_EVERY_SECONDS)


def _identity(body: str) -> str:
    """An Events API body is identified by its event_id; anything else by its bytes."""
    if body.startswith("{"):
        with contextlib.suppress(ValueError, AttributeError):
            event_id = json.loads(body).get("event_id")
            if event_id:
                return f"event:{event_id}"
    return body
