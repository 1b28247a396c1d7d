"""Nothing the user did is lost when Slack is down: failed calls are parked and retried.

slack-sdk's retry handlers already retry a call a few times (429 with Retry-After, 5xx,
dropped connections). What still fails that way is transient on Slack's side: the call
is parked in the database, the person is told it will go through, and a background loop
sends it once Slack answers again. Errors that are Slack saying "no" (``channel_not_found``)
are not transient and are raised to the caller as before.

Two things make a flow of several calls (the close: announcement, final update,
follow-up checklist) come out whole and in order:

* **Lanes.** A call made with an ``incident_id`` belongs to that incident's lane. While a
  lane holds an undelivered call, later calls of the lane are parked behind it without
  being tried, and the retry loop only sends the oldest call of each lane, so an
  incident's messages appear in the order they were made.
* **After steps.** Some calls are worth nothing until their answer is used: a posted
  header must have its ``ts`` recorded on the incident and then be pinned. A call made
  with ``after="<name>"`` runs the step registered under that name (by the lifecycle
  code, with :meth:`Outbox.on_delivered`) with Slack's answer, whether the call went
  through at once or was parked and delivered later. Steps are named, not closures, so
  a parked call survives a restart; a step may make further calls (the pin), which
  therefore wait for the answer they need. Slack's answer is stored before the step
  runs, so a step that fails because the database is away is run again later without
  repeating the call itself. Steps must be safe to run twice.

A lane is also busy while one of its calls is on its way (slack-sdk may be retrying it
for a few seconds) and while a flow holds it (:meth:`Outbox.holding`), so that work which
must come after a whole flow (the follow-up reminder after the close's checklist) can
ask :meth:`Outbox.lane_busy` and wait. That part is known to this process only.

**Local methods.** A service other than Slack whose calls nobody waits for (the e-mail
relay) can be served under a pseudo-method name (:meth:`Outbox.serve`): its calls are
parked, retried and followed by their after step exactly like Slack's. Such a service
raises :class:`ServiceUnavailable` for what is worth retrying.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.observability.metrics import Metrics
from bot.slack.calls import MAX_BACKOFF, ClientFor, slack_error
from bot.slack.periodic import Periodic
from bot.slack.workspaces import NotInstalled, workspace_gone
from storage.db import database_unavailable
from storage.models import OutboxCall, utcnow
from storage.outbox import OutboxStore

log = logging.getLogger("amends.outbox")

TRANSIENT_ERRORS = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"}
)
GIVE_UP_AFTER = timedelta(days=1)
BATCH = 50

UPLOAD = "files.upload_v2"
"""Not one Web API method but slack-sdk's upload (three calls); parked and retried whole."""
QUEUED = "queued behind earlier parked calls"


class ServiceUnavailable(Exception):
    """A local method's service could not answer now (the relay is down or said "later")."""


LocalMethod = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]

_deferred: ContextVar[list[str] | None] = ContextVar("amends_deferred", default=None)


@dataclass(frozen=True)
class Delivered:
    """A call that went through, as its ``after`` step sees it.

    ``late`` is true when it was parked and delivered by the retry loop, so the step
    knows the world may have moved on meanwhile (e.g. the header needs a fresh render).
    """

    team_id: str
    incident_id: int | None
    args: dict[str, Any]
    response: dict[str, Any]
    late: bool
    context: dict[str, Any] | None = None
    """What the caller gave the step beyond the call itself (``context=`` of the call)."""


AfterStep = Callable[[AsyncWebClient, Delivered], Awaitable[None]]


def transient(error: BaseException) -> bool:
    """Slack could not answer (5xx, 429, network), as opposed to refusing the call."""
    if isinstance(error, SlackApiError):
        status = error.response.status_code if error.response is not None else 0
        return status >= 500 or status == 429 or slack_error(error) in TRANSIENT_ERRORS
    return isinstance(
        error, aiohttp.ClientError | TimeoutError | ConnectionError | ServiceUnavailable
    )


