"""The tone check: flags what the service-recovery research warns against in customer updates.

It reads English, Russian, Czech and Serbian. The rules are data, one file per language in
``messages/tone_rules/`` (plus ``common.yaml`` for what reads the same in every language, such
as technical jargon), written by people who know the language: a pattern, a title, and what to
write instead, in that language. Some rules flag what is present (blame, non-apologies,
jargon); others flag what is missing (an acknowledgement, the time of the next update).

Serbian is written in two scripts. Its rules are written once, in Latin, and Cyrillic text is
transliterated to Latin before matching (the mapping is one-to-one letter by letter, so the
match is exact); the findings quote the text as written and speak in its script.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

Language = Literal["en", "ru", "cs", "sr"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
RuleId = Literal[
    "blame",
    "non_apology",
    "sorry_but",
    "jargon",
    "shouting",
    "placeholder",
    "no_acknowledgement",
    "no_next_update",
]
RULE_IDS: tuple[RuleId, ...] = get_args(RuleId)
"""Every language has every rule, so a check means the same in each of them."""
NOT_IN_FINAL = "no_next_update"
"""The final, “resolved” update has no next update to promise."""


@dataclass(frozen=True)
class ToneRule:
    id: str
    title: str
    pattern: re.Pattern[str]
    advice: str
    flags_when_missing: bool = False
    language: Language = "en"
    cyrillic_title: str = ""
    cyrillic_advice: str = ""
    """Serbian only: the title and advice for text written in Cyrillic."""


@dataclass(frozen=True)
class Finding:
    rule_id: str
    title: str
    excerpt: str
    advice: str


class RuleEntry(BaseModel):
    """One rule as written in a language file (or its shared part in ``common.yaml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: RuleId
    title: str = ""
    advice: str = ""
    cyrillic_title: str = ""
    cyrillic_advice: str = ""
    words: tuple[str, ...] = ()
    """Alternatives matched as whole words, ignoring case (regular expressions)."""
    pattern: str = ""
    """A regular expression matched as written (case-sensitive unless ``ignore_case``)."""
    ignore_case: bool = True
    when_missing: bool = False

    @field_validator("words")
    @classmethod
    def _words_compile(cls, words: tuple[str, ...]) -> tuple[str, ...]:
        for word in words:
            _compile(word, re.IGNORECASE)
        return words

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, pattern: str) -> str:
        if pattern:
            _compile(pattern, 0)
        return pattern


class RuleFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    language: Language | Literal["common"]
    rules: tuple[RuleEntry, ...] = Field(min_length=1)


def _compile(pattern: str, flags: int) -> re.Pattern[str]:
    try:
        return re.compile(pattern, flags)
    except re.error as exc:
        raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from None


def _words(alternatives: Sequence[str]) -> str:
    """Whole words; a case ending after a hyphen (Serbian ``DNS-a``) still counts as the word."""
    return r"(?<![\w-])(?:" + "|".join(alternatives) + r")(?:-\w{1,3})?(?![\w-])"


def _read(name: str) -> RuleFile:
    text = (files("messages") / "tone_rules" / f"{name}.yaml").read_text(encoding="utf-8")
    try:
        return RuleFile.model_validate(yaml.safe_load(text))
    except ValidationError as exc:
        raise ValueError(f"messages/tone_rules/{name}.yaml: {exc}") from None


def _build(language: Language, entry: RuleEntry, shared: RuleEntry | None) -> ToneRule:
    words = entry.words + (shared.words if shared else ())
    patterns = [p for p in (entry.pattern, shared.pattern if shared else "") if p]
    if words:
        patterns.insert(0, _words(words))
    if not patterns or not entry.title or not entry.advice:
        raise ValueError(f"tone rule {language}/{entry.id} needs a title, advice and a pattern")
    if language == "sr" and not (entry.cyrillic_title and entry.cyrillic_advice):
        raise ValueError(f"tone rule sr/{entry.id} needs its title and advice in Cyrillic too")
    flags = re.IGNORECASE if entry.ignore_case else 0
    return ToneRule(
        id=entry.id,
        title=entry.title,
        pattern=_compile("|".join(f"(?:{p})" for p in patterns), flags),
        advice=entry.advice,
        flags_when_missing=entry.when_missing,
        language=language,
        cyrillic_title=entry.cyrillic_title,
        cyrillic_advice=entry.cyrillic_advice,
    )


