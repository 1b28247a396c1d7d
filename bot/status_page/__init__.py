"""The public status page and each customer's private page, served on ``PORT``.

``customer_page_url(settings, token)`` is the address to send a customer (its token from
``StatusStore.link_for``); everything else here is wired by ``bot.runtime.process``.
"""

from __future__ import annotations

from bot.settings import Settings

STATUS_PATH = "/status"
CUSTOMER_PATH = "/c"


def public_base(settings: Settings) -> str:
    """``PUBLIC_URL``, else where this process listens on the local machine."""
    return settings.public_url or f"http://localhost:{settings.port}"


def status_url(settings: Settings) -> str:
    return f"{public_base(settings)}{STATUS_PATH}"


def incident_url(settings: Settings, public_id: str) -> str:
    return f"{status_url(settings)}/incidents/{public_id}"


def customer_page_url(settings: Settings, token: str) -> str:
    """The private page of the customer whose link ``token`` is (``/c/<token>``)."""
    return f"{public_base(settings)}{CUSTOMER_PATH}/{token}"
