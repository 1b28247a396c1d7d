"""Affected-customer names as people type them: one per line or comma-separated."""

from __future__ import annotations

import re

from bot.errors import UserError

CUSTOMER_NAME_MAX = 200
_SEPARATORS = re.compile(r"[\n,;]+")


def parse_customer_list(text: str) -> tuple[str, ...]:
    """Split, trim and de-duplicate (case-insensitively, first spelling wins)."""
    names: dict[str, str] = {}
    for raw in _SEPARATORS.split(text or ""):
        name = " ".join(raw.split())
        if not name:
            continue
        if len(name) > CUSTOMER_NAME_MAX:
            raise UserError(
                f"The customer name “{name[:40]}…” is {len(name)} characters long; "
                f"keep each name under {CUSTOMER_NAME_MAX} characters."
            )
        names.setdefault(name.casefold(), name)
    return tuple(names.values())
