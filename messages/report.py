"""The remediation report (for customers), the internal summary, and the recovery figures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from messages.blocks import Block, context, escape_within, header, section
from messages.closing import ClosureView
from messages.model import IncidentCard

PART_MAX = 2800
TIMELINE_GROUPED = ("customer_added", "customer_contacted", "customer_followed_up")
"""Bulk changes: shown as one line per person and minute, with the count."""


@dataclass(frozen=True)
class RecoveryFigures:
    first_update_after: timedelta | None
    updates: int
    on_time: int
    longest_silence: timedelta
    customers: int
    contacted: int
    followed_up: int
    satisfied: int
    not_satisfied: int
    time_to_resolve: timedelta | None


@dataclass(frozen=True)
class WindowFigures:
    days: int
    incidents: int
    resolved: int
    median_first_update: timedelta | None
    updates: int
    on_time: int
    longest_silence: timedelta | None
    median_longest_silence: timedelta | None
    customers: int
    contacted: int
    followed_up: int
    satisfied: int
    not_satisfied: int
    median_time_to_resolve: timedelta | None


@dataclass(frozen=True)
class TimelineLine:
    at: datetime
    actor: str
    kind: str
    detail: str


@dataclass(frozen=True)
class PostedUpdate:
    at: datetime
    kind: str
    text: str


@dataclass(frozen=True)
class ReportData:
    card: IncidentCard
    closure: ClosureView
    figures: RecoveryFigures
    updates: tuple[PostedUpdate, ...]
    timeline: tuple[TimelineLine, ...]


def duration(value: timedelta | None) -> str:
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min" if minutes else f"{int(value.total_seconds())} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    return f"{hours // 24} d {hours % 24} h"


def share(part: int, whole: int) -> str:
    return f"{part}/{whole} ({round(100 * part / whole)}%)" if whole else "—"


def figure_lines(f: RecoveryFigures) -> list[tuple[str, str]]:
    answered = f.satisfied + f.not_satisfied
    return [
        ("Time to first customer update", duration(f.first_update_after)),
        ("Updates on time", share(f.on_time, f.updates)),
        ("Longest silence", duration(f.longest_silence)),
        ("Customers contacted", share(f.contacted, f.customers)),
        ("Customers followed up", share(f.followed_up, f.customers)),
        ("Satisfied (of those who answered)", share(f.satisfied, answered)),
        ("Time to resolve", duration(f.time_to_resolve)),
    ]


def window_lines(w: WindowFigures) -> list[tuple[str, str]]:
    answered = w.satisfied + w.not_satisfied
    return [
        ("Incidents declared", str(w.incidents)),
        ("Resolved", str(w.resolved)),
        ("Median time to first customer update", duration(w.median_first_update)),
        ("Updates on time", share(w.on_time, w.updates)),
        ("Longest silence (worst / median)", _pair(w.longest_silence, w.median_longest_silence)),
        ("Customers contacted", share(w.contacted, w.customers)),
        ("Customers followed up", share(w.followed_up, w.customers)),
        ("Satisfied (of those who answered)", share(w.satisfied, answered)),
        ("Median time to resolve", duration(w.median_time_to_resolve)),
    ]


def _pair(worst: timedelta | None, median: timedelta | None) -> str:
    return f"{duration(worst)} / {duration(median)}"


def figures_blocks(title: str, lines: Sequence[tuple[str, str]]) -> list[Block]:
    return [
        section(f"*{title}*"),
        section(fields=[f"*{name}*\n{value}" for name, value in lines]),
    ]


def window_blocks(w: WindowFigures) -> list[Block]:
    blocks = figures_blocks(f"Recovery figures, last {w.days} days", window_lines(w))
    if not w.incidents:
        blocks.append(context("No incidents were declared in this window."))
    return blocks


def customer_parts(data: ReportData) -> list[tuple[str, str]]:
    """The remediation report for customers: plain words, nothing internal."""
    c, card = data.closure, data.card
    return [
        ("What happened", c.impact_summary or card.impact_text or card.title),
        ("Why it happened", c.root_cause),
        ("What we did", c.resolution or "We fixed the cause and checked the service works."),
        ("What changes", c.prevention or "We are reviewing how to stop this happening again."),
        ("What you get", c.amends or "We will contact you personally to put things right."),
    ]


def report_blocks(data: ReportData, filename: str) -> list[Block]:
    blocks: list[Block] = [header(f"Remediation report · {data.card.label}")]
    for title, text in customer_parts(data):
        blocks.append(section(f"*{title}*\n" + escape_within(text, PART_MAX)))
    blocks.extend(figures_blocks("Recovery figures", figure_lines(data.figures)))
    blocks.append(context(f"The full report with the internal timeline is in `{filename}`."))
    return blocks


def report_markdown(data: ReportData) -> str:
    card = data.card
    out = [f"# {card.label}: {card.title}", "", "## Remediation report (for customers)", ""]
    for title, text in customer_parts(data):
        out += [f"### {title}", "", text, ""]
    out += ["## Internal summary", "", f"- Severity: {card.severity}", f"- Status: {card.status}"]
    out += [f"- Follow-up owner: {data.closure.follow_up_owner}, due {data.closure.follow_up_due}"]
    out += ["", "### Recovery figures", ""]
    out += [f"- {name}: {value}" for name, value in figure_lines(data.figures)]
    out += ["", "### Customer updates", ""]
    out += [f"- {u.at:%Y-%m-%d %H:%M} UTC ({u.kind}): {_one_line(u.text)}" for u in data.updates]
    out += ["", "### Timeline", ""]
    out += [f"- {line}" for line in timeline_lines(data.timeline)]
    return "\n".join(out) + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def timeline_lines(timeline: Sequence[TimelineLine]) -> list[str]:
    """One line per event; bulk customer changes by one person in one minute folded."""
    lines: list[str] = []
    group: list[TimelineLine] = []

    def flush() -> None:
        if group:
            first = group[0]
            names = ", ".join(e.detail for e in group[:5]) + (" …" if len(group) > 5 else "")
            lines.append(f"{_stamp(first)} {first.actor}: {first.kind} x{len(group)} ({names})")
            group.clear()

    for event in timeline:
        if event.kind in TIMELINE_GROUPED:
            if group and (group[0].kind, group[0].actor, _minute(group[0])) != (
                event.kind,
                event.actor,
                _minute(event),
            ):
                flush()
            group.append(event)
            continue
        flush()
        detail = f": {_one_line(event.detail)}" if event.detail else ""
        lines.append(f"{_stamp(event)} {event.actor}: {event.kind}{detail}")
    flush()
    return lines


def _stamp(event: TimelineLine) -> str:
    return f"{event.at:%Y-%m-%d %H:%M} UTC"


def _minute(event: TimelineLine) -> str:
    return f"{event.at:%Y%m%d%H%M}"
