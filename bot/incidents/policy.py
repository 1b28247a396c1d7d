"""The incident lifecycle rules, in one place: statuses, transitions, roles, limits."""

from __future__ import annotations

from messages import refusals
from storage.models import Status

__all__ = ["Status"]  # the status vocabulary is stored with the incident; its rules are here


ACTIVE_STATUSES: tuple[Status, ...] = (Status.INVESTIGATING, Status.IDENTIFIED, Status.MONITORING)
OPEN_STATUSES: tuple[Status, ...] = (*ACTIVE_STATUSES, Status.RESOLVED)

_TRANSITIONS: dict[Status, tuple[Status, ...]] = {
    Status.INVESTIGATING: (Status.IDENTIFIED, Status.MONITORING),
    Status.IDENTIFIED: (Status.INVESTIGATING, Status.MONITORING),
    Status.MONITORING: (Status.INVESTIGATING, Status.IDENTIFIED),
    Status.RESOLVED: (),
    Status.CLOSED: (),
}

ROLES: tuple[str, ...] = ("lead", "comms", "tech", "scribe")
"""The incident roles, in the order the header shows them."""


class TransitionError(ValueError):
    """A status change the lifecycle does not allow; the message says what to do instead."""


def next_statuses(current: Status) -> tuple[Status, ...]:
    """Statuses reachable from ``current`` with ``/incident status``."""
    return _TRANSITIONS[current]


def check_transition(current: Status, target: Status) -> None:
    """Raise :class:`TransitionError` unless ``current`` may move to ``target``."""
    if target == current:
        raise TransitionError(refusals.already_status(current))
    if target in (Status.RESOLVED, Status.CLOSED):
        raise TransitionError(refusals.resolve_with_close())
    if current not in ACTIVE_STATUSES:
        raise TransitionError(refusals.status_settled(current))
    if target not in _TRANSITIONS[current]:
        allowed = ", ".join(s.value for s in _TRANSITIONS[current])
        raise TransitionError(refusals.cannot_move(current, allowed))


def comms_owner(roles: dict[str, str | None]) -> str | None:
    """Who owns customer communication: the comms holder, else the lead."""
    return roles.get("comms") or roles.get("lead")


REOPENABLE: tuple[Status, ...] = (Status.RESOLVED, Status.CLOSED)


def closers(roles: dict[str, str | None], admins: frozenset[str]) -> set[str]:
    """Who may close an incident: its lead, its comms owner, and the configured admins."""
    named = {roles.get("lead"), comms_owner(roles)}
    return {user for user in named if user} | set(admins)


def check_may_close(
    number: int, status: Status, roles: dict[str, str | None], admins: frozenset[str], user: str
) -> None:
    """Raise :class:`CloseRefused` unless ``user`` may close incident ``number`` now."""
    if status == Status.RESOLVED:
        raise CloseRefused(refusals.already_resolved(number))
    if status == Status.CLOSED:
        raise CloseRefused(refusals.already_closed(number))
    if user not in closers(roles, admins):
        raise CloseRefused(refusals.who_may_close(number, _who(roles)))


def check_may_assign(
    number: int, role: str, roles: dict[str, str | None], admins: frozenset[str], user: str
) -> None:
    """Handing over the lead is limited like closing; the other roles anyone in it may fill."""
    if role == "lead" and user not in closers(roles, admins):
        raise CloseRefused(refusals.who_may_hand_over_the_lead(number, _who(roles)))


def _who(roles: dict[str, str | None]) -> str:
    holders = dict.fromkeys(u for u in (roles.get("lead"), comms_owner(roles)) if u)
    return " or ".join(f"<@{u}>" for u in holders)


class CloseRefused(ValueError):
    """The close is not possible now, or not by this person; the message says why."""
