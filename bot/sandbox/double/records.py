"""What the double recorded, and waiting for it: for assertions on work done after an ack."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass
class RecordedCall:
    method: str
    args: dict[str, Any]
    team_id: str | None
    response: dict[str, Any]
    http_status: int
    at: float = field(default_factory=time.time)


WAIT_SECONDS = 15.0
"""How long a test waits for work the bot does after its ack before calling it lost: a wait
for a hang, not a speed limit (5 s was reached by parallel test workers on a shared machine)."""


async def wait_for(predicate: Callable[[], T | None], timeout: float = WAIT_SECONDS) -> T:
    """Poll every 10 ms until ``predicate()`` is truthy and return that value.

    For work a bot does after it has acknowledged a request. Raises AssertionError
    naming the predicate and its last value when ``timeout`` seconds pass first.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"not true within {timeout}s: {_describe(predicate)} (last value: {value!r:.200})"
            )
        await asyncio.sleep(0.01)


def _describe(predicate: Callable[[], object]) -> str:
    try:
        return inspect.getsource(predicate).strip()
    except (OSError, TypeError):
        return repr(predicate)
