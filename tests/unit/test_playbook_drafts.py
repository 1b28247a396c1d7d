"""Customer messages drafted from a playbook: the template chosen, the placeholders filled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from bot.playbooks.drafts import (
    UNKNOWN_CUSTOMER,
    UNKNOWN_IMPACT,
    UNKNOWN_TITLE,
    Facts,
    clock_time,
    draft,
    fill,
    incident_draft,
    template_for,
)
from bot.playbooks.model import Playbook
from storage.models import Incident
from tests.support.playbook_helpers import playbook

STARTED = datetime(2027, 1, 10, 14, 5, tzinfo=UTC)
NEXT = datetime(2027, 1, 10, 14, 25, tzinfo=UTC)
FACTS = Facts(title="Card payments down", started=STARTED, next_update=NEXT, impact="", customer="")


def templates(**by_language: dict[str, str]) -> Playbook:
    return Playbook.model_validate(playbook(language="cs", templates=by_language))


def test_times_are_written_with_their_time_zone() -> None:
    assert fill("since {started}, next by {next_update}", FACTS) == (
        "since 14:05 UTC, next by 14:25 UTC"
    )


def test_a_time_in_another_zone_is_written_in_utc() -> None:
    prague = timezone(timedelta(hours=1))
    assert clock_time(datetime(2027, 1, 10, 15, 5, tzinfo=prague)) == "14:05 UTC"


def test_the_title_impact_and_customer_are_filled_in() -> None:
    facts = Facts("Card payments down", STARTED, NEXT, impact="Cards fail", customer="Acme")
    assert fill("{customer}: {title}. {impact}", facts) == "Acme: Card payments down. Cards fail"


def test_an_unknown_impact_or_customer_is_left_as_bracketed_text_to_fill_in() -> None:
    assert fill("{impact} / {customer}", FACTS) == f"{UNKNOWN_IMPACT} / {UNKNOWN_CUSTOMER}"


def test_doubled_braces_are_written_as_braces() -> None:
    assert fill("{{not a placeholder}} {title}", FACTS) == "{not a placeholder} Card payments down"


def test_the_template_in_the_asked_language_is_chosen() -> None:
    book = templates(cs={"investigating": "Omlouváme se."}, ru={"investigating": "Простите."})
    assert template_for(book, "investigating", "ru") == "Простите."


def test_without_the_asked_language_the_playbooks_own_language_is_used() -> None:
    book = templates(cs={"investigating": "Omlouváme se."})
    assert template_for(book, "investigating", "sr") == "Omlouváme se."


def test_a_phase_the_playbook_has_no_template_for_drafts_nothing() -> None:
    book = templates(cs={"investigating": "Omlouváme se."})
    assert draft(book, "monitoring", "cs", FACTS) is None


def test_a_draft_is_the_chosen_template_filled_in() -> None:
    book = templates(ru={"identified": "Нашли причину. Следующее обновление — до {next_update}."})
    assert draft(book, "identified", "ru", FACTS) == (
        "Нашли причину. Следующее обновление — до 14:25 UTC."
    )


def test_an_incidents_draft_names_it_by_its_customer_facing_title_never_the_internal_one() -> None:
    book = templates(cs={"investigating": "{title}: omlouváme se."})
    incident = Incident(title="db-7 split brain", public_title="Platby kartou", created_at=STARTED)
    assert incident_draft(book, incident, "investigating", "cs") == "Platby kartou: omlouváme se."


def test_before_it_has_a_customer_facing_title_the_draft_asks_for_one() -> None:
    book = templates(cs={"investigating": "{title}: omlouváme se."})
    incident = Incident(title="db-7 split brain", created_at=STARTED)
    assert (
        incident_draft(book, incident, "investigating", "cs") == f"{UNKNOWN_TITLE}: omlouváme se."
    )
