"""``amends sandbox --playbook <name>`` rehearses a playbook in its own language, in process,
and prints the conversation; ``--list-playbooks`` lists them; an unknown name exits 2."""
# ruff: noqa: RUF001 (the Cyrillic letters are meant)

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli import main
from bot.playbooks.loader import SHIPPED
from tests.support.playbook_helpers import write

RUSSIAN_INVESTIGATING = "Простите нас: с "
RUSSIAN_FOLLOW_UP = "Здравствуйте, Acme Bank!"
CZECH_INVESTIGATING = "Omlouváme se: od "
CZECH_RESOLVED = "Platby kartou znovu fungují bez problémů."


def shipped_card_playbook(**changes: Any) -> dict[str, Any]:
    """The shipped card-payments example (templates in en, ru and cs), changed."""
    data = yaml.safe_load((SHIPPED / "card-payments-failing.yaml").read_text(encoding="utf-8"))
    data["review_by"] = str(data["review_by"])
    data.update(changes)
    return dict(data)


@pytest.fixture
def books(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PLAYBOOKS_DIR with the card playbook in Russian and in Czech."""
    directory = tmp_path / "playbooks"
    write(directory, "ru.yaml", shipped_card_playbook(name="Оплата картой", language="ru"))
    write(directory, "cs.yaml", shipped_card_playbook(name="Platby kartou", language="cs"))
    for name in ("CUSTOMER_UPDATE_CADENCE", "DEFAULT_SEVERITY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PLAYBOOKS_DIR", str(directory))
    return directory


def test_a_russian_playbook_is_rehearsed_with_its_russian_templates(
    books: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["sandbox", "--playbook", "Оплата картой"])
    out = capsys.readouterr().out
    assert code == 0
    assert "/incident declare Оплата картой" in out
    assert RUSSIAN_INVESTIGATING in out and RUSSIAN_FOLLOW_UP in out
    assert "{started}" not in out and "{next_update}" not in out and "{customer}" not in out


def test_a_czech_playbook_posts_its_czech_templates_to_the_customer_channel(
    books: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["sandbox", "--playbook", "platby-kartou"])
    to_customers = capsys.readouterr().out.split("[#status] Amends posted:")[1:]
    assert code == 0
    assert len(to_customers) == 4
    assert CZECH_INVESTIGATING in to_customers[0] and CZECH_RESOLVED in to_customers[-1]


def test_the_list_names_each_playbook_with_its_language_and_severity(
    books: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["sandbox", "--list-playbooks"])
    assert (code, capsys.readouterr().out.splitlines()) == (
        0,
        ["Platby kartou  (cs, SEV1)", "Оплата картой  (ru, SEV1)"],
    )


def test_an_unknown_playbook_exits_2_with_the_list(
    books: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["sandbox", "--playbook", "tornado"])
    err = capsys.readouterr().err
    assert code == 2
    assert "no playbook “tornado”" in err and "Platby kartou  (cs, SEV1)" in err