@cache
def _rulebook() -> dict[Language, tuple[ToneRule, ...]]:
    """Every language's rules, read once from the package data and checked."""
    shared = {entry.id: entry for entry in _read("common").rules}
    book: dict[Language, tuple[ToneRule, ...]] = {}
    for language in LANGUAGES:
        entries = _read(language).rules
        ids = [entry.id for entry in entries]
        if sorted(ids) != sorted(RULE_IDS):
            raise ValueError(f"tone rules for {language} must be exactly {', '.join(RULE_IDS)}")
        book[language] = tuple(_build(language, e, shared.get(e.id)) for e in entries)
    return book


def rules_for(language: Language = "en", *, final: bool = False) -> tuple[ToneRule, ...]:
    """The rules for ``language``; ``final`` leaves out the promise of a next update."""
    rules = _rulebook()[language]
    return tuple(r for r in rules if r.id != NOT_IN_FINAL) if final else rules


RULES: tuple[ToneRule, ...] = rules_for("en")
FINAL_RULES: tuple[ToneRule, ...] = rules_for("en", final=True)
"""For the final, “resolved” update: there is no next update to promise."""


def check_tone(
    text: str,
    rules: Sequence[ToneRule] | None = None,
    *,
    language: Language = "en",
    final: bool = False,
) -> list[Finding]:
    """Everything in ``text`` worth a second look, in rule order; empty when it reads well.

    ``rules`` defaults to those of ``language`` (for a final update when ``final``)."""
    chosen = rules_for(language, final=final) if rules is None else rules
    views: dict[Language, _View] = {}
    findings: list[Finding] = []
    for rule in chosen:
        view = views.get(rule.language) or views.setdefault(rule.language, _view(text, rule))
        match = rule.pattern.search(view.text)
        title, advice = view.wording(rule)
        if rule.flags_when_missing:
            if match is None:
                findings.append(Finding(rule.id, title, "", advice))
        elif match is not None:
            findings.append(Finding(rule.id, title, view.excerpt(match), advice))
    return findings


# Serbian Cyrillic → Latin, letter by letter (Vuk's alphabet ↔ Gaj's Latin alphabet).
_SR_ALPHABET = (
    "а=a б=b в=v г=g д=d ђ=đ е=e ж=ž з=z и=i ј=j к=k л=l љ=lj м=m н=n њ=nj о=o п=p р=r "  # noqa: RUF001
    "с=s т=t ћ=ć у=u ф=f х=h ц=c ч=č џ=dž ш=š"  # noqa: RUF001
)
_SR_LATIN = dict(pair.split("=") for pair in _SR_ALPHABET.split())
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


@dataclass(frozen=True)
class _View:
    """The text as the rules read it, mapped back to the text as written."""

    original: str
    text: str
    origin: tuple[int, ...]
    """For each character of ``text``, the index of the character of ``original`` it came from."""
    cyrillic: bool = False

    def excerpt(self, match: re.Match[str]) -> str:
        if match.end() <= match.start():
            return ""
        start, end = self.origin[match.start()], self.origin[match.end() - 1] + 1
        return " ".join(self.original[start:end].split())[:80]

    def wording(self, rule: ToneRule) -> tuple[str, str]:
        if self.cyrillic and rule.cyrillic_title:
            return rule.cyrillic_title, rule.cyrillic_advice
        return rule.title, rule.advice


def _view(text: str, rule: ToneRule) -> _View:
    if rule.language != "sr":
        return _View(text, text, tuple(range(len(text))))
    return transliterate_serbian(text)


def transliterate_serbian(text: str) -> _View:
    """Serbian Cyrillic to Latin: ``Љубазно`` → ``Ljubazno``, ``ЉУТИ`` → ``LJUTI``."""
    out: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        latin = _SR_LATIN.get(char.lower())
        if latin is None:
            out.append(char)
            origin.append(index)
            continue
        if char.isupper():
            neighbours = text[index - 1 : index] + text[index + 1 : index + 2]
            shouted = any(c.isupper() for c in neighbours)
            latin = latin.upper() if shouted else latin.capitalize()
        out.append(latin)
        origin.extend([index] * len(latin))
    bare = _PLACEHOLDER.sub("", text)
    cyrillic = sum(c.lower() in _SR_LATIN for c in bare)
    latin_letters = sum(c.isascii() and c.isalpha() for c in bare)
    return _View(text, "".join(out), tuple(origin), cyrillic=cyrillic > latin_letters)
