"""Plain data the builders render. Services in ``bot/`` fill these in; builders never do I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

ROLE_ORDER: tuple[str, ...] = ("lead", "comms", "tech", "scribe")
ROLE_LABELS: dict[str, str] = {
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

    @property
    def label(self) -> str:
        return f"INC-{self.number}"
