"""Prometheus metrics for one running bot: requests and acks, Slack calls, reminders.

Each :class:`Metrics` has its own registry, so several bots (tests, benchmarks) can run
in one process without sharing counters.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

LATE_SECONDS = 60.0
"""A reminder delivered more than this after its due time counts as late."""

_ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "amends_requests",
            "Requests from Slack, by kind and HTTP status",
            ["kind", "status"],
            registry=r,
        )
        self.ack_seconds = Histogram(
            "amends_ack_seconds",
            "Time from a Slack request to its acknowledgement",
            buckets=_ACK_BUCKETS,
            registry=r,
        )
        self.slack_calls = Counter(
            "amends_slack_calls",
            "Slack Web API attempts, by method and outcome",
            ["method", "outcome"],
            registry=r,
        )
        self.slack_errors = Counter(
            "amends_slack_errors",
            "Slack Web API attempts that failed, by method and error",
            ["method", "error"],
            registry=r,
        )
        self.reminders_due = Counter(
            "amends_reminders_due", "Reminders claimed for delivery", registry=r
        )
        self.reminders_sent = Counter(
            "amends_reminders_sent", "Reminders delivered to Slack", registry=r
        )
        self.reminders_late = Counter(
            "amends_reminders_late",
            f"Reminders delivered over {LATE_SECONDS:.0f}s late",
            registry=r,
        )
        self.open_incidents = Gauge("amends_open_incidents", "Incidents not yet closed", registry=r)
        self.outbox_pending = Gauge(
            "amends_outbox_pending", "Slack calls waiting to be retried", registry=r
        )
        self.mail_sent = Counter("amends_mail_sent", "E-mails the relay accepted", registry=r)
        self.mail_failed = Counter(
            "amends_mail_failed", "E-mail attempts that failed (parked or refused)", registry=r
        )
        self.mail_parked = Gauge(
            "amends_mail_parked", "E-mails waiting for the relay to come back", registry=r
        )

    def request_answered(self, kind: str, status: int, seconds: float) -> None:
        """One request from Slack acknowledged, over HTTP or Socket Mode alike."""
        self.ack_seconds.observe(seconds)
        self.requests.labels(kind, str(status)).inc()

    def reminder_sent(self, lateness_seconds: float) -> None:
        self.reminders_sent.inc()
        if lateness_seconds > LATE_SECONDS:
            self.reminders_late.inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class SlackCallRecorder(AsyncRetryHandler):
    """Counts every Web API attempt by method and outcome; never asks for a retry itself.

    slack-sdk consults retry handlers after every attempt, and Bolt copies the app
    client's handler list into each per-request client, so one recorder sees all calls.
    """

    def __init__(self, metrics: Metrics) -> None:
        super().__init__(max_retry_count=2**31)
        self.metrics = metrics

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        method = request.url.rsplit("/", 1)[-1].split("?", 1)[0] or "unknown"
        outcome = _outcome(response, error)
        self.metrics.slack_calls.labels(method, "ok" if outcome == "ok" else "error").inc()
        if outcome != "ok":
            self.metrics.slack_errors.labels(method, outcome).inc()
        return False


def _outcome(response: HttpResponse | None, error: Exception | None) -> str:
    if error is not None or response is None:
        return "connection_error"
    if response.status_code != 200:
        return f"http_{response.status_code}"
    body: Any = response.body
    if isinstance(body, dict) and body.get("ok") is False:
        return str(body.get("error") or "unknown_error")
    return "ok"
