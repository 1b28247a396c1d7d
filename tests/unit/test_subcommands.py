"""The ``/incident`` table: what ``help`` lists and what the usage checks say come from it."""

from __future__ import annotations

import pytest

from bot.incidents.errors import UserError
from bot.settings import Settings
from handlers.subcommands import BY_NAME, COMMAND, SUBCOMMANDS, TABLE, help_lines, parse_command
from messages.text import help_blocks
from tests.support.harness import make_settings

API = "http://127.0.0.1:9/api/"


def settings(cadence: str = "SEV1=30m,SEV2=60m,SEV3=120m", default: str = "SEV2") -> Settings:
    return make_settings(API, customer_update_cadence=cadence, default_severity=default)


def help_text(config: Settings) -> list[str]:
    blocks = help_blocks(COMMAND, help_lines(config))
    return str(blocks[0]["text"]["text"]).split("\n")[1:]


def usage_refusal(text: str, config: Settings) -> str:
    parsed = parse_command(text)
    sub = BY_NAME[parsed.name]
    assert sub.check is not None
    with pytest.raises(UserError) as refused:
        sub.check(sub, parsed, config)
    return refused.value.message


def test_help_shows_one_line_per_subcommand_in_the_table_in_its_order() -> None:
    lines = help_text(settings())
    assert len(lines) == len(TABLE)
    for line, sub in zip(lines, TABLE, strict=True):
        assert line.startswith(f"`{COMMAND} {sub.name}".rstrip()), sub.name


def test_help_names_every_subcommand_a_person_can_type() -> None:
    text = "\n".join(help_text(settings()))
    for name in SUBCOMMANDS:
        assert f"`{COMMAND} {name}" in text, name


def test_help_shows_the_configured_severities() -> None:
    lines = help_text(settings("P1=15m,P2=45m", "P2"))
    severity = next(line for line in lines if line.startswith(f"`{COMMAND} severity"))
    assert severity.startswith(f"`{COMMAND} severity <P1|P2>`")
    assert not any("SEV" in line for line in lines)


def test_help_marks_exactly_the_subcommands_that_run_on_the_channels_incident() -> None:
    marked = {line.split()[1].strip("`") for line in help_text(settings()) if line.endswith("¹")}
    assert marked == {sub.name for sub in TABLE if sub.in_channel is not None}
    assert marked == {
        "role",
        "status",
        "severity",
        "update",
        "pause",
        "resume",
        "public",
        "customers",
        "language",
        "close",
        "report",
    }


def test_help_shows_the_bare_command_as_no_text() -> None:
    assert help_text(settings())[0].startswith(f"`{COMMAND}` (no text) — open the declare form")


def test_a_playbook_is_applied_in_the_channel_and_marked_reviewed_from_any_channel() -> None:
    line = next(line for line in help_text(settings()) if line.startswith(f"`{COMMAND} playbook "))
    assert line.startswith(
        f"`{COMMAND} playbook <name>` ¹, or `{COMMAND} playbook <name> reviewed` from any channel"
    )


def test_reopen_is_listed_as_working_from_any_channel_with_a_number() -> None:
    reopen = next(line for line in help_text(settings()) if "reopen" in line)
    assert reopen.startswith(
        f"`{COMMAND} reopen <reason>` ¹, or `{COMMAND} reopen INC-<n> <reason>` from any channel — "
    )
    assert not reopen.endswith("¹")


def test_the_severity_usage_names_the_configured_severities() -> None:
    refusal = usage_refusal("severity", settings("P1=15m,P2=45m", "P2"))
    assert refusal == f"Usage: `{COMMAND} severity <P1|P2>`"


def test_a_subcommand_without_arguments_refuses_them_with_its_usage() -> None:
    refusal = usage_refusal("close now", settings())
    assert refusal == f"Usage: `{COMMAND} close` (it takes no arguments)"


def test_every_row_runs_somewhere_and_only_one_way() -> None:
    for sub in TABLE:
        assert (sub.anywhere is None) != (sub.in_channel is None), sub.name


def test_help_explains_its_mark_below_the_list() -> None:
    blocks = help_blocks(COMMAND, help_lines(settings()))
    assert "¹ only inside an incident channel" in blocks[1]["elements"][0]["text"]
