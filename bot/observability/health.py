"""What ``/healthz`` says about the reminder sweeps, in words an operator can act on.

The engine records each sweep's outcome here; :meth:`SweepRecord.problem` turns the
record into a sentence (or ``None`` when all is well). Exception names and tracebacks go
to the log, not to the health answer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

FAILING_SWEEPS = 3
"""This many failed sweeps in a row make the bot unhealthy (one may be a blip)."""
STALE_SWEEPS = 3
"""No sweep completing for this many sweep intervals makes the bot unhealthy..."""
STALE_MIN_SECONDS = 60.0
"""...and never sooner than this, so a slow database round is not called an outage."""


@dataclass
class SweepRecord:
    """When the reminder sweeps last completed and how many failed since."""

    started_at: float = field(default_factory=time.monotonic)
    last_completed: float | None = None
    last_failed: float | None = None
    failures_in_a_row: int = 0

    def completed(self) -> None:
        self.last_completed = time.monotonic()
        self.failures_in_a_row = 0

    def failed(self) -> None:
        self.last_failed = time.monotonic()
        self.failures_in_a_row += 1

    def problem(self, interval: float, now: float | None = None) -> tuple[bool, str]:
        """``(healthy, what to say)`` for sweeps meant to run every ``interval`` seconds."""
        now = time.monotonic() if now is None else now
        if self.failures_in_a_row >= FAILING_SWEEPS and self.last_failed is not None:
            ago = _duration(now - self.last_failed)
            return False, f"the last {self.failures_in_a_row} sweeps failed, the latest {ago} ago"
        quiet = now - (self.last_completed or self.started_at)
        if quiet > max(STALE_SWEEPS * interval, STALE_MIN_SECONDS):
            return False, f"no sweep completed for {_duration(quiet)}"
        if self.failures_in_a_row and self.last_failed is not None:
            return True, f"ok, but the last sweep failed {_duration(now - self.last_failed)} ago"
        return True, "ok"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{max(0, int(seconds))} s"
    return f"{int(seconds // 60)} min"
