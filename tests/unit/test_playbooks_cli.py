"""``amends playbooks check``, the shipped examples, and start-up refusing a broken playbook."""

# ruff: noqa: RUF001 (the Cyrillic letters are meant)
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.playbooks.loader import SHIPPED, load_playbooks
from bot.playbooks.model import PHASES
from messages.tone import LANGUAGES
from tests.support.playbook_helpers import playbook, write

ROOT = Path(__file__).resolve().parents[2]
BLAMING_RUSSIAN = (
    "Простите нас: из-за сбоя у нашего провайдера с {started} не проходит оплата картой. "
    "Следующее обновление — до {next_update}."
)


@pytest.fixture(autouse=True)
def _no_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PLAYBOOKS_DIR", "CUSTOMER_UPDATE_CADENCE", "DEFAULT_SEVERITY"):
        monkeypatch.delenv(name, raising=False)


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    code = main(["playbooks", "check", *args])
    return code, capsys.readouterr().out.splitlines()


def test_a_blaming_russian_template_fails_with_a_line_naming_language_phase_rule_and_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "card.yaml", playbook(templates={"ru": {"investigating": BLAMING_RUSSIAN}}))
    code, lines = check(capsys, str(tmp_path))
    assert code == 1
    assert len(lines) == 2
    assert lines[0].startswith(
        f"{tmp_path / 'card.yaml'}: ru/investigating: blame: “нашего провайдера” — "
        "Перекладывает вину. Возьмите ответственность"
    )
    assert lines[1] == (
        "amends: 0 problems reading the files, 1 tone finding (1 playbook, 1 template checked)"
    )


def test_a_clean_czech_playbook_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "card.yaml", playbook())
    code, lines = check(capsys, str(tmp_path))
    assert (code, lines) == (0, ["amends: 1 playbook, 2 templates checked, all clean"])


NO_NEXT_TIME = "Platby kartou znovu fungují. Omlouváme se za výpadek."


def test_a_resolved_or_follow_up_template_needs_no_next_update_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    late = NO_NEXT_TIME
    write(tmp_path, "card.yaml", playbook(templates={"cs": {"resolved": late, "follow_up": late}}))
    assert check(capsys, str(tmp_path))[0] == 0


def test_an_investigating_template_without_a_next_update_time_fails_the_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "card.yaml", playbook(templates={"cs": {"investigating": NO_NEXT_TIME}}))
    code, lines = check(capsys, str(tmp_path))
    assert code == 1
    assert lines[0] == (
        f"{tmp_path / 'card.yaml'}: cs/investigating: no_next_update: (missing) — Chybí čas "
        "další zprávy. Napište, kdy se zákazníkům znovu ozveme: „Další zprávu pošleme do 14:30 "
        "SEČ.“"
    )


def test_serbian_cyrillic_templates_are_checked_and_quoted_in_cyrillic(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "Извињавамо се због евентуалних непријатности. Следеће обавештење до {next_update}."
    write(tmp_path, "card.yaml", playbook(templates={"sr": {"monitoring": text}}))
    code, lines = check(capsys, str(tmp_path))
    assert code == 1
    assert lines[0].startswith(
        f"{tmp_path / 'card.yaml'}: sr/monitoring: non_apology: "
        "“Извињавамо се због евентуалних непријатности” — Звучи као празно извињење."
    )


def test_every_file_that_does_not_parse_is_named_with_its_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "a.yaml", playbook(name="Login outage", cadence="soon"))
    write(tmp_path, "b.yaml", playbook(templates={"cs": {"identified": "Omlouváme se, {who}."}}))
    write(tmp_path, "c.yaml", playbook(name="Data delayed"))
    (tmp_path / "notes.txt").write_text("not a playbook")
    code, lines = check(capsys, str(tmp_path))
    assert code == 1
    assert lines == [
        f"{tmp_path / 'a.yaml'}: cadence: 'soon' is not a duration like 30s, 15m or 2h",
        f"{tmp_path / 'b.yaml'}: templates.cs.identified: unknown placeholder {{who}} (use "
        "{title}, {started}, {next_update}, {impact}, {customer})",
        "amends: 2 problems reading the files, 0 tone findings (1 playbook, 2 templates checked)",
    ]


def test_the_check_uses_the_configured_severities(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "card.yaml", playbook(severity="P1"))
    code, lines = check(capsys, str(tmp_path))
    assert code == 1 and "severity: P1 is not one of SEV1, SEV2, SEV3" in lines[0]
    monkeypatch.setenv("CUSTOMER_UPDATE_CADENCE", "P1=10m,P2=30m")
    assert check(capsys, str(tmp_path))[0] == 0
    monkeypatch.setenv("PLAYBOOKS_DIR", str(tmp_path))
    assert check(capsys)[0] == 0


def test_the_shipped_examples_pass_the_check(capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = check(capsys)
    assert (code, lines) == (0, ["amends: 5 playbooks, 100 templates checked, all clean"])


def test_the_shipped_examples_cover_every_phase_in_every_language() -> None:
    examples = load_playbooks(SHIPPED, ("SEV1", "SEV2", "SEV3"))
    assert len(examples) >= 5
    for loaded in examples:
        book = loaded.playbook
        written = {(language, phase) for language, phase, _ in book.written()}
        assert written == {(lang, phase) for lang in LANGUAGES for phase in PHASES}, loaded.path
        assert book.steps and book.compensation and book.keywords, loaded.path
        for language in LANGUAGES:
            for phase in ("investigating", "identified", "monitoring"):
                assert "{next_update}" in str(getattr(book.templates[language], phase))


def run_amends(
    command: str, env: dict[str, str], tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", command],
        env={**clean, "PYTHONPATH": str(ROOT), **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("command", ["serve", "sandbox"])
def test_start_up_refuses_a_playbook_that_does_not_parse_in_one_line(
    tmp_path: Path, command: str
) -> None:
    books = tmp_path / "playbooks"
    write(books, "card.yaml", playbook(templates={"ru": {"investigating": "Простите, {foo}."}}))
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "PLAYBOOKS_DIR": str(books)}
    started = run_amends(command, env, tmp_path)
    assert started.returncode == 2
    assert started.stderr.strip().splitlines() == [
        f"amends: configuration error: PLAYBOOKS_DIR: {books / 'card.yaml'}: "
        "templates.ru.investigating: unknown placeholder {foo} (use {title}, {started}, "
        "{next_update}, {impact}, {customer})"
    ]
