"""``amends playbooks check``: every playbook parses and every template passes the tone check.

One line per problem (file, language, phase, rule, the words that triggered it), so a team
can run it in CI; exit 1 when there is any, 0 when all are clean.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.resources.abc import Traversable

from bot.playbooks.loader import Loaded, scan
from bot.playbooks.model import FINAL_PHASES, Phase
from messages.tone import Finding, Language, check_tone


@dataclass(frozen=True)
class TemplateFinding:
    path: str
    language: Language
    phase: Phase
    finding: Finding

    def line(self) -> str:
        words = f"“{self.finding.excerpt}”" if self.finding.excerpt else "(missing)"
        return (
            f"{self.path}: {self.language}/{self.phase}: {self.finding.rule_id}: {words} — "
            f"{self.finding.title}. {self.finding.advice}"
        )


def template_findings(loaded: Loaded) -> list[TemplateFinding]:
    """The tone check on every template, in its language; final phases promise no update."""
    return [
        TemplateFinding(loaded.path, language, phase, finding)
        for language, phase, text in loaded.playbook.written()
        for finding in check_tone(text, language=language, final=phase in FINAL_PHASES)
    ]


def check_directory(
    directory: Traversable,
    severities: Sequence[str],
    *,
    fallback_severity: str | None = None,
    say: Callable[[str], None] = print,
) -> int:
    """Print each problem on its own line and a summary; 1 when there is any, else 0."""
    result = scan(directory, severities, fallback_severity=fallback_severity)
    for error in result.errors:
        say(error)
    findings = [f for loaded in result.playbooks for f in template_findings(loaded)]
    for finding in findings:
        say(finding.line())
    templates = sum(1 for loaded in result.playbooks for _ in loaded.playbook.written())
    checked = f"{_count(len(result.playbooks), 'playbook')}, {_count(templates, 'template')}"
    if result.errors or findings:
        problems = f"{_count(len(result.errors), 'problem')} reading the files"
        tone = _count(len(findings), "tone finding")
        say(f"amends: {problems}, {tone} ({checked} checked)")
        return 1
    say(f"amends: {checked} checked, all clean")
    return 0


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
