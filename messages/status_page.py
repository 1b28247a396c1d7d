"""What Amends answers about the status page and the customers' private pages."""

from __future__ import annotations

from messages.blocks import escape
from messages.refusals import COMMAND


def customer_link(name: str, url: str) -> str:
    name = escape(name)
    return (
        f"{name}'s private incident page: {url}\nIt shows {name} only its own incidents. "
        f"Send it to them; `{COMMAND} customers revoke-link {name}` stops it working."
    )


def customer_link_revoked(name: str) -> str:
    name = escape(name)
    return f"{name}'s link no longer works. `{COMMAND} customers link {name}` issues a new one."
