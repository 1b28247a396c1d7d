"""Customer messages drafted from a playbook's templates, placeholders filled in.

A template is chosen by phase and language: the language asked for, else the playbook's own
language; a playbook without that phase drafts nothing (the caller falls back to its own
draft). Times are written with their time zone, ``14:05 UTC``, because customers read them
wherever they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from bot.playbooks.model import PHASES, Phase, Playbook
from storage.models import Incident

UNKNOWN_TITLE = "[what is affected]"
UNKNOWN_IMPACT = "[what customers notice]"
UNKNOWN_CUSTOMER = "[customer]"
UNKNOWN_TIME = "[time]"
"""What a placeholder reads when Amends does not know it yet: bracketed, so the tone check's
"leftover template text" rule asks the author to fill it in."""


@dataclass(frozen=True)
class Facts:
    """What the placeholders of a template stand for."""

    title: str
    """The customer-facing title (the internal one never reaches customers)."""
    started: datetime
    next_update: datetime | None = None
    impact: str = ""
    customer: str = ""


def clock_time(moment: datetime | None) -> str:
    """``14:05 UTC``: the time with its zone spelled out (a naive time is taken as UTC)."""
    if moment is None:
        return UNKNOWN_TIME
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return f"{moment.astimezone(UTC):%H:%M} UTC"


def fill(template: str, facts: Facts) -> str:
    """The template with every ``{placeholder}`` replaced; ``{{`` and ``}}`` become braces."""
    return template.format(
        title=facts.title.strip() or UNKNOWN_TITLE,
        started=clock_time(facts.started),
        next_update=clock_time(facts.next_update),
        impact=facts.impact.strip() or UNKNOWN_IMPACT,
        customer=facts.customer.strip() or UNKNOWN_CUSTOMER,
    )


def template_for(playbook: Playbook, phase: Phase, language: str) -> str | None:
    """The template for ``phase`` in ``language``, else in the playbook's own language."""
    for lang in (language, playbook.language):
        templates = playbook.templates.get(lang)  # type: ignore[call-overload]
        text: str | None = getattr(templates, phase, None) if templates else None
        if text:
            return text
    return None


def draft(playbook: Playbook, phase: Phase, language: str, facts: Facts) -> str | None:
    """The playbook's message for ``phase`` in ``language`` filled with ``facts``, if it has one."""
    template = template_for(playbook, phase, language)
    return fill(template, facts) if template else None


def phase_of(status: str) -> Phase | None:
    """The template phase of an incident status (``closed`` has none)."""
    return next((phase for phase in PHASES if phase == status), None)


def incident_draft(
    playbook: Playbook,
    incident: Incident,
    phase: Phase | None,
    language: str,
    next_update: datetime | None = None,
    customer: str = "",
) -> str | None:
    """The playbook's message for ``incident`` in ``phase``, filled with what it knows."""
    if phase is None:
        return None
    facts = Facts(
        title=incident.public_title or "",
        started=incident.created_at,
        next_update=next_update,
        impact=incident.impact_text or "",
        customer=customer,
    )
    return draft(playbook, phase, language, facts)
