"""The update clock: every rule about *when* a customer update or a reminder is due.

Pure functions of times, cadences and settings: no database, no Slack. The services
(``UpdateService``, ``ChangeService``, ``CloseService``, the reminder engine) ask these
and store or schedule what they answer.

* An incident's cadence is its applied playbook's (``cadence:``), else its severity's
  (``CUSTOMER_UPDATE_CADENCE``); a playbook's holds even if the severity changes later.
* The next customer update is due one cadence after the last customer touchpoint, or
  after the declare while there has been none.
* A touchpoint is a written update or "everyone contacted"; either starts the clock again.
* A severity change keeps the base (the last touchpoint) and applies the new cadence.
* A reopen starts the clock again from the reopen.
* A reminder still unanswered after the grace (``REMINDER_GRACE``, else half the cadence)
  escalates; after an escalation the next reminder comes one cadence later.
* A snooze brings the reminder back after the snoozed minutes, as a reminder (not an
  escalation), and does not move the promised update time.
* A follow-up reminder comes every ``FOLLOW_UP_REMINDER`` while customers wait.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.settings import Settings
from storage.models import Incident


def cadence(settings: Settings, incident: Incident) -> timedelta:
    """How often this incident's customers hear from us: its playbook's cadence, else its
    severity's."""
    if incident.cadence_seconds:
        return timedelta(seconds=incident.cadence_seconds)
    return settings.cadence(incident.severity)


def due_after(settings: Settings, incident: Incident, base: datetime | None = None) -> datetime:
    """One cadence after ``base``: by default the last touchpoint, else the declare."""
    start = base or incident.last_update_at or incident.created_at
    return start + cadence(settings, incident)


def first_update_due(settings: Settings, incident: Incident) -> datetime:
    """Right after the declare: one cadence after it."""
    return due_after(settings, incident)


def after_touchpoint(settings: Settings, incident: Incident, at: datetime) -> datetime:
    """A written update or everyone contacted at ``at``: the clock starts again from it."""
    return due_after(settings, incident, at)


def after_severity_change(settings: Settings, incident: Incident) -> datetime:
    """The new severity's cadence, counted from the last touchpoint (not from the change)."""
    return due_after(settings, incident)


def after_reopen(settings: Settings, incident: Incident, reopened_at: datetime) -> datetime:
    """A reopened incident owes its customers an update one cadence after the reopen."""
    return due_after(settings, incident, reopened_at)


def grace(settings: Settings, incident: Incident) -> timedelta:
    """How long past due before a reminder escalates: REMINDER_GRACE, else half the cadence."""
    return settings.reminder_grace or cadence(settings, incident) / 2


def escalation_due(settings: Settings, incident: Incident, reminded_at: datetime) -> datetime:
    """When a reminder nobody answered escalates."""
    return reminded_at + grace(settings, incident)


def reminder_after_escalation(
    settings: Settings, incident: Incident, escalated_at: datetime
) -> datetime:
    """After an escalation the owner is reminded again one cadence later."""
    return escalated_at + cadence(settings, incident)


def snoozed_until(now: datetime, minutes: int) -> datetime:
    """A snooze brings the reminder back after the snoozed minutes."""
    return now + timedelta(minutes=minutes)


def next_follow_up_reminder(settings: Settings, now: datetime) -> datetime:
    """The follow-up owner is reminded every FOLLOW_UP_REMINDER while customers wait."""
    return now + settings.follow_up_reminder
