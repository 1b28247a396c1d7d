"""Slack's redeliveries are answered, not applied again.

Slack redelivers a request it thinks failed (``X-Slack-Retry-Num``), at the earliest
when its 3-second wait for the ack ran out. Each first delivery is recorded, keyed by
workspace and body (Slack resends the identical body, and an event's ``event_id``), in
batches in the background so that the ack never waits for the database. A redelivery is
checked against the records (in the database, so across replicas) and dropped if its
first delivery arrived. Records live a little longer than Slack's retry window (its last retry
comes after about 5 minutes).
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from datetime import timedelta

from bot.periodic import Periodic
from storage.db import database_unavailable
from storage.models import utcnow
from storage.outbox import SeenRequests, request_digest

log = logging.getLogger("amends.redelivery")

KEEP_FOR = timedelta(minutes=15)
PRUNE_EVERY_SECONDS = 60.0
WRITE_EVERY_SECONDS = 0.5
"""First deliveries are written in batches this often; Slack redelivers after 3 s at the
earliest, and a redelivery reaching this process is also checked against the batch."""


class Redeliveries:
    def __init__(self, seen: SeenRequests) -> None:
        self.seen = seen
        self._unwritten: set[str] = set()
        self._pruned_at = 0.0
        self._loop = Periodic("redeliveries", self._housekeeping, WRITE_EVERY_SECONDS)

    async def first_delivery(self, team_id: str, body: str, *, redelivered: bool) -> bool:
        """Whether to handle this request: false for a redelivery already handled."""
        digest = request_digest(team_id, _identity(body).encode())
        if not redelivered:
            self._unwritten.add(digest)
            return True
        if digest in self._unwritten:
            return False
        try:
            return await self.seen.first_time(digest)
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            return True  # cannot check now: better to answer than to refuse

    async def settle(self) -> None:
        """Write the first deliveries seen so far (one transaction for all of them)."""
        batch, self._unwritten = self._unwritten, set()
        try:
            await self.seen.remember(batch)
        except Exception as exc:
            self._unwritten |= batch
            log.warning("could not record %d request(s) yet: %r", len(batch), exc)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()
        await self.settle()

    async def _housekeeping(self) -> None:
        await self.settle()
        now = time.monotonic()
        if now - self._pruned_at > PRUNE_EVERY_SECONDS:
            self._pruned_at = now
            await self.seen.forget_before(utcnow() - KEEP_FOR)


def _identity(body: str) -> str:
    """An Events API body is identified by its event_id; anything else by its bytes."""
    if body.startswith("{"):
        with contextlib.suppress(ValueError, AttributeError):
            event_id = json.loads(body).get("event_id")
            if event_id:
                return f"event:{event_id}"
    return body
