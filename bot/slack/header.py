"""Turn stored incidents into the plain cards the message builders render, and keep the
pinned header showing the current card."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.incidents.policy import ROLES, next_statuses
from bot.slack.outbox import Outbox
from messages.closing import ClosureView
from messages.header import channel_topic, incident_header, incident_header_text
from messages.model import IncidentCard
from storage.models import Closure, Incident


def incident_card(
    incident: Incident,
    severities: tuple[str, ...],
    customer_names: tuple[str, ...] | None = None,
) -> IncidentCard:
    """The card of a stored incident, as the repository loads it for rendering (its first
    few customers and their count). ``customer_names``, when given, stands for all of the
    incident's customers instead (a path that has them at hand, or shows none, passes them)."""
    if customer_names is None:
        names = tuple(customer.name for customer in incident.first_customers)
        count = incident.customer_count
        if count is None:
            raise ValueError("the incident was loaded without its customer count")
    else:
        names, count = customer_names, len(customer_names)
    return IncidentCard(
        team_id=incident.team_id,
        number=incident.number,
        title=incident.title,
        severity=incident.severity,
        status=incident.status,
        reporter_id=incident.reporter_id,
        channel_id=incident.channel_id,
        created_at=incident.created_at,
        description=incident.description,
        customer_impact=incident.customer_impact,
        impact_text=incident.impact_text,
        affected_customers=names,
        customer_count=count,
        roles=role_holders(incident),
        next_update_due=incident.next_update_due,
        severities=severities,
        next_statuses=tuple(s.value for s in next_statuses(incident.status)),
        follow_up_owner=incident.closure.follow_up_owner if incident.closure else None,
        follow_up_due=incident.closure.follow_up_due if incident.closure else None,
        drill=incident.drill,
    )


def role_holders(incident: Incident) -> dict[str, str | None]:
    """Who holds each role (None where nobody does)."""
    holders = {assignment.role: assignment.user_id for assignment in incident.roles}
    return {role: holders.get(role) for role in ROLES}


def closure_view(closure: Closure) -> ClosureView:
    return ClosureView(
        root_cause=closure.root_cause,
        resolution=closure.resolution,
        impact_summary=closure.impact_summary,
        amends=closure.amends,
        prevention=closure.prevention,
        follow_up_owner=closure.follow_up_owner,
        follow_up_due=closure.follow_up_due,
    )


async def refresh_header(
    outbox: Outbox,
    client: AsyncWebClient,
    incident: Incident,
    severities: tuple[str, ...],
    *,
    topic: bool = False,
    in_order: bool = False,
) -> None:
    """Edit the pinned header (and optionally the topic) in place to show ``incident``.

    Only the newest state matters, so an edit parked while Slack is away replaces any
    older parked edit of the same header. ``in_order`` puts the edits in the incident's
    lane, behind its parked calls (a reopen's edit must wait for the unarchive).
    """
    if not incident.channel_id or not incident.header_ts:
        return
    card = incident_card(incident, severities)
    lane = incident.id if in_order else None
    await outbox.call(
        client,
        incident.team_id,
        "chat.update",
        what="the incident header",
        key=f"header:{incident.id}",
        incident_id=lane,
        channel=incident.channel_id,
        ts=incident.header_ts,
        text=incident_header_text(card),
        blocks=incident_header(card),
    )
    if topic:
        await outbox.call(
            client,
            incident.team_id,
            "conversations.setTopic",
            what="the channel topic",
            key=f"topic:{incident.id}",
            incident_id=lane,
            channel=incident.channel_id,
            topic=channel_topic(card),
        )
