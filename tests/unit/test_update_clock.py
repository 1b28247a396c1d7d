"""When the next customer update is due, when an overdue one escalates, and what a snooze does.

The rules live in ``bot/incidents/clock.py`` (pure functions of times, cadences and
settings); the services store and schedule what it answers. The last tests check that a
snooze, done through the services on a database, schedules what the clock says.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.incidents import clock
from bot.observability.metrics import Metrics
from bot.runtime.services import Services
from bot.settings import Settings, load_settings
from storage.db import migrate
from storage.models import Incident, utcnow
from storage.repository import IncidentStore, NewIncident

DECLARED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CADENCE = "SEV1=30m,SEV2=60m,SEV3=120m"


def settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "slack_bot_token": "xoxb-test",
        "slack_signing_secret": "secret",
        "database_url": "sqlite+aiosqlite:///:memory:",
        "customer_update_cadence": CADENCE,
    }
    return load_settings(**{**values, **overrides})


def incident(
    severity: str = "SEV2", last_update: datetime | None = None, cadence_seconds: int | None = None
) -> Incident:
    return Incident(
        severity=severity,
        created_at=DECLARED,
        last_update_at=last_update,
        cadence_seconds=cadence_seconds,
    )


# -- when the next update is due ------------------------------------------------------------


@pytest.mark.parametrize(("severity", "minutes"), [("SEV1", 30), ("SEV2", 60), ("SEV3", 120)])
def test_the_first_update_is_due_one_cadence_of_its_severity_after_the_declare(
    severity: str, minutes: int
) -> None:
    due = clock.first_update_due(settings(), incident(severity))
    assert due == DECLARED + timedelta(minutes=minutes)


def test_after_an_update_the_next_is_due_one_cadence_after_that_update() -> None:
    posted = DECLARED + timedelta(minutes=25)
    due = clock.after_touchpoint(settings(), incident("SEV1"), posted)
    assert due == posted + timedelta(minutes=30)


def test_everyone_contacted_starts_the_clock_again_like_an_update() -> None:
    contacted = DECLARED + timedelta(minutes=50)
    earlier = incident("SEV2", DECLARED + timedelta(minutes=10))
    due = clock.after_touchpoint(settings(), earlier, contacted)
    assert due == contacted + timedelta(minutes=60)


def test_the_last_recorded_update_counts_when_no_new_base_is_given() -> None:
    last = DECLARED + timedelta(minutes=40)
    assert clock.due_after(settings(), incident("SEV2", last)) == last + timedelta(minutes=60)


def test_after_a_severity_change_the_new_cadence_counts_from_the_last_update() -> None:
    last = DECLARED + timedelta(minutes=10)
    raised = incident("SEV1", last)
    assert clock.after_severity_change(settings(), raised) == last + timedelta(minutes=30)


def test_with_no_update_yet_a_new_severity_counts_from_the_declare() -> None:
    lowered = incident("SEV3")
    assert clock.after_severity_change(settings(), lowered) == DECLARED + timedelta(minutes=120)


def test_after_a_reopen_the_next_update_is_due_one_cadence_after_the_reopen() -> None:
    reopened = DECLARED + timedelta(days=2)
    long_ago = incident("SEV3", DECLARED + timedelta(hours=1))
    due = clock.after_reopen(settings(), long_ago, reopened)
    assert due == reopened + timedelta(minutes=120)


def test_the_cadence_is_configurable_per_severity() -> None:
    custom = settings(customer_update_cadence="SEV1=5m,SEV2=7m")
    assert clock.first_update_due(custom, incident("SEV2")) == DECLARED + timedelta(minutes=7)


# -- a playbook's cadence ----------------------------------------------------------------------


def test_a_playbook_cadence_sets_when_the_next_update_is_due() -> None:
    due = clock.first_update_due(settings(), incident("SEV2", cadence_seconds=20 * 60))
    assert due == DECLARED + timedelta(minutes=20)


def test_without_a_playbook_cadence_the_severity_cadence_holds() -> None:
    assert clock.cadence(settings(), incident("SEV2")) == timedelta(minutes=60)


def test_a_playbook_cadence_holds_after_a_severity_change() -> None:
    raised = incident("SEV1", cadence_seconds=20 * 60)
    assert clock.after_severity_change(settings(), raised) == DECLARED + timedelta(minutes=20)


def test_an_overdue_update_escalates_after_half_the_playbook_cadence() -> None:
    playbook = incident("SEV2", cadence_seconds=20 * 60)
    assert clock.grace(settings(), playbook) == timedelta(minutes=10)


# -- the grace before escalation ------------------------------------------------------------


@pytest.mark.parametrize(("severity", "minutes"), [("SEV1", 15), ("SEV2", 30), ("SEV3", 60)])
def test_without_reminder_grace_an_overdue_update_escalates_after_half_its_cadence(
    severity: str, minutes: int
) -> None:
    assert clock.grace(settings(), incident(severity)) == timedelta(minutes=minutes)


def test_a_configured_reminder_grace_applies_to_every_severity() -> None:
    config = settings(reminder_grace="5m")
    assert [clock.grace(config, incident(s)) for s in config.severities] == [
        timedelta(minutes=5)
    ] * 3


def test_an_unanswered_reminder_escalates_one_grace_after_it_was_sent() -> None:
    reminded = DECLARED + timedelta(minutes=30)
    due = clock.escalation_due(settings(), incident("SEV1"), reminded)
    assert due == reminded + timedelta(minutes=15)


def test_after_an_escalation_the_next_reminder_comes_one_cadence_later() -> None:
    escalated = DECLARED + timedelta(minutes=45)
    due = clock.reminder_after_escalation(settings(), incident("SEV2"), escalated)
    assert due == escalated + timedelta(minutes=60)


# -- snooze and the follow-up ---------------------------------------------------------------


@pytest.mark.parametrize("minutes", [15, 30, 60])
def test_a_snooze_is_due_again_after_the_snoozed_minutes(minutes: int) -> None:
    assert clock.snoozed_until(DECLARED, minutes) == DECLARED + timedelta(minutes=minutes)


def test_the_follow_up_owner_is_reminded_every_follow_up_reminder() -> None:
    config = settings(follow_up_reminder="6h")
    assert clock.next_follow_up_reminder(config, DECLARED) == DECLARED + timedelta(hours=6)


# -- the effect of snooze (the smallest real object holding it: the services on a database) --


@dataclass
class Clocked:
    services: Services
    incident: Incident


@pytest.fixture
async def clocked(engine: AsyncEngine) -> AsyncIterator[Clocked]:
    """An active SEV1 incident whose next update is planned, on a migrated database."""
    await migrate(engine)
    store = IncidentStore(engine)
    services = Services.build(settings(), store, _no_slack, Metrics())
    new = NewIncident(
        team_id="T1",
        title="Checkout down",
        severity="SEV1",
        status="identified",
        reporter_id="UALICE",
    )
    created = await store.create_pending(new)
    due = clock.first_update_due(services.settings, created)
    created.next_update_due = await services.updates.replan(created, due)
    yield Clocked(services, created)


async def _no_slack(team_id: str) -> None:
    raise AssertionError("a snooze with no reminder message on screen needs no Slack call")


@pytest.mark.parametrize("minutes", [15, 60])
async def test_a_snooze_brings_the_reminder_back_after_the_snoozed_minutes(
    clocked: Clocked, minutes: int
) -> None:
    before = utcnow()
    await clocked.services.updates.snooze(None, clocked.incident, "UBOB", minutes)  # type: ignore[arg-type]
    reminder = await clocked.services.reminders.get(clocked.incident.id)
    assert reminder is not None
    assert (
        before + timedelta(minutes=minutes)
        <= reminder.due_at
        <= utcnow() + timedelta(minutes=minutes)
    )


async def test_a_snoozed_reminder_comes_back_as_a_reminder_not_an_escalation(
    clocked: Clocked,
) -> None:
    await clocked.services.updates.snooze(None, clocked.incident, "UBOB", 15)  # type: ignore[arg-type]
    reminder = await clocked.services.reminders.get(clocked.incident.id)
    assert reminder is not None and reminder.stage == "due"


async def test_a_snooze_leaves_the_promised_update_time_unchanged(clocked: Clocked) -> None:
    await clocked.services.updates.snooze(None, clocked.incident, "UBOB", 60)  # type: ignore[arg-type]
    fresh = await clocked.services.store.reload(clocked.incident.id)
    assert fresh.next_update_due == clocked.incident.next_update_due
