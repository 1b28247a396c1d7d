"""The playbook applied to an incident, its steps, and the language customers are written in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from storage.models import Incident, PlaybookStep, TimelineEvent, utcnow

PLAYBOOK_APPLIED, STEP_DONE, LANGUAGE_SET = "playbook_applied", "playbook_step_done", "language_set"
"""Timeline kinds written here."""


@dataclass(frozen=True)
class Applied:
    """What applying a playbook writes on the incident."""

    name: str
    severity: str
    cadence_seconds: int | None
    language: str
    steps: Sequence[str]


@dataclass(frozen=True)
class Tick:
    """The outcome of ticking a step: ``done`` is False when someone had ticked it before
    (``step`` then says who and when)."""

    done: bool
    step: PlaybookStep


class PlaybookStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def apply(self, incident_id: int, applied: Applied, actor_id: str) -> None:
        """Record the playbook on the incident and replace its checklist, in one transaction."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(Incident)
                .where(Incident.id == incident_id)
                .values(
                    playbook=applied.name,
                    severity=applied.severity,
                    cadence_seconds=applied.cadence_seconds,
                    language=applied.language,
                )
            )
            await session.execute(
                delete(PlaybookStep).where(PlaybookStep.incident_id == incident_id)
            )
            session.add_all(
                PlaybookStep(incident_id=incident_id, position=i, text=text)
                for i, text in enumerate(applied.steps)
            )
            session.add(TimelineEvent.now(incident_id, actor_id, PLAYBOOK_APPLIED, applied.name))

    async def steps(self, incident_id: int) -> list[PlaybookStep]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(PlaybookStep)
                .where(PlaybookStep.incident_id == incident_id)
                .order_by(PlaybookStep.position)
            )
            return list(rows)

    async def tick(self, incident_id: int, position: int, actor_id: str) -> Tick | None:
        """Tick a step once (compare-and-swap): of two ticks at once, one records it.
        None when the incident has no such step (a checklist from an earlier playbook)."""
        now = utcnow()
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(PlaybookStep)
                .where(
                    PlaybookStep.incident_id == incident_id,
                    PlaybookStep.position == position,
                    PlaybookStep.done_by.is_(None),
                )
                .values(done_by=actor_id, done_at=now)
            )
            done = result.rowcount == 1  # type: ignore[attr-defined]
            step = await session.scalar(
                select(PlaybookStep)
                .where(PlaybookStep.incident_id == incident_id, PlaybookStep.position == position)
                .execution_options(populate_existing=True)
            )
            if step is None:
                return None
            if done:
                session.add(TimelineEvent.now(incident_id, actor_id, STEP_DONE, step.text))
        return Tick(done, step)

    async def set_language(self, incident_id: int, language: str, actor_id: str) -> bool:
        """Set the incident's customer language; False when it already was that one."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(Incident)
                .where(Incident.id == incident_id, Incident.language != language)
                .values(language=language)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return False
            session.add(TimelineEvent.now(incident_id, actor_id, LANGUAGE_SET, language))
        return True
