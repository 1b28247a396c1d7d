"""The tone check flags what the research warns against and leaves good updates alone."""

from __future__ import annotations

import pytest

from messages.tone import check_tone

CLEAN = [
    "We're sorry: since 10:05 UTC some of you cannot pay by card at checkout. We have found "
    "the cause and are fixing it now. Next update by 11:00 UTC.",
    "We know the mobile app is not loading for many of you, and we're sorry. Our team is "
    "working on it and we will update you within 30 minutes.",
    "We are aware that invoices sent today show the wrong totals. We apologise. We are "
    "correcting every invoice and will write to you by 16:00 CET with the corrected copies.",
    "Sorry: logging in is slow for customers in Europe. We are moving traffic to a healthy "
    "site. Next update at 14:30 UTC.",
    "We're sorry: 450 orders placed since 09:00 UTC were charged twice. We are refunding every "
    "one of them and will write to you by 13:00 UTC.",
]


@pytest.mark.parametrize("text", CLEAN)
def test_clean_updates_are_not_flagged(text: str) -> None:
    assert check_tone(text) == []


@pytest.mark.parametrize(
    ("text", "rule", "excerpt"),
    [
        ("We're sorry. Our provider had an outage. Next update by 11:00.", "blame", "Our provider"),
        ("We're sorry. A third-party outage hit us. Next update by 11:00.", "blame", "third-party"),
        ("We're sorry, this was user error. Next update by 11:00.", "blame", "user error"),
        (
            "We're sorry: your internet provider is slow. Next update by 11:00.",
            "blame",
            "your internet provider",
        ),
        ("We're sorry. It was not our fault. Next update by 11:00.", "blame", "not our fault"),
        (
            "We regret any inconvenience. We know it hurts. Next update by 11:00.",
            "non_apology",
            "regret any inconvenience",
        ),
        (
            "We're sorry, this shouldn't have happened. Next update by 11:00.",
            "non_apology",
            "shouldn't have happened",
        ),
        (
            "We apologise if you were affected. Next update by 11:00.",
            "non_apology",
            "apologise if",
        ),
        ("We're sorry, but the bank is slow. Next update by 11:00.", "sorry_but", "sorry, but"),
        ("We're sorry: 5xx errors on checkout. Next update by 11:00.", "jargon", "5xx"),
        ("We're sorry: p99 is high. Next update by 11:00.", "jargon", "p99"),
        ("We're sorry: DNS is broken. Next update by 11:00.", "jargon", "DNS"),
        ("We're sorry: checkout shows error 503. Next update by 11:00.", "jargon", "error 503"),
        ("We're sorry: a k8s pod died. Next update by 11:00.", "jargon", "k8s"),
        ("We're sorry: failover did not work. Next update by 11:00.", "jargon", "failover"),
        ("We're sorry. RCA to follow. Next update by 11:00.", "jargon", "RCA"),
        (
            "We're sorry. CHECKOUT IS DOWN EVERYWHERE. Next update by 11:00.",
            "shouting",
            "CHECKOUT IS DOWN",
        ),
        ("We're sorry!! Next update by 11:00.", "shouting", "!!"),
        (
            "We're sorry. [what customers notice] Next update by 11:00.",
            "placeholder",
            "[what customers notice]",
        ),
    ],
)
def test_each_rule_flags_its_problem(text: str, rule: str, excerpt: str) -> None:
    findings = {f.rule_id: f for f in check_tone(text)}
    assert rule in findings, findings
    assert excerpt.lower() in findings[rule].excerpt.lower()
    assert findings[rule].advice


def test_missing_parts_are_flagged() -> None:
    findings = {f.rule_id for f in check_tone("Checkout is failing. We are fixing it.")}
    assert findings == {"no_acknowledgement", "no_next_update"}


def test_findings_come_with_what_to_write_instead() -> None:
    for finding in check_tone("OUR VENDOR BROKE IT!! sorry if you noticed"):
        assert finding.title and len(finding.advice) > 20
