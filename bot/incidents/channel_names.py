"""Slack channel names for incidents: ``inc-<number>-<slug>``, drills ``drill-<number>-<slug>``.

Slack allows lowercase letters, digits, ``-`` and ``_``, at most 80 characters. Titles in
other scripts are transliterated (``Оплата не проходит`` → ``oplata-ne-prokhodit``) so the
name stays readable; a title with nothing left gives just ``inc-<number>``.
"""

from __future__ import annotations

import re

from anyascii import anyascii

MAX_CHANNEL_NAME = 80
_NOT_ALLOWED = re.compile(r"[^a-z0-9]+")
VALID_CHANNEL_NAME = re.compile(r"^[a-z0-9_-]{1,80}$")


def slugify(title: str) -> str:
    """Lowercase ASCII words joined by ``-``."""
    ascii_title = anyascii(title).lower()
    return _NOT_ALLOWED.sub("-", ascii_title).strip("-")


def channel_name(number: int, title: str, attempt: int = 0, *, drill: bool = False) -> str:
    """The name to try on ``attempt`` (0 first); later attempts add ``-2``, ``-3``, …

    The slug is cut at a word boundary where it can be, so the suffix always fits. A drill's
    channel starts ``drill-``, so nobody mistakes it for a real incident in the sidebar.
    """
    prefix = f"{'drill' if drill else 'inc'}-{number}"
    suffix = f"-{attempt + 1}" if attempt else ""
    room = MAX_CHANNEL_NAME - len(prefix) - len(suffix) - 1
    slug = _cut(slugify(title), room)
    return f"{prefix}-{slug}{suffix}" if slug else f"{prefix}{suffix}"


def _cut(slug: str, room: int) -> str:
    if len(slug) <= room:
        return slug
    cut = slug[:room]
    boundary = cut.rfind("-")
    return (cut[:boundary] if boundary > room // 2 else cut).strip("-")
