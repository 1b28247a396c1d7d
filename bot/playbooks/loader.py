"""Reading a directory of playbooks: every problem is one line naming the file and the field.

The bot refuses to start on a playbook it cannot read (``load_configured``, called where the
settings are checked); ``amends playbooks check`` lists every problem at once (``scan``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from bot.playbooks.model import PHASES, Playbook
from bot.settings import Settings
from messages.tone import LANGUAGES

SHIPPED: Traversable = files("bot.playbooks") / "examples"
"""The examples that ship with Amends: the playbooks when PLAYBOOKS_DIR is not set."""
SUFFIXES = (".yaml", ".yml")
_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):  # type: ignore[misc]
    """YAML's safe loader, but dates stay text so pydantic checks them and names the field."""


_Loader.add_constructor(
    "tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node)
)


class PlaybookError(Exception):
    """A playbook that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class Loaded:
    """A playbook and the file it came from (as shown in messages)."""

    path: str
    playbook: Playbook


@dataclass
class Scan:
    """Everything read from a directory: the usable playbooks and one line per problem."""

    playbooks: list[Loaded] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def scan(
    directory: Traversable, severities: Sequence[str], *, fallback_severity: str | None = None
) -> Scan:
    """Read every ``*.yaml`` in ``directory``; severities must be among ``severities``.

    With ``fallback_severity`` (for the shipped examples), a severity this installation does
    not configure becomes that one instead of an error: the examples must not stop a team
    with its own severity names from starting."""
    result = Scan()
    if not directory.is_dir():
        result.errors.append(f"{directory}: no such directory")
        return result
    names: dict[str, str] = {}
    for entry in sorted(directory.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(SUFFIXES) or not entry.is_file():
            continue
        path = str(entry)
        try:
            playbook = read_playbook(path, entry.read_text(encoding="utf-8"))
        except PlaybookError as exc:
            result.errors.extend(str(exc).splitlines())
            continue
        if playbook.severity not in severities:
            if fallback_severity is None:
                result.errors.append(
                    f"{path}: severity: {playbook.severity} is not one of "
                    f"{', '.join(severities)} (from CUSTOMER_UPDATE_CADENCE)"
                )
                continue
            playbook = playbook.model_copy(update={"severity": fallback_severity})
        key = playbook.name.casefold()
        if key in names:
            result.errors.append(
                f"{path}: name: {playbook.name!r} is already the name of {names[key]}"
            )
            continue
        names[key] = path
        result.playbooks.append(Loaded(path, playbook))
    return result


def load_playbooks(
    directory: Traversable, severities: Sequence[str], *, fallback_severity: str | None = None
) -> tuple[Loaded, ...]:
    """The playbooks in ``directory``, or :class:`PlaybookError` naming the first problem."""
    result = scan(directory, severities, fallback_severity=fallback_severity)
    if result.errors:
        raise PlaybookError(result.errors[0])
    return tuple(result.playbooks)


def load_configured(settings: Settings) -> tuple[Loaded, ...]:
    """PLAYBOOKS_DIR's playbooks (or the shipped examples), checked against the settings."""
    if settings.playbooks_dir is None:
        return load_playbooks(
            SHIPPED, settings.severities, fallback_severity=settings.default_severity
        )
    return load_playbooks(settings.playbooks_dir, settings.severities)


def read_playbook(path: str, text: str) -> Playbook:
    """Parse one file; :class:`PlaybookError` has one line per problem, each naming the field."""
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise PlaybookError(f"{path}: {where}not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise PlaybookError(
            f"{path}: the file must be a mapping of playbook fields (name, summary, severity, …)"
        )
    try:
        return Playbook.model_validate(data)
    except ValidationError as exc:
        raise PlaybookError(
            "\n".join(f"{path}: {_describe(error)}" for error in exc.errors())
        ) from None


def _describe(error: ErrorDetails) -> str:
    """``templates.ru.investigating: unknown placeholder {foo} (…)``, from pydantic's error."""
    loc = [str(part) for part in error["loc"] if part != "[key]"]
    where = ".".join(loc) or "file"
    kind = error["type"]
    if kind == "missing":
        return f"{where}: is required"
    if kind == "extra_forbidden" and len(loc) == 3 and loc[0] == "templates":
        return f"{where}: is not a phase (use {', '.join(PHASES)})"
    if kind == "extra_forbidden":
        return f"{where}: is not a playbook field"
    if kind == "literal_error":
        return f"{where}: {error['input']!r} is not a language (use {', '.join(LANGUAGES)})"
    return f"{where}: {str(error['msg']).removeprefix('Value error, ')}"
