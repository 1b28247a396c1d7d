"""An incident with a playbook's cadence: the update clock and the escalation follow it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.incidents.updates import UpdateService, incident_cadence
from bot.settings import Settings, load_settings
from storage.models import Incident

DECLARED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "slack_bot_token": "xoxb-test",
        "slack_signing_secret": "secret",
        "database_url": "sqlite+aiosqlite:///:memory:",
        "customer_update_cadence": "SEV1=30m,SEV2=60m,SEV3=120m",
    }
    return load_settings(**{**values, **overrides})


def incident(cadence_seconds: int | None) -> Incident:
    return Incident(severity="SEV2", created_at=DECLARED, cadence_seconds=cadence_seconds)


def clock() -> UpdateService:
    return UpdateService(None, None, settings(), lambda _due: None, None)  # type: ignore[arg-type]


def test_a_playbook_cadence_sets_when_the_next_update_is_due() -> None:
    assert clock().due_after(incident(20 * 60)) == DECLARED + timedelta(minutes=20)


def test_without_a_playbook_cadence_the_severity_cadence_holds() -> None:
    assert incident_cadence(settings(), incident(None)) == timedelta(minutes=60)


def test_an_overdue_update_escalates_after_half_the_playbook_cadence() -> None:
    config = settings()
    cadence = incident_cadence(config, incident(20 * 60))
    assert config.grace("SEV2", cadence) == timedelta(minutes=10)
