"""The tone check: flags what the service-recovery research warns against in customer updates.

Rules are data (a pattern, a name, and what to write instead), so adding one is one entry.
Some rules flag what is present (blame, non-apologies, jargon); others flag what is missing
(an acknowledgement, the time of the next update).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class ToneRule:
    id: str
    title: str
    pattern: re.Pattern[str]
    advice: str
    flags_when_missing: bool = False


@dataclass(frozen=True)
class Finding:
    rule_id: str
    title: str
    excerpt: str
    advice: str


def _words(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w-])(?:" + "|".join(alternatives) + r")(?![\w-])", re.IGNORECASE)


JARGON = (
    r"[45]xx",
    r"[45]\d\ds?",
    r"p(?:50|90|95|99)",
    r"latenc(?:y|ies)",
    r"dns",
    r"k8s",
    r"kubernetes",
    r"pods?",
    r"fail-?over",
    r"rca",
    r"slos?",
    r"slis?",
    r"ttls?",
    r"cdn",
    r"shards?",
    r"replicas?",
    r"clusters?",
    r"load[- ]balancers?",
    r"oom",
    r"cpu",
    r"quorum",
    r"bgp",
    r"packet loss",
    r"hotfix",
    r"rollback",
    r"upstream",
    r"downstream",
    r"sev ?[0-4]",
    r"inc-\d+",
    r"on-?call",
    r"runbook",
    r"postmortem",
    r"post-mortem",
    r"mttr",
    r"api gateway",
    r"tls handshake",
    r"config(?:uration)? drift",
    r"deploy(?:ment)? pipeline",
)

RULES: tuple[ToneRule, ...] = (
    ToneRule(
        "blame",
        "Shifts the blame",
        _words(
            r"our (?:cloud |hosting |payment |network )?(?:provider|vendor|supplier|partner)s?",
            r"third[- ]part(?:y|ies)",
            r"user error",
            r"customer error",
            r"not our fault",
            r"(?:outside|beyond) (?:of )?our control",
            r"(?:caused|due) to (?:aws|azure|gcp|"
            r"google cloud|cloudflare|stripe|an? external (?:provider|service))",
        ),
        "Own it: say what happened to our service and what we are doing about it, "
        "whoever's component failed.",
    ),
    ToneRule(
        "non_apology",
        "Sounds like a non-apology",
        _words(
            r"regret any inconvenience",
            r"(?:for|apologi[sz]e for) any inconvenience",
            r"any inconvenience (?:this|that) (?:may have|might have)? ?caused",
            r"should(?: not|n't) have happened",
            r"if you (?:were|have been|may have been) "
            r"(?:affected|impacted)",
            r"(?:we )?apologi[sz]e if",
            r"sorry if",
            r"sorry for any",
        ),
        "Apologise plainly for what happened to them: “We're sorry: card payments failed for "
        "you between 10:05 and 10:40 UTC.”",
    ),
    ToneRule(
        "sorry_but",
        "Apology followed by “but”",
        re.compile(r"\b(?:sorry|apologi[sz]e)\b[^.!?\n]{0,80}?\bbut\b", re.IGNORECASE),
        "Drop the “but”: an apology with a “but” reads as an excuse. Apologise, then explain.",
    ),
    ToneRule(
        "jargon",
        "Internal jargon",
        _words(*JARGON),
        "Say what customers notice, not how our systems work: “pages load slowly”, not "
        "“p99 latency spiked”.",
    ),
    ToneRule(
        "shouting",
        "Reads as shouting",
        re.compile(r"(?:\b[A-Z]{4,}\b[^a-z]{0,40}?){2,}|!{2,}"),
        "Write in sentence case with calm punctuation; capitals and “!!” read as shouting.",
    ),
    ToneRule(
        "placeholder",
        "Template text left in",
        re.compile(r"\[(?:what|who|when|how)[^\]]{0,80}\]", re.IGNORECASE),
        "Fill in or remove the bracketed parts of the template.",
    ),
    ToneRule(
        "no_acknowledgement",
        "No acknowledgement of what customers are going through",
        _words(
            r"we(?:'re| are)? (?:very |truly |so )?sorry",
            r"sorry",
            r"we apologi[sz]e",
            r"we know",
            r"we(?:'re| are) aware",
            r"we understand",
            r"our apologies",
        ),
        "Open by acknowledging the impact and owning it: “We know checkout is failing for "
        "some of you, and we're sorry.”",
        flags_when_missing=True,
    ),
    ToneRule(
        "no_next_update",
        "No time for the next update",
        re.compile(
            r"next update|(?:update|hear from us|write to you|contact you)[^.\n]{0,40}?"
            r"(?:\bby\b|\bat\b|\bin\b|\bwithin\b|\bbefore\b)|\bby \d{1,2}(?::\d{2})?\s*"
            r"(?:am|pm|utc|gmt|cet|et|pt)?\b|\bwithin \d+ (?:minutes|hours)",
            re.IGNORECASE,
        ),
        "Say when customers will hear from us next: “Next update by 14:30 UTC.”",
        flags_when_missing=True,
    ),
)


FINAL_RULES: tuple[ToneRule, ...] = tuple(r for r in RULES if r.id != "no_next_update")
"""For the final, “resolved” update: there is no next update to promise."""


def check_tone(text: str, rules: tuple[ToneRule, ...] = RULES) -> list[Finding]:
    """Everything in ``text`` worth a second look, in rule order; empty when it reads well."""
    findings: list[Finding] = []
    for rule in rules:
        match = rule.pattern.search(text)
        if rule.flags_when_missing:
            if match is None:
                findings.append(Finding(rule.id, rule.title, "", rule.advice))
        elif match is not None:
            findings.append(Finding(rule.id, rule.title, _excerpt(text, match), rule.advice))
    return findings


def _excerpt(text: str, match: re.Match[str]) -> str:
    return " ".join(text[match.start() : match.end()].split())[:80]
