"""Logging: one line per request and per reminder, as text or JSON, never with a secret.

A request (or a reminder delivery) opens a :func:`scope`; whatever code learns along the
way (workspace, incident number) it adds with :func:`note`, and the scope's closing line
carries it. Every line passes through :class:`Redactor`, which masks Slack tokens by
shape and the configured secrets by value, in the message and in tracebacks alike.
JSON lines are redacted field by field *before* serialising: JSON escapes ``"`` and
``\\``, so a secret containing them would no longer match its raw value afterwards.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TextIO

_fields: ContextVar[dict[str, object] | None] = ContextVar("amends_log_fields", default=None)

TOKEN_SHAPE = re.compile(r"\b(xox[abeoprs]|xapp|xoxe\.xox[bp])-[A-Za-z0-9-]+")
MASK = "[redacted]"
FIELD_NAMES = ("team", "incident", "kind", "user", "outcome", "ms", "reminder", "status")
SLACK_SDK_LOGGERS = ("slack_sdk.web.async_base_client", "slack_sdk.web.base_client")
"""slack-sdk's Web API loggers. slack-sdk writes out its debug line for every call (the
whole request, response and headers) whenever such a logger's *own* level is DEBUG or
unset, and only then asks logging whether to drop it: unset, that was a good part of the
CPU of every Slack call. ``configure`` gives them the configured level."""


def note(**fields: object) -> None:
    """Add facts to the current request's log line (no-op outside a scope)."""
    current = _fields.get()
    if current is not None:
        current.update({k: v for k, v in fields.items() if v is not None})


@contextmanager
def scope(**fields: object) -> Iterator[dict[str, object]]:
    """Collect the fields of one request's or one reminder's log line."""
    collected: dict[str, object] = {k: v for k, v in fields.items() if v is not None}
    token = _fields.set(collected)
    try:
        yield collected
    finally:
        _fields.reset(token)


class Redactor:
    """Masks token-shaped strings and the given secret values.

    Each secret is masked as written and as ``repr()`` and JSON escape it (a traceback
    or a ``%r`` shows ``se"cr\\et`` with its backslash doubled)."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        given = {s for s in secrets if s and len(s) >= 6}
        forms = given | {escaped for s in given for escaped in _escaped(s)}
        self.secrets = sorted(forms, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        text = TOKEN_SHAPE.sub(MASK, text)
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def value(self, value: object) -> object:
        """A log field's value with secrets masked; numbers and flags pass as they are."""
        if value is None or isinstance(value, bool | int | float):
            return value
        return self(str(value))


def _escaped(secret: str) -> set[str]:
    """How a secret reads once escaped inside a quoted string."""
    return {
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        repr(secret)[1:-1],
    }


class TextFormatter(logging.Formatter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extra = " ".join(f"{k}={record.__dict__[k]}" for k in FIELD_NAMES if k in record.__dict__)
        return self.redact(f"{line} {extra}" if extra else line)


class JsonFormatter(logging.Formatter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": self.redact(record.getMessage()),
        }
        entry.update(
            {k: self.redact.value(record.__dict__[k]) for k in FIELD_NAMES if k in record.__dict__}
        )
        if record.exc_info:
            entry["error"] = self.redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure(
    fmt: str, level: str, secrets: Iterable[str | None], stream: TextIO | None = None
) -> logging.Handler:
    """Send all logging to ``stream`` (stderr) in ``fmt`` ("text" or "json")."""
    redact = Redactor(secrets)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(redact) if fmt == "json" else TextFormatter(redact))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in SLACK_SDK_LOGGERS:
        logging.getLogger(name).setLevel(level.upper())
    return handler
