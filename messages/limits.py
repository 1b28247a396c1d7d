"""Limits on what people type, declared once: ``bot/`` refuses input beyond them, the
forms enforce them, and the builders size what they show by them."""

from __future__ import annotations

from typing import Final

TITLE_MAX: Final = 150
"""An incident title: the header block Slack pins shows at most 150 characters."""

CUSTOMER_NAME_MAX: Final = 200
"""One affected customer's name, as accepted and as the checklist shows it."""

CUSTOMERS_SHOWN: Final = 10
"""How many affected customers the header names (the rest are counted): what an
incident loaded for rendering carries, however many it affects."""

FORM_ERROR_MAX: Final = 150
"""What a form shows under a field when it refuses a submission (``response_action:
errors``): longer messages are cut here so the error stays readable under the field."""


def form_error(message: str) -> str:
    """A refusal as a form shows it under the field it is about."""
    return message[:FORM_ERROR_MAX]
