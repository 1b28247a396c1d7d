"""Recovery figures: did the customers hear from us early, often and honestly, and were they
followed up? Per incident, and over a window of incidents."""

from __future__ import annotations

import itertools
import statistics
from array import array
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from bot.incidents.policy import Status
from messages.report import RecoveryFigures, WindowFigures
from storage.closures import CustomerTally
from storage.models import FOLLOWED_UP, NOT_CONTACTED, AffectedCustomer, CustomerUpdate, Incident


def tally(customers: Sequence[AffectedCustomer]) -> CustomerTally:
    """The counts the figures need, from customer rows already at hand."""
    answers = [c.answer for c in customers if c.contact_state == FOLLOWED_UP]
    return CustomerTally(
        total=len(customers),
        contacted=sum(1 for c in customers if c.contact_state != NOT_CONTACTED),
        followed_up=len(answers),
        satisfied=answers.count("satisfied"),
        not_satisfied=answers.count("not_satisfied"),
    )


def incident_figures(
    incident: Incident,
    updates: Sequence[CustomerUpdate],
    customers: Sequence[AffectedCustomer] | CustomerTally,
    now: datetime,
) -> RecoveryFigures:
    closure = incident.closure
    over = closure is not None and incident.status in (Status.RESOLVED, Status.CLOSED)
    resolved_at = closure.resolved_at if closure is not None and over else None
    end = resolved_at or now
    touchpoints = sorted(u.posted_at for u in updates if u.posted_at <= end)
    counted = customers if isinstance(customers, CustomerTally) else tally(customers)
    # The final update closes the story: it has no due time to be on time for.
    scheduled = [u for u in updates if u.kind != "resolved"]
    return RecoveryFigures(
        first_update_after=touchpoints[0] - incident.created_at if touchpoints else None,
        updates=len(scheduled),
        on_time=sum(1 for u in scheduled if u.due_at is None or u.posted_at <= u.due_at),
        longest_silence=_longest_gap([incident.created_at, *touchpoints, end]),
        customers=counted.total,
        contacted=counted.contacted,
        followed_up=counted.followed_up,
        satisfied=counted.satisfied,
        not_satisfied=counted.not_satisfied,
        time_to_resolve=resolved_at - incident.created_at if resolved_at else None,
    )


def _longest_gap(moments: Sequence[datetime]) -> timedelta:
    gaps = [later - earlier for earlier, later in itertools.pairwise(moments)]
    return max(gaps, default=timedelta(0))


def window_figures(days: int, figures: Iterable[RecoveryFigures]) -> WindowFigures:
    """The same figures across incidents: medians for times, sums for counts."""
    window = WindowTally()
    for f in figures:
        window.add(f)
    return window.figures(days)


class WindowTally:
    """Adds incidents' figures one at a time, keeping only sums and, for the medians, one
    number per incident (so a window of any size is summed in little memory)."""

    COUNTS = ("updates", "on_time", "customers", "contacted", "followed_up", "satisfied")

    def __init__(self) -> None:
        self.incidents = 0
        self.sums = dict.fromkeys((*self.COUNTS, "not_satisfied"), 0)
        self.firsts, self.resolves, self.silences = array("d"), array("d"), array("d")
        self.longest: timedelta | None = None

    def add(self, f: RecoveryFigures) -> None:
        self.incidents += 1
        for name in self.sums:
            self.sums[name] += getattr(f, name)
        if f.first_update_after is not None:
            self.firsts.append(f.first_update_after.total_seconds())
        if f.time_to_resolve is not None:
            self.resolves.append(f.time_to_resolve.total_seconds())
        self.silences.append(f.longest_silence.total_seconds())
        if self.longest is None or f.longest_silence > self.longest:
            self.longest = f.longest_silence

    def figures(self, days: int) -> WindowFigures:
        return WindowFigures(
            days=days,
            incidents=self.incidents,
            resolved=len(self.resolves),
            median_first_update=_median(self.firsts),
            median_longest_silence=_median(self.silences),
            median_time_to_resolve=_median(self.resolves),
            longest_silence=self.longest,
            **self.sums,
        )


def _median(seconds: array[float]) -> timedelta | None:
    if not seconds:
        return None
    return timedelta(seconds=statistics.median(seconds))
