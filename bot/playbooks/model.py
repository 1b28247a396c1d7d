"""One playbook file, validated: the format a team writes and Amends relies on."""

from __future__ import annotations

import string
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from bot.settings import SLACK_USER_ID, parse_duration
from messages.blocks import OPTION_TEXT_MAX
from messages.tone import Language
from messages.updates import UPDATE_MAX

Phase = Literal["investigating", "identified", "monitoring", "resolved", "follow_up"]
PHASES: tuple[Phase, ...] = get_args(Phase)
FINAL_PHASES: frozenset[Phase] = frozenset({"resolved", "follow_up"})
"""Phases after the incident is over: there is no next update to promise."""
PLACEHOLDERS = ("title", "started", "next_update", "impact", "customer")
"""What a template may ask Amends to fill in, e.g. ``{started}``."""


def check_placeholders(text: str) -> str:
    """Only the known ``{placeholders}``, written plainly; ``{{`` and ``}}`` are braces."""
    known = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise ValueError(f"{exc} (write {{{{ or }}}} for a brace; placeholders: {known})") from None
    for _, name, spec, conversion in fields:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            raise ValueError(f"unknown placeholder {{{name}}} (use {known})")
        if spec or conversion:
            raise ValueError(f"write the placeholder as {{{name}}}, without a format")
    return text


Template = Annotated[
    str, Field(min_length=1, max_length=UPDATE_MAX), AfterValidator(check_placeholders)
]


class Templates(BaseModel):
    """One language's customer messages, by incident phase; every phase is optional."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    investigating: Template | None = None
    identified: Template | None = None
    monitoring: Template | None = None
    resolved: Template | None = None
    follow_up: Template | None = None
    """What the follow-up owner says when checking in after the incident."""

    def written(self) -> Iterator[tuple[Phase, str]]:
        for phase in PHASES:
            text: str | None = getattr(self, phase)
            if text is not None:
                yield phase, text


class Playbook(BaseModel):
    """A scenario prepared in advance: its checklist, its customer templates, its owner."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=OPTION_TEXT_MAX)
    """Shown in Slack (as a menu option, hence the length); unique."""
    summary: str = Field(min_length=1, max_length=300)
    keywords: tuple[str, ...] = ()
    severity: str
    """Checked against the configured severities when the playbooks are loaded."""
    cadence: timedelta | None = None
    language: Language
    owner: str
    review_by: date
    steps: tuple[str, ...] = ()
    compensation: str | None = None
    templates: dict[Language, Templates] = Field(default_factory=dict)

    @field_validator("severity")
    @classmethod
    def _severity_shape(cls, value: str) -> str:
        return value.strip().upper()

    @field_validator("cadence", mode="before")
    @classmethod
    def _cadence_shape(cls, value: object) -> object:
        """The same durations as CUSTOMER_UPDATE_CADENCE: ``20m``, ``90s``, ``1.5h``."""
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValueError("write a duration like 20m, 90s or 1.5h")
        return parse_duration(value)

    @field_validator("owner")
    @classmethod
    def _owner_shape(cls, value: str) -> str:
        if not SLACK_USER_ID.fullmatch(value):
            raise ValueError(f"{value!r} is not a Slack user id like U012ABCDEF")
        return value

    @field_validator("keywords", "steps")
    @classmethod
    def _no_blank_items(cls, items: tuple[str, ...]) -> tuple[str, ...]:
        if any(not item for item in items):
            raise ValueError("has an empty item")
        return items

    def written(self) -> Iterator[tuple[Language, Phase, str]]:
        """Every template: language, phase, text."""
        for language, templates in self.templates.items():
            for phase, text in templates.written():
                yield language, phase, text
