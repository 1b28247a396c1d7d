"""The App Home tab: published when a person opens it, and again for everyone concerned
when an incident's roles change or a customer update is posted."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient

from bot.incidents.policy import ACTIVE_STATUSES, OPEN_STATUSES, Status
from bot.playbooks.loader import Loaded
from bot.settings import Settings
from bot.slack.outbox import Outbox
from messages.home import HOME_ITEMS, HomeLists, HomeRow, PlaybookRow, home_view
from storage.home import HomeIncident, HomeStore
from storage.models import Incident, utcnow

log = logging.getLogger(__name__)


DuePlaybooks = Callable[[str], Awaitable[list[Loaded]]]
"""A person's playbooks due for review (``ReviewService.due_for``)."""


@dataclass(eq=False)
class HomeService:
    store: HomeStore
    settings: Settings
    outbox: Outbox
    due_playbooks: DuePlaybooks

    async def view_for(self, team_id: str, user_id: str) -> dict[str, object]:
        active = [s.value for s in ACTIVE_STATUSES]
        incidents = await self.store.incidents(
            team_id, user_id, [s.value for s in OPEN_STATUSES], HOME_ITEMS
        )
        owed = await self.store.owed_by(team_id, user_id, active, HOME_ITEMS)
        follow_ups = await self.store.follow_ups(team_id, user_id, Status.RESOLVED, HOME_ITEMS)
        return home_view(
            HomeLists(
                incidents=[_row(i) for i in incidents.rows],
                incidents_total=incidents.total,
                owed=[_row(i) for i in owed.rows],
                owed_total=owed.total,
                follow_ups=[
                    HomeRow(f.number, f.title, f.channel_id, waiting=f.waiting, follow_up_due=f.due)
                    for f in follow_ups.rows
                ],
                follow_ups_total=follow_ups.total,
                playbooks=await self.playbooks_due(user_id),
                now=utcnow(),
            )
        )

    async def playbooks_due(self, user_id: str) -> list[PlaybookRow]:
        """The person's playbooks due for review (past ``review_by``, not reviewed for it)."""
        return [
            PlaybookRow(loaded.playbook.name, loaded.path, loaded.playbook.review_by)
            for loaded in await self.due_playbooks(user_id)
        ]

    async def publish(self, client: AsyncWebClient, team_id: str, user_id: str) -> None:
        """Publish the person's Home; only the newest matters, so a parked one is replaced."""
        await self.outbox.call(
            client,
            team_id,
            "views.publish",
            what="your App Home",
            key=f"home:{team_id}:{user_id}",
            user_id=user_id,
            view=await self.view_for(team_id, user_id),
        )

    async def incident_changed(
        self, client: AsyncWebClient, incident: Incident, also: Iterable[str] = ()
    ) -> None:
        """Refresh the Home of everyone the incident concerns (and ``also``, such as a role's
        previous holder). A Home that cannot be refreshed must not fail the change itself."""
        users = {incident.reporter_id, *(r.user_id for r in incident.roles), *also}
        if incident.closure is not None:
            users.add(incident.closure.follow_up_owner)
        for user_id in sorted(u for u in users if u):
            try:
                await self.publish(client, incident.team_id, user_id)
            except Exception as exc:
                log.warning("could not refresh the App Home of %s: %r", user_id, exc)


def _row(incident: HomeIncident) -> HomeRow:
    return HomeRow(
        incident.number,
        incident.title,
        incident.channel_id,
        roles=incident.roles,
        status=incident.status,
        due=incident.next_update_due,
    )
