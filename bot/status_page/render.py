"""Jinja2 with autoescape on for every template: customer text is always escaped."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


def iso(moment: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``: what ``<time datetime>``, Atom and JSON carry."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc(moment: datetime) -> str:
    """What a person reads: the time with its zone named."""
    return moment.astimezone(UTC).strftime("%d %b %Y, %H:%M UTC")


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("bot.status_page", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["iso"] = iso
    env.filters["utc"] = utc
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
