"""Playbook files: what loads, and how every mistake is named (file, field) at load time."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.playbooks.loader import PlaybookError, load_configured, load_playbooks, scan
from bot.settings import ConfigError
from tests.support.harness import make_settings
from tests.support.playbook_helpers import playbook, write

SEVERITIES = ("SEV1", "SEV2", "SEV3")


def load_one(tmp_path: Path, **changes: object) -> None:
    write(tmp_path, "card.yaml", playbook(**changes))
    load_playbooks(tmp_path, SEVERITIES)


def test_a_valid_playbook_loads_with_every_field(tmp_path: Path) -> None:
    write(tmp_path, "card.yaml", playbook(cadence="1.5h"))
    (loaded,) = load_playbooks(tmp_path, SEVERITIES)
    book = loaded.playbook
    assert loaded.path == str(tmp_path / "card.yaml")
    assert (book.name, book.severity, book.language) == ("Card payments failing", "SEV1", "cs")
    assert book.cadence == timedelta(minutes=90)
    assert book.review_by == date(2027, 3, 1)
    assert book.steps == ("Freeze payment deploys", "Page the payments on-call")
    assert [(lang, phase) for lang, phase, _ in book.written()] == [
        ("cs", "investigating"),
        ("cs", "resolved"),
    ]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("Omlouváme se, {foo}.", "unknown placeholder {foo}"),
        ("Omlouváme se, {Started}.", "unknown placeholder {Started}"),
        ("Omlouváme se, {started:%H:%M}.", "without a format"),
        ("Omlouváme se, {started.", "placeholders: {title}"),
    ],
)
def test_an_unknown_placeholder_is_a_load_error_naming_file_language_and_phase(
    tmp_path: Path, text: str, error: str
) -> None:
    with pytest.raises(PlaybookError) as raised:
        load_one(
            tmp_path, templates={"ru": {"identified": "Простите нас."}, "cs": {"monitoring": text}}
        )
    message = str(raised.value)
    assert message.startswith(f"{tmp_path / 'card.yaml'}: templates.cs.monitoring: ")
    assert error in message


def test_every_documented_placeholder_is_accepted(tmp_path: Path) -> None:
    text = "Omlouváme se, {customer}: {title} od {started}, dopad {impact}, další do {next_update}."
    load_one(tmp_path, templates={"cs": {"investigating": text}})


def test_a_severity_that_is_not_configured_is_a_load_error(tmp_path: Path) -> None:
    with pytest.raises(
        PlaybookError, match=r"card\.yaml: severity: SEV9 is not one of SEV1, SEV2, SEV3"
    ):
        load_one(tmp_path, severity="sev9")


def test_a_duration_unlike_customer_update_cadence_is_a_load_error(tmp_path: Path) -> None:
    with pytest.raises(PlaybookError, match=r"card\.yaml: cadence: '20 minutes' is not a duration"):
        load_one(tmp_path, cadence="20 minutes")
    with pytest.raises(PlaybookError, match=r"card\.yaml: cadence: write a duration like 20m"):
        load_one(tmp_path, cadence=20)


def test_two_playbooks_with_the_same_name_are_a_load_error(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", playbook())
    write(tmp_path, "b.yaml", playbook(name="card payments FAILING"))
    with pytest.raises(PlaybookError) as raised:
        load_playbooks(tmp_path, SEVERITIES)
    assert str(raised.value) == (
        f"{tmp_path / 'b.yaml'}: name: 'card payments FAILING' is already the name of "
        f"{tmp_path / 'a.yaml'}"
    )


def test_an_unknown_language_is_a_load_error(tmp_path: Path) -> None:
    with pytest.raises(
        PlaybookError, match=r"card\.yaml: language: 'de' is not a language \(use en, ru, cs, sr\)"
    ):
        load_one(tmp_path, language="de")
    with pytest.raises(PlaybookError, match=r"card\.yaml: templates\.de: 'de' is not a language"):
        load_one(tmp_path, templates={"de": {"investigating": "Entschuldigung."}})


def test_an_unknown_phase_or_field_is_a_load_error(tmp_path: Path) -> None:
    with pytest.raises(PlaybookError, match=r"templates\.cs\.investigatin: is not a phase"):
        load_one(tmp_path, templates={"cs": {"investigatin": "Omlouváme se."}})
    with pytest.raises(PlaybookError, match=r"card\.yaml: sevrity: is not a playbook field"):
        load_one(tmp_path, sevrity="SEV1")


def test_every_problem_in_a_file_is_named_on_its_own_line(tmp_path: Path) -> None:
    data = playbook(owner="bob")
    del data["summary"]
    write(tmp_path, "card.yaml", data)
    assert scan(tmp_path, SEVERITIES).errors == [
        f"{tmp_path / 'card.yaml'}: summary: is required",
        f"{tmp_path / 'card.yaml'}: owner: 'bob' is not a Slack user id like U012ABCDEF",
    ]


def test_an_impossible_review_date_is_named_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "card.yaml").write_text(
        "name: x\nsummary: y\nseverity: SEV1\nlanguage: en\nowner: U1AB\nreview_by: 2027-13-01\n"
    )
    with pytest.raises(PlaybookError, match=r"card\.yaml: review_by: Input should be a valid date"):
        load_playbooks(tmp_path, SEVERITIES)


def test_a_file_that_is_not_yaml_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "card.yaml").write_text("name: x\nsteps: [a, b\nsummary: y\n")
    with pytest.raises(PlaybookError, match=r"card\.yaml: line \d+: not valid YAML"):
        load_playbooks(tmp_path, SEVERITIES)
    (tmp_path / "card.yaml").write_text("- just\n- a list\n")
    with pytest.raises(PlaybookError, match=r"card\.yaml: the file must be a mapping"):
        load_playbooks(tmp_path, SEVERITIES)


def test_a_broken_playbook_in_playbooks_dir_stops_the_settings_naming_file_and_field(
    tmp_path: Path,
) -> None:
    write(tmp_path, "card.yaml", playbook(templates={"ru": {"investigating": "Простите, {foo}."}}))
    with pytest.raises(ConfigError) as raised:
        make_settings("http://127.0.0.1:1/api/", playbooks_dir=str(tmp_path))
    assert str(raised.value).startswith(
        f"PLAYBOOKS_DIR: {tmp_path / 'card.yaml'}: templates.ru.investigating: "
        "unknown placeholder {foo}"
    )


def test_playbook_severities_are_checked_against_the_configured_ones_at_start(
    tmp_path: Path,
) -> None:
    write(tmp_path, "card.yaml", playbook(severity="P1"))
    with pytest.raises(ConfigError, match=r"severity: P1 is not one of SEV1, SEV2, SEV3"):
        make_settings("http://127.0.0.1:1/api/", playbooks_dir=str(tmp_path))
    settings = make_settings(
        "http://127.0.0.1:1/api/",
        playbooks_dir=str(tmp_path),
        customer_update_cadence="P1=15m,P2=30m",
        default_severity="P2",
    )
    assert [loaded.playbook.severity for loaded in load_configured(settings)] == ["P1"]


def test_the_shipped_examples_do_not_stop_a_team_with_its_own_severities() -> None:
    settings = make_settings(
        "http://127.0.0.1:1/api/", customer_update_cadence="P1=15m,P2=30m", default_severity="P2"
    )
    examples = load_configured(settings)
    assert len(examples) >= 5
    assert {loaded.playbook.severity for loaded in examples} == {"P2"}


def test_a_missing_playbooks_dir_stops_the_settings(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^PLAYBOOKS_DIR: .*nowhere: no such directory$"):
        make_settings("http://127.0.0.1:1/api/", playbooks_dir=str(tmp_path / "nowhere"))
