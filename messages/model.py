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


DRILL_MARK = "🧪 DRILL"
"""What every message about a drill carries, so nobody takes it for a real incident."""


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
    """The customers' names: all of them, or only the first few when ``customer_count``
    says how many there are in all."""
    customer_count: int | None = None
    roles: dict[str, str | None] = field(default_factory=dict)
    next_update_due: datetime | None = None
    severities: tuple[str, ...] = ("SEV1", "SEV2", "SEV3")
    next_statuses: tuple[str, ...] = ()
    follow_up_owner: str | None = None
    follow_up_due: date | None = None
    drill: bool = False

    @property
    def label(self) -> str:
        """``INC-7``; a drill's is ``🧪 DRILL · INC-7``, so every message naming it is marked."""
        return f"{DRILL_MARK} · INC-{self.number}" if self.drill else f"INC-{self.number}"

    @property
    def customers_total(self) -> int:
        """How many customers the incident affects."""
        if self.customer_count is None:
            return len(self.affected_customers)
        return self.customer_count


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
    clock: str = ""
    """The contact clock while not contacted: “due in 12 min”, “overdue by 3 min”."""
    contacted_via: str | None = None
    language: str | None = None
    """The customer's own language, when it has one."""
    message: str = ""
    """What to say to this customer when following up (the playbook's template)."""
