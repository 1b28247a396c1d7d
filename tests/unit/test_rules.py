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


LONG_TITLE = "Checkout fails for every customer paying with a European card " * 4


@pytest.mark.parametrize("attempt", range(25))
def test_a_long_title_makes_a_valid_name_within_80_characters_on_every_retry(
    attempt: int,
) -> None:
    name = channel_name(123456, LONG_TITLE, attempt)
    assert len(name) <= MAX_CHANNEL_NAME and VALID_CHANNEL_NAME.match(name)


def test_a_retry_after_a_name_clash_numbers_the_name_from_2() -> None:
    assert channel_name(1, LONG_TITLE, 0) != channel_name(1, LONG_TITLE, 1)
    assert channel_name(1, LONG_TITLE, 1).endswith("-2")


def test_runs_of_spaces_and_dashes_become_one_dash() -> None:
    assert slugify("A  --  B") == "a-b"


@pytest.mark.parametrize(
    ("current", "target"),
    [(Status.INVESTIGATING, Status.IDENTIFIED), (Status.MONITORING, Status.INVESTIGATING)],
)
def test_an_active_incident_may_move_between_active_statuses(
    current: Status, target: Status
) -> None:
    check_transition(current, target)


def test_moving_to_the_current_status_is_refused_as_already_there() -> None:
    with pytest.raises(TransitionError, match="already"):
        check_transition(Status.IDENTIFIED, Status.IDENTIFIED)


def test_resolving_by_status_points_to_the_close_command() -> None:
    with pytest.raises(TransitionError, match="/incident close"):
        check_transition(Status.MONITORING, Status.RESOLVED)


def test_a_resolved_incident_status_no_longer_changes() -> None:
    with pytest.raises(TransitionError, match="no longer change"):
        check_transition(Status.RESOLVED, Status.MONITORING)


def test_a_closed_incident_has_no_next_status() -> None:
    assert next_statuses(Status.CLOSED) == ()


def test_without_a_comms_holder_the_lead_owns_customer_communication() -> None:
    assert comms_owner({"lead": "U1", "comms": None}) == "U1"


def test_the_comms_holder_owns_customer_communication() -> None:
    assert comms_owner({"lead": "U1", "comms": "U2"}) == "U2"


def test_an_empty_command_is_the_empty_subcommand() -> None:
    assert parse_command("").name == ""


def test_a_subcommand_is_case_insensitive_and_keeps_its_arguments() -> None:
    parsed = parse_command("ROLE comms <@U123|maria>")
    assert (parsed.name, parsed.args) == ("role", ["comms", "<@U123|maria>"])


def test_a_misspelt_subcommand_suggests_the_closest_ones() -> None:
    with pytest.raises(UserError, match="Did you mean `/incident stats` or `/incident status`"):
        parse_command("stauts identified")


def test_an_unknown_subcommand_points_to_help() -> None:
    with pytest.raises(UserError, match="/incident help"):
        parse_command("frobnicate")


@pytest.mark.parametrize(
    ("mention", "user"), [("<@U123ABC|maria>", "U123ABC"), ("<@W123ABC>", "W123ABC")]
)
def test_a_user_mention_gives_the_user_id(mention: str, user: str) -> None:
    assert parse_user(mention) == user


@pytest.mark.parametrize("bad", ["@maria", "maria", "<#C123>", "<@U1|x"])
def test_anything_but_a_user_mention_is_refused(bad: str) -> None:
    with pytest.raises(UserError, match="not a user mention"):
        parse_user(bad)


def test_a_customer_list_is_split_on_commas_semicolons_and_lines() -> None:
    assert parse_customer_list("Acme, Globex Corp\n\n  Initech ;Umbrella") == (
        "Acme",
        "Globex Corp",
        "Initech",
        "Umbrella",
    )


def test_a_customer_named_twice_in_any_case_is_listed_once_as_first_spelt() -> None:
    assert parse_customer_list("Acme, Globex, acme") == ("Acme", "Globex")


def test_an_empty_customer_list_names_nobody() -> None:
    assert parse_customer_list("") == ()


def test_a_customer_name_longer_than_200_characters_is_refused() -> None:
    with pytest.raises(UserError, match="under 200"):
        parse_customer_list("x" * 201)


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A valid configuration in the environment, read from a directory with no .env file."""
    for name in ("SLACK_APP_TOKEN", "PORT", "CUSTOMER_UPDATE_CADENCE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir("/")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@db/amends")
    return monkeypatch


@pytest.mark.parametrize("missing", ["SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN"])
def test_a_missing_slack_credential_is_named(environment: pytest.MonkeyPatch, missing: str) -> None:
    environment.delenv(missing)
    with pytest.raises(ConfigError, match=rf"^{missing} is not set"):
        load_settings()


def test_the_signing_secret_is_reported_missing_before_the_bot_token(
    environment: pytest.MonkeyPatch,
) -> None:
    environment.delenv("SLACK_SIGNING_SECRET")
    environment.delenv("SLACK_BOT_TOKEN")
    with pytest.raises(ConfigError, match=r"^SLACK_SIGNING_SECRET is not set"):
        load_settings()


def test_a_port_that_is_not_a_number_is_named_malformed(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("PORT", "eighty")
    with pytest.raises(ConfigError, match=r"^PORT is malformed"):
        load_settings()


def test_an_app_token_of_the_wrong_kind_is_named_with_the_expected_prefix(
    environment: pytest.MonkeyPatch,
) -> None:
    environment.setenv("SLACK_APP_TOKEN", "xoxb-wrong")
    with pytest.raises(ConfigError, match=r"^SLACK_APP_TOKEN is malformed: .*xapp-"):
        load_settings()


def test_a_database_other_than_sqlite_or_postgresql_is_named_malformed(
    environment: pytest.MonkeyPatch,
) -> None:
    environment.setenv("DATABASE_URL", "mysql://x")
    with pytest.raises(ConfigError, match=r"^DATABASE_URL is malformed"):
        load_settings()


def test_a_postgresql_url_is_given_the_async_driver(environment: pytest.MonkeyPatch) -> None:
    assert load_settings().database_url == "postgresql+asyncpg://postgres@db/amends"


def test_the_port_is_read_as_a_number(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("PORT", "8080")
    assert load_settings().port == 8080


def test_the_severities_are_those_the_cadence_names_in_its_order(
    environment: pytest.MonkeyPatch,
) -> None:
    environment.setenv("CUSTOMER_UPDATE_CADENCE", "SEV1=2s,SEV2=1m")
    settings = load_settings()
    assert settings.severities == ("SEV1", "SEV2")
    assert settings.customer_update_cadence["SEV1"].total_seconds() == 2


def test_a_cadence_reads_minutes_and_fractional_hours() -> None:
    assert [d.total_seconds() for d in parse_cadence("SEV1=30m, SEV2=1.5h").values()] == [
        1800,
        5400,
    ]


@pytest.mark.parametrize("bad", ["SEV1", "SEV1=0m", "SEV1=5d", "", "SEV1=1m,sev1=2m"])
def test_a_cadence_without_a_positive_duration_for_each_distinct_severity_is_refused(
    bad: str,
) -> None:
    with pytest.raises(ValueError):
        parse_cadence(bad)