def describe(error: BaseException) -> str:
    if isinstance(error, NotInstalled):
        return "not installed"
    if isinstance(error, ServiceUnavailable):
        return str(error) or "unavailable"
    return slack_error(error) if isinstance(error, SlackApiError) else type(error).__name__


@contextlib.contextmanager
def tracking() -> Iterator[list[str]]:
    """Collect what was parked while handling one request (to tell the person)."""
    parked: list[str] = []
    token = _deferred.set(parked)
    try:
        yield parked
    finally:
        _deferred.reset(token)


class Outbox:
    def __init__(
        self,
        store: OutboxStore,
        client_for: ClientFor,
        metrics: Metrics,
        retry_seconds: float = 10.0,
    ) -> None:
        self.store = store
        self.client_for = client_for
        self.metrics = metrics
        self.retry_seconds = retry_seconds
        self._loop = Periodic("outbox", self.flush, retry_seconds)
        self._steps: dict[str, AfterStep] = {}
        self._local: dict[str, LocalMethod] = {}
        self._holders: Counter[int] = Counter()

    @contextlib.asynccontextmanager
    async def holding(self, incident_id: int | None) -> AsyncIterator[None]:
        """Keep the incident's lane busy while a flow of several calls runs."""
        if incident_id is None:
            yield
            return
        self._holders[incident_id] += 1
        try:
            yield
        finally:
            self._holders[incident_id] -= 1
            if not self._holders[incident_id]:
                del self._holders[incident_id]

    async def lane_busy(self, incident_id: int) -> bool:
        """Whether the incident has calls parked, on their way, or a flow still running."""
        return incident_id in self._holders or await self.store.waiting(incident_id)

    def on_delivered(self, name: str, step: AfterStep) -> None:
        """Register the step that calls made with ``after=name`` run once delivered."""
        self._steps[name] = step

    def serve(self, method: str, handler: LocalMethod) -> None:
        """Calls of the pseudo-method ``method`` go to ``handler``, not to Slack."""
        self._local[method] = handler

    async def _invoke(
        self, client: AsyncWebClient, method: str, args: dict[str, Any]
    ) -> dict[str, Any]:
        local = self._local.get(method)
        return await local(args) if local is not None else await invoke(client, method, args)

    async def call(
        self,
        client: AsyncWebClient,
        team_id: str,
        method: str,
        *,
        what: str,
        key: str | None = None,
        incident_id: int | None = None,
        after: str | None = None,
        context: dict[str, Any] | None = None,
        **args: Any,
    ) -> bool:
        """Make a Slack call whose answer nobody waits for; park it if Slack is away.

        ``what`` says in words what the call does (for the person); returns whether it
        went through now. With ``incident_id`` the call waits behind that incident's
        undelivered calls; ``after`` names the step to run with Slack's answer (and
        ``context``, kept with a parked call, never sent).
        """
        if after is not None and after not in self._steps:
            raise ValueError(f"no after step named {after!r}")
        async with self.holding(incident_id):
            return await self._call(
                client, team_id, method, what, key, incident_id, after, args, context
            )

    async def _call(
        self,
        client: AsyncWebClient,
        team_id: str,
        method: str,
        what: str,
        key: str | None,
        incident_id: int | None,
        after: str | None,
        args: dict[str, Any],
        context: dict[str, Any] | None = None,
    ) -> bool:
        made_at = utcnow()
        error = QUEUED
        try:
            if incident_id is None or not await self.store.waiting(incident_id):
                response = await self._invoke(client, method, args)
                error = ""
        except Exception as exc:
            if not transient(exc):
                raise
            error = describe(exc)
        if error:
            await self.park(
                team_id,
                method,
                args,
                what=what,
                key=key,
                error=error,
                made_at=made_at,
                incident_id=incident_id,
                after=after,
                context=context,
            )
            return False
        if key is not None:
            await self.store.supersede(key, made_at)
        if after is not None:
            done = Delivered(team_id, incident_id, args, response, late=False, context=context)
            await self._steps[after](client, done)
        return True

    async def park(
        self,
        team_id: str,
        method: str,
        args: dict[str, Any],
        *,
        what: str,
        key: str | None,
        error: str,
        made_at: datetime | None = None,
        incident_id: int | None = None,
        after: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> None:
        await self.store.park(
            team_id,
            method,
            args,
            key,
            error,
            made_at or utcnow(),
            incident_id=incident_id,
            after=after,
            context=context,
        )
        log.warning("%s unavailable (%s): parked for retry", method, error)
        parked = _deferred.get()
        if parked is not None and what not in parked:
            parked.append(what)

    # -- the retry loop ----------------------------------------------------------------------

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def flush(self) -> int:
        """Send what is due; returns how many calls went through."""
        now = utcnow()
        sent = 0
        for call in await self.store.due(now, BATCH):
            backoff = min(MAX_BACKOFF, timedelta(seconds=self.retry_seconds * 2**call.attempts))
            if await self.store.claim(call, now + backoff):
                sent += await self._send_alone(call)
        self.metrics.outbox_pending.set(await self.store.pending())
        return sent

    async def _send_alone(self, call: OutboxCall) -> int:
        """One call's failure, whatever it is, leaves the rest of the batch to go on;
        the claim's backoff makes it due again later."""
        try:
            return await self._send(call)
        except Exception as exc:
            if database_unavailable(exc):
                raise
            log.exception("outbox: %s #%s failed; trying again later", call.method, call.id)
            return 0

    async def _send(self, call: OutboxCall) -> int:
        try:
            client = await self.client_for(call.team_id)
        except NotInstalled as exc:
            return await self._drop_gone(call, exc)
        args = json.loads(call.args)
        if call.result is not None:  # delivered before; only its after step is left
            return await self._after(client, call, args, json.loads(call.result))
        try:
            response = await self._invoke(client, call.method, args)
        except Exception as exc:
            if workspace_gone(exc):
                return await self._drop_gone(call, exc)
            if transient(exc) and utcnow() - call.created_at < GIVE_UP_AFTER:
                await self.store.failed(call.id, describe(exc))
                return 0
            log.error("outbox: dropping %s after %s: %s", call.method, call.attempts, describe(exc))
            await self.store.done(call.id)
            return 0
        log.info("outbox: delivered a parked %s", call.method)
        if call.after is None:
            await self.store.done(call.id)
            return 1
        await self.store.delivered(call.id, response)
        return await self._after(client, call, args, response)

    async def _after(
        self, client: AsyncWebClient, call: OutboxCall, args: dict[str, Any], response: Any
    ) -> int:
        """Run the delivered call's after step; keep it for another try while the
        database (or Slack) is away, drop it when the step itself fails."""
        step = self._steps.get(str(call.after))
        try:
            if step is None:
                raise LookupError(f"no after step named {call.after!r}")
            context = json.loads(call.context) if call.context else None
            delivered = Delivered(call.team_id, call.incident_id, args, response, True, context)
            await step(client, delivered)
        except Exception as exc:
            if (transient(exc) or database_unavailable(exc)) and (
                utcnow() - call.created_at < GIVE_UP_AFTER
            ):
                await self.store.failed(call.id, describe(exc))
                return 1
            log.error("outbox: the step after %s failed: %s", call.method, describe(exc))
        await self.store.done(call.id)
        return 1

    async def _drop_gone(self, call: OutboxCall, error: BaseException) -> int:
        """No token will ever send this call: the workspace uninstalled Amends."""
        log.warning(
            "outbox: dropping %s: workspace %s is gone (%s)",
            call.method,
            call.team_id,
            describe(error),
        )
        await self.store.done(call.id)
        return 0


async def invoke(client: AsyncWebClient, method: str, args: dict[str, Any]) -> dict[str, Any]:
    """Make one call (or slack-sdk's upload) and return Slack's answer."""
    if method == UPLOAD:
        response = await client.files_upload_v2(**args)
    else:
        response = await client.api_call(method, json=args)
    return dict(response.data) if isinstance(response.data, dict) else {}
