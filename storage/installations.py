"""Bolt's OAuth installation and state stores, in Amends' own database.

The tables are slack-sdk's (see ``storage.models``). Issued OAuth states are signed with
SLACK_STATE_SECRET, so a forged or altered state is refused before any lookup.
"""

from __future__ import annotations

import hashlib
import hmac

from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy.ext.asyncio import AsyncEngine

STATE_EXPIRY_SECONDS = 600


class SignedStateStore(AsyncSQLAlchemyOAuthStateStore):
    """One-time OAuth states kept in the database and signed with a secret."""

    def __init__(self, engine: AsyncEngine, secret: str) -> None:
        super().__init__(expiration_seconds=STATE_EXPIRY_SECONDS, engine=engine)
        self._secret = secret.encode()

    def _sign(self, state: str) -> str:
        return hmac.new(self._secret, state.encode(), hashlib.sha256).hexdigest()[:32]

    async def async_issue(self, *args: object, **kwargs: object) -> str:
        state = str(await super().async_issue(*args, **kwargs))
        return f"{state}.{self._sign(state)}"

    async def async_consume(self, state: str) -> bool:
        raw, _, signature = state.rpartition(".")
        if not raw or not hmac.compare_digest(signature, self._sign(raw)):
            return False
        return bool(await super().async_consume(raw))


def installation_store(engine: AsyncEngine, client_id: str) -> AsyncSQLAlchemyInstallationStore:
    return AsyncSQLAlchemyInstallationStore(client_id=client_id, engine=engine)
