"""Small wrappers for Slack calls whose harmless errors are not failures."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.incidents.errors import UserError
from messages import refusals

ClientFor = Callable[[str], Awaitable[AsyncWebClient]]
"""The Web API client of a workspace, by team id (under OAuth each has its own token)."""

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=5)
"""The longest wait before Slack is tried again, for parked calls and for reminders."""


def slack_error(exc: SlackApiError) -> str:
    """Slack's error code (``name_taken``), or the HTTP status when there is none."""
    data = exc.response.data if exc.response is not None else None
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    status = exc.response.status_code if exc.response is not None else "?"
    return f"http_{status}"


async def call_tolerating(
    call: Callable[..., Awaitable[Any]], tolerated: frozenset[str], **kwargs: Any
) -> None:
    """Make ``call``; the error codes in ``tolerated`` mean "already so" and are fine."""
    try:
        await call(**kwargs)
    except SlackApiError as exc:
        if slack_error(exc) not in tolerated:
            raise


async def invite(client: AsyncWebClient, channel: str, user_id: str) -> None:
    """Add someone to a channel; already being there (or being the bot) is fine."""
    await call_tolerating(
        client.conversations_invite,
        frozenset({"already_in_channel", "cant_invite_self"}),
        channel=channel,
        users=user_id,
    )


async def open_view(
    client: AsyncWebClient, trigger_id: str, view: dict[str, Any], retry_hint: str
) -> None:
    """Open a modal; a trigger Slack no longer honours becomes a message the user can act on."""
    try:
        await client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as exc:
        if slack_error(exc) in ("expired_trigger_id", "exchanged_trigger_id", "invalid_trigger_id"):
            raise UserError(refusals.form_window_closed(retry_hint)) from None
        raise


async def post_joining(client: AsyncWebClient, channel: str, **kwargs: Any) -> str:
    """Post to a public channel, joining it first if the bot is not yet a member."""
    try:
        response = await client.chat_postMessage(channel=channel, **kwargs)
    except SlackApiError as exc:
        if slack_error(exc) != "not_in_channel":
            raise
        joined = await client.conversations_join(channel=channel)
        channel_id = joined["channel"]["id"]
        response = await client.chat_postMessage(channel=channel_id, **kwargs)
    return str(response["ts"])


FORM_CHECK_SECONDS = 1.5
"""How long a form's check may ask Slack before the form must be answered (Slack waits 3 s
for the answer that carries the form's errors); a slower Slack is not checked."""


async def check_person(client: AsyncWebClient, user_id: str, within: float | None = None) -> None:
    """Roles and follow-ups go to people who exist, are still here, and are not bots.
    With ``within``, a Slack slower than that is given the benefit of the doubt (logged)."""
    try:
        async with asyncio.timeout(within):
            response = await client.users_info(user=user_id)
    except TimeoutError:
        log.warning("users.info took over %ss: %s was not checked", within, user_id)
        return
    except SlackApiError as exc:
        if slack_error(exc) == "user_not_found":
            raise UserError(refusals.unknown_user(user_id)) from None
        raise
    user = response["user"]
    if user.get("deleted"):
        raise UserError(refusals.user_left(user_id))
    if user.get("is_bot"):
        raise UserError(refusals.user_is_a_bot(user_id))
