"""The languages customer messages are written in, as people type them in commands."""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.incidents.errors import UserError
from messages import refusals
from messages.tone import LANGUAGES, Language

_TRAILING_CODE = re.compile(r"^(?P<name>.*?)\s*\((?P<code>[^()]*)\)\s*$")


def parse_language(code: str) -> Language:
    """``ru`` (any case, spaces ignored) → ``ru``; anything else is refused, listing the codes."""
    cleaned = code.strip().lower()
    if cleaned not in LANGUAGES:
        raise UserError(refusals.not_a_language(code.strip(), LANGUAGES))
    return cleaned


def split_language(entry: str) -> tuple[str, Language | None]:
    """``Acme (cs)`` → ``("Acme", "cs")``; ``Acme`` → ``("Acme", None)``. An unknown code in
    the trailing parentheses is refused, so a typo does not become part of the name."""
    match = _TRAILING_CODE.match(entry)
    if match is None or not match.group("name").strip():
        return entry, None
    return match.group("name").strip(), parse_language(match.group("code"))


def split_languages(entries: Iterable[str]) -> tuple[tuple[str, ...], dict[str, Language]]:
    """Customers as typed (``Acme (cs)``, ``Globex``) → their names, each once (compared
    case-insensitively, the first spelling kept), and the languages given, by kept name
    (the first one given wins). An unknown code is refused, naming the codes there are."""
    names: dict[str, str] = {}
    languages: dict[str, Language] = {}
    for entry in entries:
        name, language = split_language(entry)
        kept = names.setdefault(name.casefold(), name)
        if language is not None:
            languages.setdefault(kept, language)
    return tuple(names.values()), languages
