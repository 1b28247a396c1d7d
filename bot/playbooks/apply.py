"""Applying a playbook to a running incident, ticking its steps, and the customer language.

Applying records the playbook's name on the incident and takes over its severity, update
cadence and language in one transaction; the update clock is then re-planned on the new
cadence, the steps are posted as a checklist in the incident channel and the header is
refreshed. Everything Slack sees goes through the incident's lane of the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from slack_sdk.web.async_client import AsyncWebClient

from bot.incidents import clock
from bot.incidents.declare import Declared
from bot.incidents.errors import UserError
from bot.incidents.policy import ACTIVE_STATUSES, Status
from bot.incidents.updates import UpdateService
from bot.playbooks.catalogue import Catalogue
from bot.playbooks.languages import parse_language
from bot.playbooks.model import Playbook
from bot.settings import Settings
from bot.slack.header import incident_card, refresh_header
from messages import refusals
from messages.playbooks import StepRow, steps_blocks, steps_text
from storage.models import Incident, PlaybookStep
from storage.playbooks import Applied, PlaybookStore


def step_rows(steps: list[PlaybookStep]) -> list[StepRow]:
    return [StepRow(s.position, s.text, s.done_by, s.done_at) for s in steps]


def minutes(cadence: timedelta) -> str:
    total = int(cadence.total_seconds() // 60)
    return f"{total} min" if total < 120 or total % 60 else f"{total // 60} h"


@dataclass(eq=False)
class PlaybookService:
    catalogue: Catalogue
    store: PlaybookStore
    settings: Settings
    updates: UpdateService

    async def apply_to_declared(
        self, client: AsyncWebClient, declared: Declared, playbook: Playbook, actor: str
    ) -> None:
        """Apply ``playbook`` to the incident just declared (from the form, or a drill)."""
        card = declared.card
        incident = await self.updates.store.by_number(card.team_id, card.number)
        if incident is not None:
            await self.apply(client, incident, playbook, actor)

    async def apply(
        self, client: AsyncWebClient, incident: Incident, playbook: Playbook, actor: str
    ) -> None:
        """Take over the playbook's severity, cadence and language; post its steps."""
        if Status(incident.status) not in ACTIVE_STATUSES:
            raise UserError(refusals.updates_stopped(incident.number, incident.status))
        cadence = playbook.cadence
        applied = Applied(
            name=playbook.name,
            severity=playbook.severity,
            cadence_seconds=int(cadence.total_seconds()) if cadence else None,
            language=playbook.language,
            steps=playbook.steps,
        )
        await self.store.apply(incident.id, applied, actor)
        fresh = await self.updates.store.reload(incident.id)
        fresh.next_update_due = await self.updates.replan(
            fresh, clock.due_after(self.settings, fresh)
        )
        await self._post_steps(client, fresh)
        await refresh_header(self.updates.outbox, client, fresh, self.settings.severities)
        every = minutes(clock.cadence(self.settings, fresh))
        await self.updates.say(
            client,
            fresh,
            f"<@{actor}> applied the playbook “{playbook.name}”: {playbook.severity}, a customer "
            f"update every {every}, customer messages in `{playbook.language}`.",
            what="the playbook note in the incident channel",
        )

    async def _post_steps(self, client: AsyncWebClient, incident: Incident) -> None:
        name = str(incident.playbook)
        card = incident_card(incident, self.settings.severities)
        steps = step_rows(await self.store.steps(incident.id))
        await self.updates.post_in_channel(
            client,
            incident,
            "the playbook's steps",
            text=steps_text(card, name),
            blocks=steps_blocks(card, name, steps),
        )

    async def tick(
        self,
        client: AsyncWebClient,
        incident: Incident,
        position: int,
        actor: str,
        message: tuple[str, str],
    ) -> None:
        """Tick step ``position`` off once, and show it on the checklist ``message``
        (channel, ts); a second tick is told who ticked it first."""
        tick = await self.store.tick(incident.id, position, actor)
        if tick is None:
            raise UserError(refusals.step_gone())
        if not tick.done:
            step = tick.step
            raise UserError(refusals.step_already_done(step.text, step.done_by, step.done_at))
        card = incident_card(incident, self.settings.severities)
        name = str(incident.playbook)
        steps = step_rows(await self.store.steps(incident.id))
        channel, ts = message
        await self.updates.outbox.call(
            client,
            incident.team_id,
            "chat.update",
            what="the playbook checklist",
            incident_id=incident.id,
            key=f"playbook-steps:{channel}:{ts}",
            channel=channel,
            ts=ts,
            text=steps_text(card, name),
            blocks=steps_blocks(card, name, steps),
        )

    async def set_language(
        self, client: AsyncWebClient, incident: Incident, code: str, actor: str
    ) -> None:
        language = parse_language(code)
        if not await self.store.set_language(incident.id, language, actor):
            raise UserError(refusals.language_already(incident.number, language))
        await self.updates.say(
            client,
            incident,
            f"<@{actor}> set the customer language of INC-{incident.number} "
            f"to `{language}`: drafts of customer messages are written in it.",
            what="the language note in the incident channel",
        )
