"""Which Web API client speaks for which workspace.

With SLACK_BOT_TOKEN there is one workspace and one client. With OAuth each installed
workspace has its own bot token, looked up in the installation store; work that runs
outside a Slack request (reminders, parked calls) asks here for the right client.
"""

from __future__ import annotations

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient


class NotInstalled(LookupError):
    """The workspace has no installation (it was uninstalled, or never installed)."""


class Workspaces:
    def __init__(
        self, base: AsyncWebClient, installations: AsyncInstallationStore | None = None
    ) -> None:
        self.base = base
        self.installations = installations
        self._clients: dict[str, AsyncWebClient] = {}

    async def client_for(self, team_id: str) -> AsyncWebClient:
        if self.installations is None:
            return self.base
        bot = await self.installations.async_find_bot(enterprise_id=None, team_id=team_id)
        if bot is None or not bot.bot_token:
            raise NotInstalled(f"Amends is not installed in workspace {team_id}")
        token = str(bot.bot_token)
        client = self._clients.get(token)
        if client is None:
            client = AsyncWebClient(
                token=token,
                base_url=self.base.base_url,
                timeout=self.base.timeout,
                retry_handlers=list(self.base.retry_handlers),
            )
            self._clients[token] = client
        return client
