"""Every failure ends in a clear private answer, never silence and never a lost ack.

Listeners are wrapped by :func:`guarded` instead of relying on Bolt's error handler alone:
when a listener raises right after ``ack()``, Bolt's runner can overwrite the pending ack
with nothing and Slack then sees a 404 after three seconds.
"""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import UserError
from handlers.replies import tell

log = logging.getLogger("amends.errors")

Listener = Callable[..., Awaitable[None]]


def message_for(error: Exception) -> str:
    if isinstance(error, UserError):
        return error.message
    reference = secrets.token_hex(4)
    log.error("unexpected error (ref %s)", reference, exc_info=error)
    return (
        f"Sorry, that failed on my side (reference `{reference}`). "
        "Try again in a moment; if it keeps failing, give the reference to your Amends admin."
    )


async def report(error: Exception, body: dict[str, Any], client: AsyncWebClient) -> None:
    text = message_for(error)
    try:
        await tell(client, body, text)
    except Exception:
        log.exception("could not tell the user about an error: %s", text)


def guarded(listener: Listener) -> Listener:
    """Run ``listener``; acknowledge if it did not, and report any error to the user.

    The listener must take ``ack``, ``body`` and ``client``.
    """

    @functools.wraps(listener)
    async def run(**kwargs: Any) -> None:
        try:
            await listener(**kwargs)
        except Exception as exc:
            ack = kwargs["ack"]
            if getattr(ack, "response", None) is None:
                await ack()
            await report(exc, kwargs["body"], kwargs["client"])

    return run


async def handle_error(
    error: Exception,
    body: dict[str, Any],
    client: AsyncWebClient,
    response: BoltResponse | None,
) -> BoltResponse | None:
    """Bolt's global handler, for failures outside listeners (e.g. in middleware)."""
    await report(error, body, client)
    if response is not None:
        return BoltResponse(status=200, body="")
    return None
