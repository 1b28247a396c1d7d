"""Errors a person can act on. Their message is shown to them as it is."""

from __future__ import annotations


class UserError(Exception):
    """Bad input or a refused action: the text says what was wrong and what to do instead."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        """The form field it is about, when it came from a form."""
