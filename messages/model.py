"""Plain data the builders render. Services in ``bot/`` fill these in; builders never do I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

ROLE_LABELS: dict[str, str] = {
    # one label per role in ``ROLES`` (bot/incidents/policy.py)
    "lead": "Incident lead",
    "comms": "Customer comms",
    "tech": "Tech lead",
    "scribe": "Scribe",
}


@dataclass(frozen=True)
class IncidentCard:
    """Everything a message about one incident may show."""

    team_id: str
    number: int
    title: str
    severity: str
    status: str
    reporter_id: str
    channel_id: str | None
    created_at: datetime
    description: str = ""
    customer_impact: bool = False
    impact_text: str = ""
    affected_customers: tuple[str, ...] = ()
    roles: dict[str, str | None] = field(default_factory=dict)
    next_update_due: datetime | None = None
    severities: tuple[str, ...] = ("SEV1", "SEV2", "SEV3")
    next_statuses: tuple[str, ...] = ()
    follow_up_owner: str | None = None
    follow_up_due: date | None = None

    @property
    def label(self) -> str:
        return f"INC-{self.number}"


ANSWER_LABELS: dict[str, str] = {
    "satisfied": "Satisfied",
    "not_satisfied": "Not satisfied",
    "no_answer": "No answer",
}
"""What a customer said when followed up."""


@dataclass(frozen=True)
class CustomerRow:
    """One affected customer as a checklist shows it."""

    id: int
    name: str
    state: str
    contacted_by: str | None = None
    contacted_at: datetime | None = None
    followed_up_by: str | None = None
    followed_up_at: datetime | None = None
    answer: str | None = None
