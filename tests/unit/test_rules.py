"""Unit tests for the pure rules: channel names, lifecycle, parsing, settings, customers."""

from __future__ import annotations

import pytest

from bot.incidents.channel_names import MAX_CHANNEL_NAME, VALID_CHANNEL_NAME, channel_name, slugify
from bot.incidents.customers import parse_customer_list
from bot.incidents.errors import UserError
from bot.incidents.policy import (
    Status,
    TransitionError,
    check_transition,
    comms_owner,
    next_statuses,
)
from bot.settings import ConfigError, load_settings, parse_cadence
from handlers.parsing import parse_user
from handlers.subcommands import parse_command


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("DB is down!", "inc-7-db-is-down"),
        ("Оплата не проходит", "inc-7-oplata-ne-prokhodit"),
        ("Platba selhává", "inc-7-platba-selhava"),
        ("支付失败", "inc-7-zhifushibai"),
        ("🔥 down", "inc-7-fire-down"),
        ("!!!", "inc-7"),
        ("___", "inc-7"),
    ],
)
def test_channel_names_are_readable_and_valid(title: str, expected: str) -> None:
    name = channel_name(7, title)
    assert name == expected
    assert VALID_CHANNEL_NAME.match(name)


def test_long_titles_and_retries_stay_within_80_characters() -> None:
    title = "Checkout fails for every customer paying with a European card " * 4
    for attempt in range(25):
        name = channel_name(123456, title, attempt)
        assert len(name) <= MAX_CHANNEL_NAME and VALID_CHANNEL_NAME.match(name)
    assert channel_name(1, title, 0) != channel_name(1, title, 1)
    assert channel_name(1, title, 1).endswith("-2")
    assert slugify("A  --  B") == "a-b"


def test_transitions() -> None:
    check_transition(Status.INVESTIGATING, Status.IDENTIFIED)
    check_transition(Status.MONITORING, Status.INVESTIGATING)
    with pytest.raises(TransitionError, match="already"):
        check_transition(Status.IDENTIFIED, Status.IDENTIFIED)
    with pytest.raises(TransitionError, match="/incident close"):
        check_transition(Status.MONITORING, Status.RESOLVED)
    with pytest.raises(TransitionError, match="no longer change"):
        check_transition(Status.RESOLVED, Status.MONITORING)
    assert next_statuses(Status.CLOSED) == ()


def test_comms_falls_back_to_lead() -> None:
    assert comms_owner({"lead": "U1", "comms": None}) == "U1"
    assert comms_owner({"lead": "U1", "comms": "U2"}) == "U2"


def test_command_parsing() -> None:
    assert parse_command("").name == ""
    parsed = parse_command("ROLE comms <@U123|maria>")
    assert (parsed.name, parsed.args) == ("role", ["comms", "<@U123|maria>"])
    with pytest.raises(UserError, match="Did you mean `/incident stats` or `/incident status`"):
        parse_command("stauts identified")
    with pytest.raises(UserError, match="/incident help"):
        parse_command("frobnicate")
    assert parse_user("<@U123ABC|maria>") == "U123ABC"
    assert parse_user("<@W123ABC>") == "W123ABC"
    for bad in ("@maria", "maria", "<#C123>", "<@U1|x"):
        with pytest.raises(UserError, match="not a user mention"):
            parse_user(bad)


def test_customer_lists() -> None:
    assert parse_customer_list("Acme, Globex Corp\n\n  Initech ;acme") == (
        "Acme",
        "Globex Corp",
        "Initech",
    )
    assert parse_customer_list("") == ()
    with pytest.raises(UserError, match="under 200"):
        parse_customer_list("x" * 201)


def test_settings_name_the_broken_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "DATABASE_URL", "PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir("/")
    with pytest.raises(ConfigError, match=r"^SLACK_SIGNING_SECRET is not set"):
        load_settings()
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    with pytest.raises(ConfigError, match=r"^SLACK_BOT_TOKEN is not set"):
        load_settings()
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    monkeypatch.setenv("PORT", "eighty")
    with pytest.raises(ConfigError, match=r"^PORT is malformed"):
        load_settings()
    monkeypatch.setenv("PORT", "8080")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xoxb-wrong")
    with pytest.raises(ConfigError, match=r"^SLACK_APP_TOKEN is malformed: .*xapp-"):
        load_settings()
    monkeypatch.delenv("SLACK_APP_TOKEN")
    monkeypatch.setenv("DATABASE_URL", "mysql://x")
    with pytest.raises(ConfigError, match=r"^DATABASE_URL is malformed"):
        load_settings()
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@db/amends")
    monkeypatch.setenv("CUSTOMER_UPDATE_CADENCE", "SEV1=2s,SEV2=1m")
    settings = load_settings()
    assert settings.database_url == "postgresql+asyncpg://postgres@db/amends"
    assert settings.port == 8080 and settings.severities == ("SEV1", "SEV2")
    assert settings.customer_update_cadence["SEV1"].total_seconds() == 2


def test_cadence_parsing() -> None:
    assert [d.total_seconds() for d in parse_cadence("SEV1=30m, SEV2=1.5h").values()] == [
        1800,
        5400,
    ]
    for bad in ("SEV1", "SEV1=0m", "SEV1=5d", "", "SEV1=1m,sev1=2m"):
        with pytest.raises(ValueError):
            parse_cadence(bad)
