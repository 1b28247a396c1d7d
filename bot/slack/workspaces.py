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
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.calls import slack_error
from storage.workspaces import WorkspaceWork

log = logging.getLogger("amends.workspaces")

TOKEN_GONE_ERRORS = frozenset({"invalid_auth", "token_revoked", "account_inactive", "not_authed"})
"""Slack's answers to a token that no longer works (the app was uninstalled, the token
revoked or never valid): no retry will ever succeed with it."""

TOKEN_TTL_SECONDS = 60.0
"""How long a workspace's bot token is used without asking the installation store again."""
TOKENS_KEPT = 10_000
"""At most this many workspaces' tokens are remembered (the least recently used go first)."""


class NotInstalled(LookupError):
    """The workspace has no installation (it was uninstalled, or never installed)."""


def workspace_gone(error: BaseException) -> bool:
    """Whether ``error`` says the workspace cannot be reached with any token we hold."""
    if isinstance(error, NotInstalled):
        return True
    return isinstance(error, SlackApiError) and slack_error(error) in TOKEN_GONE_ERRORS


class CachedInstallations(AsyncInstallationStore):
    """The installation store, remembering each workspace's bot token for a short time.

    Reminders and parked calls ask for a workspace's token on every delivery; without
    this each one is a database read. Every write through this store (a new install, an
    uninstall or revoked token, which Bolt's listeners apply here) forgets the workspace
    at once, and a lookup that was under way across such a write is not remembered, so a
    token this process saw removed is never used again. Another replica's writes are
    seen within :data:`TOKEN_TTL_SECONDS`. Bolt's own lookups (``async_find_bot``) are
    not cached: a request always sees the current installation.
    """

    def __init__(
        self,
        store: AsyncInstallationStore,
        ttl: float = TOKEN_TTL_SECONDS,
        kept: int = TOKENS_KEPT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store, self._ttl, self._kept, self._clock = store, ttl, kept, clock
        self._tokens: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._writes = 0

    async def bot_token(self, team_id: str) -> str:
        """The workspace's bot token; :class:`NotInstalled` when it has none."""
        remembered = self._tokens.get(team_id)
        if remembered is not None and remembered[0] > self._clock():
            self._tokens.move_to_end(team_id)
            return remembered[1]
        writes = self._writes
        bot = await self.store.async_find_bot(enterprise_id=None, team_id=team_id)
        if bot is None or not bot.bot_token:
            raise NotInstalled(f"Amends is not installed in workspace {team_id}")
        token = str(bot.bot_token)
        if writes == self._writes:
            self._tokens[team_id] = (self._clock() + self._ttl, token)
            self._tokens.move_to_end(team_id)
            while len(self._tokens) > self._kept:
                self._tokens.popitem(last=False)
        return token

    def forget(self, team_id: str | None) -> None:
        """Ask the store next time (and drop any lookup of it under way)."""
        self._writes += 1
        self._tokens.pop(team_id or "", None)

    @property
    def logger(self) -> logging.Logger:
        return self.store.logger

    async def async_save(self, installation: Installation) -> Any:
        self.forget(installation.team_id)
        try:
            return await self.store.async_save(installation)
        finally:
            self.forget(installation.team_id)

    async def async_save_bot(self, bot: Bot) -> Any:
        self.forget(bot.team_id)
        try:
            return await self.store.async_save_bot(bot)
        finally:
            self.forget(bot.team_id)

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        return await self.store.async_find_bot(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        return await self.store.async_find_installation(
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            is_enterprise_install=is_enterprise_install,
        )

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        self.forget(team_id)
        try:
            await self.store.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)
        finally:
            self.forget(team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        self.forget(team_id)
        try:
            await self.store.async_delete_installation(
                enterprise_id=enterprise_id, team_id=team_id, user_id=user_id
            )
        finally:
            self.forget(team_id)

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        self.forget(team_id)
        try:
            await self.store.async_delete_all(enterprise_id=enterprise_id, team_id=team_id)
        finally:
            self.forget(team_id)


class Workspaces:
    def __init__(
        self, base: AsyncWebClient, installations: CachedInstallations | None = None
    ) -> None:
        self.base = base
        self.installations = installations
        self._clients: dict[str, AsyncWebClient] = {}
        """One client per workspace, replaced when its token changes."""

    async def client_for(self, team_id: str) -> AsyncWebClient:
        if self.installations is None:
            return self.base
        token = await self.installations.bot_token(team_id)
        client = self._clients.get(team_id)
        if client is None or client.token != token:
            client = AsyncWebClient(
                token=token,
                base_url=self.base.base_url,
                timeout=self.base.timeout,
                retry_handlers=list(self.base.retry_handlers),
                session=self.base.session,
            )
            self._clients[team_id] = client
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
