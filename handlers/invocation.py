"""What one ``/incident`` invocation carries to the subcommand that runs it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime.services import Services
from handlers.parsing import Command


@dataclass(frozen=True)
class Call:
    """The parsed text, Slack's command payload and the ways to answer it."""

    services: Services
    parsed: Command
    command: dict[str, Any]
    ack: AsyncAck
    client: AsyncWebClient
    respond: AsyncRespond

    @property
    def team_id(self) -> str:
        return str(self.command["team_id"])

    @property
    def user_id(self) -> str:
        return str(self.command["user_id"])

    @property
    def channel_id(self) -> str:
        return str(self.command["channel_id"])

    async def tell(self, text: str) -> None:
        """A private answer through the command's response_url."""
        await self.respond(text=text, response_type="ephemeral")
