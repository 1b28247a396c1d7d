"""What an uninstalled workspace leaves behind: its reminders and its parked Slack calls.

Kept apart from ``storage.reminders`` and ``storage.outbox``: this is the one place that
ends a workspace's pending work, in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from storage.models import OutboxCall, Reminder
from storage.reminders import CANCELLED


@dataclass(frozen=True)
class Stopped:
    """How much pending work a workspace had when it was stopped."""

    reminders: int
    calls: int


class WorkspaceWork:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def stop(self, team_id: str) -> Stopped:
        """Cancel every reminder of ``team_id`` not already cancelled and drop its parked
        calls. A reminder scheduled again later (after a reinstall) starts afresh."""
        async with self._sessions.begin() as session:
            reminders = await session.execute(
                update(Reminder)
                .where(Reminder.team_id == team_id, Reminder.state != CANCELLED)
                .values(state=CANCELLED, seq=Reminder.seq + 1, lease_until=None, claimed_by=None)
            )
            calls = await session.execute(delete(OutboxCall).where(OutboxCall.team_id == team_id))
            return Stopped(
                int(reminders.rowcount),  # type: ignore[attr-defined]
                int(calls.rowcount),  # type: ignore[attr-defined]
            )
