"""Slack's redeliveries of events are answered, not applied again.

Slack redelivers only Events API deliveries, never slash commands or interactive
payloads: an event it thinks failed (no ack within 3 seconds, an HTTP error) comes again
with ``X-Slack-Retry-Num`` over HTTP, or with ``retry_attempt`` in a Socket Mode
envelope, up to three times within about five minutes (Slack's "Events API" docs,
"Retries"). Every delivery carries the event's ``event_id``; the first one to arrive is
recorded in the database (so across replicas) and any other delivery of it is dropped.
Events are rare (Amends subscribes to ``app_uninstalled`` and ``tokens_revoked``), so
each is recorded as it arrives. Commands and clicks are guarded where they change
something, by compare-and-swap (a person may click twice; two people may click at once).
"""

from __future__ import annotations

import hashlib
import logging
import time
from datetime import timedelta

from storage.db import database_unavailable
from storage.models import utcnow
from storage.outbox import SeenEvents

log = logging.getLogger("amends.redelivery")

KEEP_FOR = timedelta(minutes=15)
"""Longer than Slack's retry window (its last retry comes about 5 minutes after the first)."""
PRUNE_EVERY_SECONDS = 60.0


class EventDeliveries:
    def __init__(self, seen: SeenEvents) -> None:
        self.seen = seen
        self._pruned_at = 0.0

    async def first_time(self, event_id: str) -> bool:
        """Whether to apply this delivery: false when the event was delivered before.

        When the database cannot answer the event is applied anyway: the event handlers
        are idempotent, and an unanswered delivery would only be retried by Slack.
        """
        try:
            first = await self.seen.first_time(event_key(event_id))
            await self._prune()
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            log.warning("could not check event %s for an earlier delivery: %r", event_id, exc)
            return True
        return first

    async def _prune(self) -> None:
        now = time.monotonic()
        if now - self._pruned_at > PRUNE_EVERY_SECONDS:
            self._pruned_at = now
            await self.seen.forget_before(utcnow() - KEEP_FOR)


def event_key(event_id: str) -> str:
    """What identifies an event across its deliveries (fits the 64-character key)."""
    return hashlib.sha256(b"event:" + event_id.encode()).hexdigest()
