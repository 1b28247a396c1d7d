"""Recovery figures and the report's timeline folding, on hand-made records."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.incidents.figures import incident_figures, window_figures
from messages.report import TimelineLine, duration, share, timeline_lines
from storage.models import AffectedCustomer, Closure, CustomerUpdate, Incident

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def update(at: float, due: float | None, kind: str = "update") -> CustomerUpdate:
    return CustomerUpdate(
        author_id="U1",
        kind=kind,
        text="x",
        posted_at=minutes(at),
        due_at=None if due is None else minutes(due),
    )


def customer(state: str, answer: str | None = None) -> AffectedCustomer:
    return AffectedCustomer(name="c", name_key="c", position=0, contact_state=state, answer=answer)


def resolved_incident(resolved_after: float) -> Incident:
    incident = Incident(
        team_id="T",
        number=1,
        title="x",
        severity="SEV2",
        status="closed",
        reporter_id="U1",
        created_at=T0,
    )
    incident.closure = Closure(
        root_cause="r",
        follow_up_owner="U1",
        follow_up_due=date(2026, 11, 9),
        resolved_by="U1",
        resolved_at=minutes(resolved_after),
    )
    return incident


def test_figures_of_one_incident() -> None:
    incident = resolved_incident(200)
    updates = [
        update(12, 30),  # first update after 12 min, on time
        update(100, 72),  # late
        update(150, 160),  # on time
        update(210, None, "resolved"),  # the final update: not counted for punctuality
    ]
    customers = [
        customer("followed_up", "satisfied"),
        customer("followed_up", "not_satisfied"),
        customer("contacted"),
        customer("not_contacted"),
    ]
    f = incident_figures(incident, updates, customers, now=minutes(999))
    assert f.first_update_after == timedelta(minutes=12)
    assert (f.on_time, f.updates) == (2, 3)
    assert f.longest_silence == timedelta(minutes=88)
    assert (f.customers, f.contacted, f.followed_up) == (4, 3, 2)
    assert (f.satisfied, f.not_satisfied) == (1, 1)
    assert f.time_to_resolve == timedelta(minutes=200)


def test_an_open_incident_is_silent_until_now_and_has_no_resolve_time() -> None:
    incident = Incident(
        team_id="T",
        number=2,
        title="x",
        severity="SEV2",
        status="investigating",
        reporter_id="U1",
        created_at=T0,
    )
    incident.closure = None
    f = incident_figures(incident, [], [], now=minutes(45))
    assert f.first_update_after is None and f.time_to_resolve is None
    assert f.longest_silence == timedelta(minutes=45) and f.updates == 0


def test_window_takes_medians_of_times_and_sums_of_counts() -> None:
    a = incident_figures(
        resolved_incident(60), [update(10, 30)], [customer("contacted")], minutes(999)
    )
    b = incident_figures(resolved_incident(120), [update(30, 20)], [], minutes(999))
    w = window_figures(30, [a, b])
    assert (w.incidents, w.resolved, w.updates, w.on_time) == (2, 2, 2, 1)
    assert w.median_first_update == timedelta(minutes=20)
    assert w.median_time_to_resolve == timedelta(minutes=90)
    assert w.longest_silence == timedelta(minutes=90)
    assert window_figures(90, []).median_first_update is None


def test_durations_read_in_the_two_largest_units_that_matter() -> None:
    assert [duration(timedelta(seconds=s)) for s in (42, 600, 7500, 200000)] == [
        "42 s",
        "10 min",
        "2 h 05 min",
        "2 d 7 h",
    ]


def test_a_share_reads_as_a_fraction_with_its_percentage() -> None:
    assert share(1, 3) == "1/3 (33%)"


@pytest.mark.parametrize("missing", [duration(None), share(0, 0)])
def test_a_figure_with_nothing_to_measure_is_a_dash(missing: str) -> None:
    assert missing == "—"


def test_bulk_customer_changes_fold_into_one_timeline_line() -> None:
    events = [TimelineLine(minutes(0), "U1", "declared", "Checkout down")]
    events += [TimelineLine(minutes(1), "U2", "customer_contacted", f"C{i}") for i in range(998)]
    events += [TimelineLine(minutes(1), "U3", "customer_contacted", "C998")]
    events += [TimelineLine(minutes(5), "U1", "resolved", "config\nchange")]
    lines = timeline_lines(events)
    assert len(lines) == 4
    assert lines[1].endswith("U2: customer_contacted x998 (C0, C1, C2, C3, C4 …)")
    assert lines[2].endswith("U3: customer_contacted x1 (C998)")
    assert lines[3].endswith("U1: resolved: config change")
