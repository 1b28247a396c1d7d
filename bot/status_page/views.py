"""What the pages show, shaped for the templates: labels, links and the follow-up in words.

Built only from ``storage.status`` records, which hold nothing internal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.incidents.policy import REOPENABLE
from bot.settings import Settings
from bot.status_page import incident_url
from messages.model import ANSWER_LABELS
from storage.status import CustomerIncident, PublicIncident, PublicUpdate

STATUS_LABELS = {
    "investigating": "Investigating",
    "identified": "Identified",
    "monitoring": "Monitoring",
    "resolved": "Resolved",
    "closed": "Resolved",
}


@dataclass(frozen=True)
class IncidentView:
    public_id: str
    title: str
    url: str
    status_label: str
    resolved: bool
    started_at: datetime
    resolved_at: datetime | None
    next_update_due: datetime | None
    """Only while the incident is not resolved."""
    updates: tuple[PublicUpdate, ...]
    latest: PublicUpdate | None
    channels: str = ""
    contacted_at: datetime | None = None
    amends: str = ""
    follow_up: str = ""


def incident_view(settings: Settings, incident: PublicIncident) -> IncidentView:
    resolved = incident.status in REOPENABLE
    return IncidentView(
        public_id=incident.public_id,
        title=incident.title or f"Service incident of {incident.started_at:%Y-%m-%d}",
        url=incident_url(settings, incident.public_id),
        status_label=STATUS_LABELS.get(incident.status, incident.status.capitalize()),
        resolved=resolved,
        started_at=incident.started_at,
        resolved_at=incident.resolved_at,
        next_update_due=None if resolved else incident.next_update_due,
        updates=incident.updates,
        latest=incident.updates[0] if incident.updates else None,
    )


def customer_incident_view(settings: Settings, record: CustomerIncident) -> IncidentView:
    view = incident_view(settings, record.incident)
    return IncidentView(
        **{
            **view.__dict__,
            "channels": update_channels(settings),
            "contacted_at": record.contacted_at,
            "amends": record.amends,
            "follow_up": follow_up_words(record),
        }
    )


def update_channels(settings: Settings) -> str:
    """Where every customer update went. The contact records of direct delivery (Slack
    Connect, e-mail) are another branch's: when they land, name each update's own here."""
    places = ["published on the status page"]
    if settings.customer_channel:
        places.append("in our customer channel in Slack")
    return " and ".join(places)


def follow_up_words(record: CustomerIncident) -> str:
    if record.followed_up_at is not None:
        answer = ANSWER_LABELS.get(record.answer or "", "")
        told = f" You told us: {answer}." if answer else ""
        return f"We followed up with you on {record.followed_up_at:%Y-%m-%d}.{told}"
    if record.follow_up_due is not None:
        return f"We will follow up with you by {record.follow_up_due:%Y-%m-%d}."
    return ""
