"""Which Web API client speaks for which workspace, and what happens when one leaves.

With SLACK_BOT_TOKEN there is one workspace and one client. With OAuth each installed
workspace has its own bot token, looked up in the installation store; work that runs
outside a Slack request (reminders, parked calls) asks here for the right client.

A workspace that uninstalls Amends (or revokes its bot token) gets no more reminders and
no more parked calls: the ``app_uninstalled`` and ``tokens_revoked`` events stop its work
(:class:`Departures`), and work that still finds the workspace gone, because the event
was missed or crossed it, is dropped rather than retried (:func:`workspace_gone`).
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.calls import slack_error
from storage.workspaces import WorkspaceWork

log = logging.getLogger("amends.workspaces")

TOKEN_GONE_ERRORS = frozenset({"invalid_auth", "token_revoked", "account_inactive", "not_authed"})
"""Slack's answers to a token that no longer works (the app was uninstalled, the token
revoked or never valid): no retry will ever succeed with it."""


class NotInstalled(LookupError):
    """The workspace has no installation (it was uninstalled, or never installed)."""


def workspace_gone(error: BaseException) -> bool:
    """Whether ``error`` says the workspace cannot be reached with any token we hold."""
    if isinstance(error, NotInstalled):
        return True
    return isinstance(error, SlackApiError) and slack_error(error) in TOKEN_GONE_ERRORS


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


class Departures:
    """Stops the pending work of a workspace that uninstalled Amends or revoked its bot.

    Its installation (OAuth) is removed by Bolt's own token revocation listeners; with a
    single SLACK_BOT_TOKEN there is none to remove, and the dead token makes any call
    that slips through fail with one of :data:`TOKEN_GONE_ERRORS`.
    """

    def __init__(self, work: WorkspaceWork) -> None:
        self.work = work

    async def left(self, team_id: str, why: str) -> None:
        stopped = await self.work.stop(team_id)
        log.warning(
            "workspace %s %s: cancelled %d reminder(s) and dropped %d parked call(s)",
            team_id,
            why,
            stopped.reminders,
            stopped.calls,
        )
