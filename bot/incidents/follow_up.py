"""Follow-up reminder messages: the owner until every customer is done, the lead once overdue."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.calls import slack_error
from messages.closing import follow_up_reminder_blocks
from messages.model import IncidentCard
from messages.updates import reminder_handled_blocks
from storage.models import Reminder
from storage.reminders import FOLLOW_UP, ReminderStore

log = logging.getLogger(__name__)


async def send_follow_up_reminder(
    client: AsyncWebClient,
    reminders: ReminderStore,
    card: IncidentCard,
    claim: Reminder,
    owner: str,
    remaining: int,
    total: int,
    overdue: bool,
    metadata: dict[str, object],
) -> str:
    """Post the reminder (the previous one gives up its button, if ``claim`` still holds the
    row). The lead's DM once overdue is the engine's, sent once per version."""
    await _retire_previous(client, reminders, card, claim)
    posted = await client.chat_postMessage(
        channel=str(card.channel_id),
        text=f"{remaining} customers of {card.label} still need a follow-up.",
        blocks=follow_up_reminder_blocks(card, owner, remaining, total, overdue),
        metadata=metadata,
    )
    return str(posted["ts"])


def overdue_dm_text(card: IncidentCard, remaining: int, total: int) -> str:
    return (
        f"The customer follow-up for {card.label} is overdue: "
        f"{remaining} of {total} customers are still waiting."
    )


async def _retire_previous(
    client: AsyncWebClient, reminders: ReminderStore, card: IncidentCard, claim: Reminder
) -> None:
    previous = await reminders.take_message(claim.incident_id, FOLLOW_UP, claim=claim)
    if previous is None:
        return
    try:
        await client.chat_update(
            channel=previous[0],
            ts=previous[1],
            text="Superseded",
            blocks=reminder_handled_blocks("a newer follow-up reminder is below."),
        )
    except SlackApiError as exc:
        log.warning("%s: could not retire the follow-up reminder: %s", card.label, slack_error(exc))
