"""A workspace's bot token is remembered for a short, bounded time, and forgotten the
moment the installation changes (a clock of the test's own; no waiting)."""

from __future__ import annotations

import asyncio

import pytest
from slack_sdk.oauth.installation_store import Bot
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore

from bot.slack.workspaces import CachedInstallations, NotInstalled

TTL = 60.0


class Bots(AsyncInstallationStore):
    """An installation store in memory that counts how often it is asked."""

    def __init__(self) -> None:
        self.tokens: dict[str, str] = {}
        self.asked = 0
        self.hold: asyncio.Event | None = None

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        self.asked += 1
        token = self.tokens.get(str(team_id))
        if self.hold is not None:
            await self.hold.wait()
        if token is None:
            return None
        return Bot(bot_token=token, bot_id="B1", bot_user_id="UBOT", installed_at=0.0)

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        self.tokens.pop(str(team_id), None)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def cached(bots: Bots, clock: Clock, kept: int = 10) -> CachedInstallations:
    return CachedInstallations(bots, ttl=TTL, kept=kept, clock=clock)


async def test_a_token_is_asked_for_once_within_its_time() -> None:
    bots, clock = Bots(), Clock()
    bots.tokens["T1"] = "xoxb-1"
    tokens = cached(bots, clock)
    for _ in range(5):
        assert await tokens.bot_token("T1") == "xoxb-1"
        clock.now += TTL / 10
    assert bots.asked == 1


async def test_a_token_is_asked_for_again_once_its_time_is_up() -> None:
    bots, clock = Bots(), Clock()
    bots.tokens["T1"] = "xoxb-1"
    tokens = cached(bots, clock)
    await tokens.bot_token("T1")
    bots.tokens["T1"] = "xoxb-2"
    clock.now += TTL
    assert await tokens.bot_token("T1") == "xoxb-2"


async def test_only_the_most_recently_used_workspaces_are_remembered() -> None:
    bots, clock = Bots(), Clock()
    bots.tokens.update(T1="xoxb-1", T2="xoxb-2", T3="xoxb-3")
    tokens = cached(bots, clock, kept=2)
    for team in ("T1", "T2", "T1", "T3"):
        await tokens.bot_token(team)
    asked = bots.asked
    await tokens.bot_token("T1")
    await tokens.bot_token("T3")
    assert bots.asked == asked
    await tokens.bot_token("T2")
    assert bots.asked == asked + 1


async def test_a_removed_bot_is_not_installed_at_once() -> None:
    bots, clock = Bots(), Clock()
    bots.tokens["T1"] = "xoxb-1"
    tokens = cached(bots, clock)
    await tokens.bot_token("T1")
    await tokens.async_delete_bot(enterprise_id=None, team_id="T1")
    with pytest.raises(NotInstalled):
        await tokens.bot_token("T1")


async def test_a_lookup_under_way_while_the_bot_is_removed_is_not_remembered() -> None:
    bots, clock = Bots(), Clock()
    bots.tokens["T1"] = "xoxb-1"
    tokens = cached(bots, clock)
    bots.hold = asyncio.Event()
    lookup = asyncio.create_task(tokens.bot_token("T1"))
    await asyncio.sleep(0)
    await tokens.async_delete_bot(enterprise_id=None, team_id="T1")
    bots.hold.set()
    assert await lookup == "xoxb-1", "it read the store before the removal"
    bots.hold = None
    with pytest.raises(NotInstalled):
        await tokens.bot_token("T1")
