"""A background step run every few seconds for as long as the bot runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Periodic:
    """Runs ``step`` every ``seconds``; a failing step is logged and tried again next time."""

    def __init__(self, name: str, step: Callable[[], Awaitable[object]], seconds: float) -> None:
        self.name = name
        self.step = step
        self.seconds = seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.step()
            except Exception:
                log.exception("%s: this round failed; trying again later", self.name)
            await asyncio.sleep(self.seconds)
