"""The remediation report and the recovery figures, built from what was recorded."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.incidents.errors import UserError
from bot.incidents.policy import Status
from bot.settings import Settings
from bot.slack.calls import slack_error
from bot.slack.header import closure_view, incident_card
from bot.slack.outbox import UPLOAD, Outbox
from messages import refusals
from messages.report import (
    PostedUpdate,
    RecoveryFigures,
    ReportData,
    TimelineLine,
    WindowFigures,
    report_blocks,
    report_markdown,
)
from storage.figures import FigureStore
from storage.models import Incident, utcnow
from storage.repository import IncidentStore

log = logging.getLogger(__name__)


@dataclass(eq=False)
class ReportService:
    store: IncidentStore
    counted: FigureStore
    settings: Settings
    outbox: Outbox

    async def figures(self, incident: Incident) -> RecoveryFigures:
        return await self.counted.incident(incident.id, utcnow())

    async def window(self, team_id: str, days: int) -> WindowFigures:
        return await self.counted.window(team_id, days, utcnow())

    async def data(self, incident: Incident) -> ReportData:
        if incident.closure is None or incident.status not in (Status.RESOLVED, Status.CLOSED):
            raise UserError(refusals.report_needs_resolve(incident.number))
        updates = await self.store.updates(incident.id)
        timeline = await self.store.timeline(incident.id)
        return ReportData(
            card=incident_card(incident, self.settings.severities),
            closure=closure_view(incident.closure),
            figures=await self.figures(incident),
            updates=tuple(PostedUpdate(u.posted_at, u.kind, u.text) for u in updates),
            timeline=tuple(TimelineLine(e.at, e.actor_id, e.kind, e.detail) for e in timeline),
        )

    async def post(self, client: AsyncWebClient, incident: Incident) -> str | None:
        """Post the report in the channel and attach it as Markdown; a note if the file
        was refused. Both go through the incident's lane of the outbox, so while Slack is
        away they are parked and delivered, in this order, once it answers again."""
        data = await self.data(incident)
        filename = f"inc-{incident.number}-remediation-report.md"
        channel = str(incident.channel_id)
        await self.outbox.call(
            client,
            incident.team_id,
            "chat.postMessage",
            what="the remediation report",
            incident_id=incident.id,
            channel=channel,
            text=f"Remediation report for {data.card.label}",
            blocks=report_blocks(data, filename),
        )
        try:
            await self.outbox.call(
                client,
                incident.team_id,
                UPLOAD,
                what="the remediation report as a Markdown file",
                incident_id=incident.id,
                channel=channel,
                content=report_markdown(data),
                filename=filename,
                title=f"{data.card.label} remediation report",
            )
        except SlackApiError as exc:
            log.warning("INC-%s: report upload failed: %s", incident.number, slack_error(exc))
            return (
                f"The report is posted, but Slack refused the Markdown file "
                f"({slack_error(exc)}); check the app has the files:write scope."
            )
        return None
