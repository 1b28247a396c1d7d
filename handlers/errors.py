"""Every failure ends in a clear private answer, never silence and never a lost ack.

Listeners are wrapped by :func:`guarded` instead of relying on Bolt's error handler alone:
when a listener raises right after ``ack()``, Bolt's runner can overwrite the pending ack
with nothing and Slack then sees a 404 after three seconds.
"""

from __future__ import annotations

import functools
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.incidents.errors import UserError
from bot.observability import logs
from bot.slack import outbox
from handlers.replies import team_of, tell
from messages import refusals
from messages.text import parked_text
from storage.db import database_unavailable

log = logging.getLogger("amends.errors")
requests_log = logging.getLogger("amends.requests")

Listener = Callable[..., Awaitable[None]]


def message_for(error: Exception) -> str:
    if isinstance(error, UserError):
        return error.message
    if database_unavailable(error):
        log.warning("database unavailable: %r", error)
        return refusals.database_away()
    reference = secrets.token_hex(4)
    log.error("unexpected error (ref %s)", reference, exc_info=error)
    return refusals.failed_on_our_side(reference)


async def report(error: Exception, body: dict[str, Any], client: AsyncWebClient) -> None:
    await tell_safely(client, body, message_for(error))


async def tell_safely(client: AsyncWebClient, body: dict[str, Any], text: str) -> None:
    try:
        await tell(client, body, text)
    except Exception:
        log.exception("could not tell the user: %s", text)


def guarded(listener: Listener) -> Listener:
    """Run ``listener``; acknowledge if it did not, and report any error to the user.

    The listener must take ``ack``, ``body`` and ``client``.
    """

    @functools.wraps(listener)
    async def run(**kwargs: Any) -> None:
        body = kwargs["body"]
        started = time.perf_counter()
        with logs.scope(**request_fields(body)) as fields, outbox.tracking() as parked:
            outcome = "ok"
            try:
                await listener(**kwargs)
            except Exception as exc:
                outcome = "refused" if isinstance(exc, UserError) else "failed"
                ack = kwargs["ack"]
                if getattr(ack, "response", None) is None:
                    await ack()
                await report(exc, body, kwargs["client"])
            if parked:
                outcome += "+parked"
                await tell_safely(kwargs["client"], body, parked_text(parked))
            fields.update(outcome=outcome, ms=round((time.perf_counter() - started) * 1000, 1))
            requests_log.info("%s %s", fields.get("kind"), outcome, extra=fields)

    return run


def request_fields(body: dict[str, Any]) -> dict[str, object]:
    """Who asked what, from any Slack request body: workspace, user and kind."""
    team = team_of(body) or None
    user = body.get("user")
    actions = body.get("actions")
    first = actions[0] if isinstance(actions, list) and actions else None
    view = body.get("view") if isinstance(body.get("view"), dict) else {}
    kind = (
        body.get("command")
        or (first.get("action_id") if isinstance(first, dict) else None)
        or (view or {}).get("callback_id")
        or body.get("type")
    )
    return {
        "team": team or body.get("team_id") or (user or {}).get("team_id"),
        "user": (user or {}).get("id") if isinstance(user, dict) else body.get("user_id"),
        "kind": str(kind or "unknown"),
    }


async def handle_error(
    error: Exception,
    body: dict[str, Any],
    client: AsyncWebClient,
    response: BoltResponse | None,
) -> BoltResponse | None:
    """Bolt's global handler: requests no listener takes, and failures outside listeners
    (e.g. in middleware). Slack always gets a 200 and the person a clear answer."""
    if isinstance(error, BoltUnhandledRequestError):
        return await _unhandled(body, client)
    await report(error, body, client)
    if response is not None:
        return BoltResponse(status=200, body="")
    return None


async def _unhandled(body: dict[str, Any], client: AsyncWebClient) -> BoltResponse:
    """A command, button or form Amends does not have (an old message, another app's)."""
    fields = request_fields(body)
    requests_log.info("%s unhandled", fields["kind"], extra={**fields, "outcome": "unhandled"})
    if body.get("command"):
        return BoltResponse(status=200, body=refusals.unknown_command())
    if body.get("type") in ("block_actions", "view_submission", "shortcut", "message_action"):
        await tell_safely(client, body, refusals.unknown_control())
    return BoltResponse(status=200, body="")
