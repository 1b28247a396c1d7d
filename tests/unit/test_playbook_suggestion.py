"""Which playbook a title suggests, and finding a playbook by the name a person typed."""

from __future__ import annotations

from typing import Any

from bot.playbooks.catalogue import Catalogue, suggest
from bot.playbooks.model import Playbook
from tests.support.playbook_helpers import playbook


def book(name: str, keywords: list[str], **changes: Any) -> Playbook:
    return Playbook.model_validate(playbook(name=name, keywords=keywords, **changes))


CARD = book("Card payments failing", ["payment", "payments", "card", "checkout"])
LOGIN = book("Login outage", ["login", "log in", "sign in", "password"])
DATA = book("Data delayed", ["data", "delayed", "reports"])
SECURITY = book("Security incident", ["security", "data", "exposed"])
ALL = (CARD, LOGIN, DATA, SECURITY)


def test_a_title_suggests_the_playbook_whose_keyword_it_contains() -> None:
    assert suggest(ALL, "Card payments down") is CARD


def test_keywords_match_whatever_the_case() -> None:
    assert suggest(ALL, "LOGIN BROKEN") is LOGIN


def test_a_keyword_of_several_words_matches_as_a_phrase() -> None:
    assert suggest(ALL, "Customers cannot log in") is LOGIN


def test_a_keyword_inside_another_word_does_not_count() -> None:
    assert suggest(ALL, "Discard button missing") is None


def test_the_playbook_matching_most_keywords_wins() -> None:
    assert suggest(ALL, "Customer data exposed in a security hole") is SECURITY


def test_on_a_tie_the_first_listed_playbook_wins() -> None:
    assert suggest(ALL, "Data problem") is DATA


def test_a_title_matching_no_keyword_suggests_nothing() -> None:
    assert suggest(ALL, "Office coffee machine") is None


def test_punctuation_around_a_keyword_does_not_hide_it() -> None:
    assert suggest(ALL, "checkout: card (payments) failing!") is CARD


def test_a_playbook_is_found_by_its_name_whatever_the_case_and_spacing() -> None:
    assert Catalogue.of(ALL).get("  login   OUTAGE ") is LOGIN


def test_an_unknown_name_finds_nothing() -> None:
    assert Catalogue.of(ALL).get("nope") is None
