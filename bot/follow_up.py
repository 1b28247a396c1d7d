"""Follow-up reminder messages: the owner until every customer is done, the lead once overdue."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack_calls import slack_error
from messages.closing import follow_up_reminder_blocks
from messages.model import IncidentCard
from messages.updates import reminder_handled_blocks
from storage.reminders import FOLLOW_UP, ReminderStore

log = logging.getLogger(__name__)


async def send_follow_up_reminder(
    client: AsyncWebClient,
    reminders: ReminderStore,
    card: IncidentCard,
    incident_id: int,
    owner: str,
    remaining: int,
    total: int,
    overdue: bool,
    metadata: dict[str, object],
) -> str:
    """Post the reminder (the previous one gives up its button); DM the lead when overdue."""
    await _retire_previous(client, reminders, card, incident_id)
    blocks = follow_up_reminder_blocks(card, owner, remaining, total, overdue)
    posted = await client.chat_postMessage(
        channel=str(card.channel_id),
        text=f"{remaining} customers of {card.label} still need a follow-up.",
        blocks=blocks,
        metadata=metadata,
    )
    lead = card.roles.get("lead")
    if overdue and lead and lead != owner:
        try:
            await client.chat_postMessage(
                channel=lead,
                text=f"The customer follow-up for {card.label} is overdue: "
                f"{remaining} of {total} customers are still waiting.",
                blocks=blocks,
            )
        except SlackApiError as exc:
            log.warning("%s: could not DM the lead: %s", card.label, slack_error(exc))
    return str(posted["ts"])


async def _retire_previous(
    client: AsyncWebClient, reminders: ReminderStore, card: IncidentCard, incident_id: int
) -> None:
    previous = await reminders.take_message(incident_id, FOLLOW_UP)
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
