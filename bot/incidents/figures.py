"""Recovery figures: did the customers hear from us early, often and honestly, and were they
followed up? Per incident, and over a window of incidents."""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence
from datetime import datetime, timedelta

from messages.report import RecoveryFigures, WindowFigures
from storage.models import FOLLOWED_UP, NOT_CONTACTED, AffectedCustomer, CustomerUpdate, Incident


def incident_figures(
    incident: Incident,
    updates: Sequence[CustomerUpdate],
    customers: Sequence[AffectedCustomer],
    now: datetime,
) -> RecoveryFigures:
    closure = incident.closure
    over = closure is not None and incident.status in ("resolved", "closed")
    resolved_at = closure.resolved_at if closure is not None and over else None
    end = resolved_at or now
    touchpoints = sorted(u.posted_at for u in updates if u.posted_at <= end)
    answers = [c.answer for c in customers if c.contact_state == FOLLOWED_UP]
    # The final update closes the story: it has no due time to be on time for.
    scheduled = [u for u in updates if u.kind != "resolved"]
    return RecoveryFigures(
        first_update_after=touchpoints[0] - incident.created_at if touchpoints else None,
        updates=len(scheduled),
        on_time=sum(1 for u in scheduled if u.due_at is None or u.posted_at <= u.due_at),
        longest_silence=_longest_gap([incident.created_at, *touchpoints, end]),
        customers=len(customers),
        contacted=sum(1 for c in customers if c.contact_state != NOT_CONTACTED),
        followed_up=len(answers),
        satisfied=answers.count("satisfied"),
        not_satisfied=answers.count("not_satisfied"),
        time_to_resolve=resolved_at - incident.created_at if resolved_at else None,
    )


def _longest_gap(moments: Sequence[datetime]) -> timedelta:
    gaps = [later - earlier for earlier, later in itertools.pairwise(moments)]
    return max(gaps, default=timedelta(0))


def window_figures(days: int, figures: Sequence[RecoveryFigures]) -> WindowFigures:
    """The same figures across incidents: medians for times, sums for counts."""
    firsts = [f.first_update_after for f in figures if f.first_update_after is not None]
    resolves = [f.time_to_resolve for f in figures if f.time_to_resolve is not None]
    silences = [f.longest_silence for f in figures]
    return WindowFigures(
        days=days,
        incidents=len(figures),
        resolved=len(resolves),
        median_first_update=_median(firsts),
        updates=sum(f.updates for f in figures),
        on_time=sum(f.on_time for f in figures),
        longest_silence=max(silences, default=None),
        median_longest_silence=_median(silences),
        customers=sum(f.customers for f in figures),
        contacted=sum(f.contacted for f in figures),
        followed_up=sum(f.followed_up for f in figures),
        satisfied=sum(f.satisfied for f in figures),
        not_satisfied=sum(f.not_satisfied for f in figures),
        median_time_to_resolve=_median(resolves),
    )


def _median(values: Sequence[timedelta]) -> timedelta | None:
    if not values:
        return None
    return timedelta(seconds=statistics.median(v.total_seconds() for v in values))
