"""Small readers over the Slack API double's state, shared by end-to-end tests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from bot.sandbox.double.records import WAIT_SECONDS, RecordedCall
from storage.models import Reminder, utcnow
from storage.reminders import Completion
from tests.support.harness import Harness


def block_text(blocks: list[dict[str, Any]]) -> str:
    """Everything a person could read in some blocks, as one string."""
    return json.dumps(blocks, ensure_ascii=False)


def shown_text(blocks: list[dict[str, Any]]) -> str:
    """The text of the blocks as read, without the options hidden in menus."""
    parts: list[str] = []
    for block in blocks:
        if block.get("type") == "actions":
            for element in block["elements"]:
                initial = element.get("initial_option") or {}
                parts.append(str((initial.get("text") or {}).get("text", "")))
                parts.append(str(element.get("initial_user", "")))
            continue
        parts.append(json.dumps(block, ensure_ascii=False))
    return " ".join(parts)


def incident_channels(h: Harness) -> list[dict[str, Any]]:
    return [c for c in h.double.calls_to("conversations.create") if c.response.get("ok")]


def created_channel(h: Harness, index: int = -1) -> dict[str, Any]:
    return dict(incident_channels(h)[index].response["channel"])


def header_message(h: Harness, channel_id: str) -> dict[str, Any]:
    """The pinned header: the first message the bot posted in the incident channel."""
    pinned = h.double.pins(channel_id)
    assert pinned, "the header was not pinned"
    ts = pinned[0]["ts"] if isinstance(pinned[0], dict) else pinned[0]
    return next(m for m in h.double.messages(channel_id) if m["ts"] == ts)


def ephemeral_texts(h: Harness, url: str) -> list[str]:
    return [json.dumps(r.body, ensure_ascii=False) for r in h.double.responses_for(url)]


def reply_text(reply: Any) -> str:
    """What the ack showed the user (plain text or JSON)."""
    if reply.json is not None:
        return json.dumps(reply.json, ensure_ascii=False)
    return str(reply.text)


async def said(h: Harness, reply: Any) -> str:
    """What the person was told privately: the ack's text, else the first response_url post."""
    text = reply_text(reply) if reply.text else ""
    if text:
        return text
    texts = await h.double.wait_for(lambda: ephemeral_texts(h, reply.response_url))
    return texts[0]


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = WAIT_SECONDS) -> None:
    """Poll an async ``check`` until it holds (work is applied after the ack)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not true within {timeout}s: {check.__qualname__}")
        await asyncio.sleep(0.02)


def team_joins(h: Harness, channel: str, *users: str) -> None:
    """People join the incident channel (as responders do), so they may act on it."""
    members = h.double.workspace().channels[channel].members
    members.extend(u for u in users or ("UBOB", "UMARIA") if u not in members)


def completion(
    claim: Reminder, message: tuple[str, str] | None = None, next_stage: str = "escalate"
) -> Completion:
    """What a delivery of ``claim`` records once it has posted ``message``."""
    now = utcnow()
    return Completion(
        reminder=claim,
        next_due=now + timedelta(hours=1),
        next_stage=next_stage,
        sent_at=now,
        message=message,
        actor_id="ULEAD",
        event="reminder_due",
    )


TRIGGER_TRIES = 3
"""A loaded test machine can hold the bot past a trigger's 3 s before it opens the form
(Slack answers ``expired_trigger_id``, and so does the double); a person would run the
command again, and so does ``open_form``, at most this many times in all."""


async def open_form(h: Harness, text: str, user: str, channel: str) -> dict[str, Any]:
    """Run ``/incident <text>`` and return the form it opened."""
    for _ in range(TRIGGER_TRIES):
        call = await _views_open_after(h, text, user, channel)
        if call.response.get("error") != "expired_trigger_id":
            assert call.response.get("ok"), call.response
            return h.double.views[call.response["view"]["id"]]
    raise AssertionError(f"each /incident {text} opened its form after the trigger expired")


async def _views_open_after(h: Harness, text: str, user: str, channel: str) -> RecordedCall:
    """The first ``views.open`` (answered ok or not) after ``/incident <text>``."""
    before = len(h.double.calls_to("views.open"))
    await h.driver.command("/incident", text, user_id=user, channel_id=channel)
    return (await h.double.wait_for(lambda: h.double.calls_to("views.open")[before:]))[0]
