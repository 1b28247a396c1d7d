"""Drills: a playbook's scenario declared for practice.

A drill is an incident marked ``drill``: its channel is ``drill-<n>-…``, every message about
it carries the drill marker (its card's label, see ``messages.model.DRILL_MARK``), it is
announced nowhere (only the person who started it is told), its customer updates stay in
its own channel (never CUSTOMER_CHANNEL), and the recovery figures leave it out.
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient

from bot.incidents.declare import Declared, DeclareFlow, DeclareRequest
from bot.playbooks.apply import PlaybookService
from bot.playbooks.catalogue import Catalogue
from bot.playbooks.model import Playbook


@dataclass(eq=False)
class DrillService:
    catalogue: Catalogue
    declare: DeclareFlow
    playbooks: PlaybookService

    async def start(
        self, client: AsyncWebClient, team_id: str, user_id: str, playbook: Playbook
    ) -> Declared:
        """Declare the drill with the playbook's name, summary and severity, then apply the
        playbook (its steps, cadence and language) as a real incident would get it; the
        person who started it leads it."""
        declared = await self.declare.declare(
            client,
            DeclareRequest(
                team_id=team_id,
                reporter_id=user_id,
                title=playbook.name,
                severity=playbook.severity,
                description=playbook.summary,
                drill=True,
                playbook=playbook.name,
            ),
        )
        await self.playbooks.apply_to_declared(client, declared, playbook, user_id)
        return declared
