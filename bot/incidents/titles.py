"""What makes a title (an incident's, or the one customers read): present, and short
enough for Slack's header."""

from __future__ import annotations

from bot.incidents.errors import UserError
from messages import refusals
from messages.limits import TITLE_MAX


def check_title(title: str) -> str:
    """A title is required and must fit Slack's header (``TITLE_MAX`` characters)."""
    title = " ".join(title.split())
    if not title:
        raise UserError(refusals.title_missing())
    if len(title) > TITLE_MAX:
        raise UserError(refusals.title_too_long(len(title), TITLE_MAX))
    return title
