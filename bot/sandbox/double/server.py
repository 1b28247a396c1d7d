"""A stateful Slack Web API double on loopback, for tests and the sandbox.

It answers like Slack: HTTP 200 with ``{"ok": false, "error": ...}`` for API errors, 429
with ``Retry-After`` when rate limited, and checks auth, required arguments and Block Kit
limits. Faults (errors, 5xx, 429, slow answers) can be injected per method. Every call is
recorded for assertions. It runs in the caller's event loop; nothing in it blocks.
"""

from __future__ import annotations

import asyncio
import copy
from collections import defaultdict, deque
from collections.abc import Callable, Collection
from typing import Any, TypeVar

from aiohttp import web

from bot.sandbox.double.blockkit import validate_view
from bot.sandbox.double.events import EventDelivery, Events, event_callback, uninstall_events
from bot.sandbox.double.files import UPLOAD_PATH, receive_upload
from bot.sandbox.double.http import (
    RATELIMITED_BODY,
    Fault,
    PerChannelLimiter,
    RateLimiter,
    drop_connection,
    fault_answer,
    read_args,
    serve,
    token_of,
)
from bot.sandbox.double.methods import REQUIRED_ARGS, call_method
from bot.sandbox.double.oauth import ACCESS_METHOD, OAuthApp
from bot.sandbox.double.records import WAIT_SECONDS, RecordedCall, wait_for
from bot.sandbox.double.responses import RecordedResponse, ResponseTarget, ResponseUrls
from bot.sandbox.double.socket import OPEN_METHOD, SOCKET_PATH, SocketMode
from bot.sandbox.double.state import (
    Channel,
    SlackError,
    Triggers,
    Workspace,
    make_user,
    new_id,
)
from bot.sandbox.double.views import enter_values, store_view

__all__ = [
    "REQUIRED_ARGS",
    "RecordedCall",
    "RecordedResponse",
    "SlackDouble",
    "wait_for",
]

T = TypeVar("T")
Answer = tuple[int, dict[str, Any], dict[str, str]]


class SlackDouble:
    def __init__(
        self,
        team_id: str = "T0AMENDS",
        team_domain: str = "amends-sandbox",
        bot_token: str = "xoxb-test",
        bot_user_id: str = "UAMENDSBOT",
        trigger_ttl: float = 3.0,
        app_token: str = "xapp-1-test",
    ) -> None:
        self.triggers = Triggers(trigger_ttl)
        self.workspaces: dict[str, Workspace] = {}
        self.default_team = team_id
        self.add_workspace(team_id, team_domain, bot_token, bot_user_id)
        self.calls: list[RecordedCall] = []
        self._urls = ResponseUrls(self.workspace)
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)
        self._limits: dict[str, RateLimiter] = {}
        self._channel_limits: dict[str, PerChannelLimiter] = {}
        self._latency: dict[str, list[tuple[float, str | None]]] = defaultdict(list)
        self._runner: web.AppRunner | None = None
        self.socket = SocketMode(app_token)
        self.events = Events(self.socket)
        self.oauth = OAuthApp()
        self.host = "127.0.0.1"
        self.port = 0

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{kind}/{url_id}", self._urls.handle)
        app.router.add_post(UPLOAD_PATH, self._upload)
        app.router.add_get(SOCKET_PATH, self.socket.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        self.host = host
        self.port = await serve(self._runner, host, port)
        for ws in self.workspaces.values():
            ws.upload_base = self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self.socket.close()
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    @property
    def trigger_ttl(self) -> float:
        return self.triggers.ttl

    @trigger_ttl.setter
    def trigger_ttl(self, seconds: float) -> None:
        self.triggers.ttl = seconds

    # -- set-up ----------------------------------------------------------------------------

    def add_workspace(
        self, team_id: str, team_domain: str, bot_token: str, bot_user_id: str
    ) -> Workspace:
        ws = Workspace(team_id, team_domain, bot_token, bot_user_id, self.triggers)
        ws.users[bot_user_id] = make_user(bot_user_id, "amends", team_id, is_bot=True)
        ws.upload_base = self.base_url if getattr(self, "_runner", None) else ""
        self.workspaces[team_id] = ws
        return ws

    def workspace(self, team_id: str | None = None) -> Workspace:
        return self.workspaces[team_id or self.default_team]

    def add_user(
        self,
        user_id: str,
        name: str,
        real_name: str | None = None,
        deleted: bool = False,
        is_bot: bool = False,
        team_id: str | None = None,
    ) -> dict[str, Any]:
        ws = self.workspace(team_id)
        ws.users[user_id] = make_user(
            user_id, name, ws.team_id, real_name=real_name, deleted=deleted, is_bot=is_bot
        )
        return dict(ws.users[user_id])

    def add_channel(
        self,
        name: str,
        *,
        members: list[str] | tuple[str, ...] = (),
        is_private: bool = False,
        bot_member: bool = False,
        team_id: str | None = None,
    ) -> dict[str, Any]:
        """A channel people made before the bot arrived (the bot is in it if ``bot_member``)."""
        ws = self.workspace(team_id)
        channel = Channel(
            id=new_id("G" if is_private else "C"),
            name=name,
            creator=members[0] if members else "USLACKBOT",
            is_private=is_private,
            members=[*members, ws.bot_user_id] if bot_member else list(members),
        )
        ws.channels[channel.id] = channel
        return ws.conversation(channel)

    def add_message(
        self,
        channel_id: str,
        text: str,
        *,
        user_id: str,
        blocks: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A message a person posted (the bot cannot edit it)."""
        ws, channel = self._require(channel_id)
        message: dict[str, Any] = {
            "type": "message",
            "ts": ws.next_ts(),
            "user": user_id,
            "text": text,
            "team": ws.team_id,
        }
        if blocks is not None:
            message["blocks"] = blocks
        channel.messages.append(message)
        return copy.deepcopy(message)

    def issue_trigger_id(
        self, user_id: str | None = None, *, view_id: str | None = None, team_id: str | None = None
    ) -> str:
        """A trigger_id as Slack puts in an interaction: one use, ``trigger_ttl`` seconds."""
        return self.triggers.issue(team_id, user_id, view_id)

    def new_response_url(
        self,
        kind: str = "commands",
        *,
        channel_id: str | None = None,
        user_id: str | None = None,
        message_ts: str | None = None,
        team_id: str | None = None,
    ) -> str:
        team = self.workspace(team_id).team_id
        url_id = self._urls.new(ResponseTarget(kind, team, channel_id, user_id, message_ts))
        return f"{self.base_url}/response/{kind}/{url_id}"

    # -- faults ----------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        error: str | None = None,
        http_status: int | None = None,
        retry_after: int | None = None,
        delay: float | None = None,
        drop: bool = False,
        times: int = 1,
    ) -> None:
        """The next ``times`` calls of ``method`` fail as asked (a Slack error, 5xx, 429,
        slow, or ``drop``: the connection closed before any answer; nothing took effect)."""
        for _ in range(times):
            self._faults[method].append(Fault(error, http_status, retry_after, delay, drop))

    def slow_down(self, method: str, seconds: float, *, channel: str | None = None) -> None:
        """From now on every call of ``method`` (only those to ``channel``, if given) takes
        effect at once but is answered ``seconds`` later, as when Slack is slow to answer:
        the message is in the channel before its poster hears back."""
        self._latency[method].append((seconds, channel))

    def _answer_delay(self, method: str, args: dict[str, Any]) -> float:
        return max(
            (
                s
                for s, channel in self._latency.get(method, ())
                if channel in (None, args.get("channel"))
            ),
            default=0.0,
        )

    def recover(self) -> None:
        """Slack is well again: faults not yet used up and slow answers are dropped."""
        self._faults.clear()
        self._latency.clear()

    def set_rate_limit(self, method: str, per_seconds: float, burst: int = 1) -> None:
        """At most ``burst`` calls of ``method`` per ``per_seconds``; more get 429."""
        self._limits[method] = RateLimiter(per_seconds, burst)

    def limit_per_channel(
        self,
        method: str = "chat.postMessage",
        per_seconds: float = 1.0,
        burst: int = 1,
        *,
        channels: Collection[str] | None = None,
    ) -> None:
        """From now on ``method`` takes about one message per ``per_seconds`` in each
        channel (only in ``channels``, if given), ``burst`` at once, as Slack does for
        chat.postMessage ("short bursts allowed": ``burst=1`` is the strictest reading); a
        message over the limit gets 429 with ``Retry-After`` and ``ratelimited``, and
        nothing is posted."""
        self._channel_limits[method] = PerChannelLimiter(per_seconds, burst, channels)

    def refused_with_429(self, method: str | None = None) -> list[RecordedCall]:
        """The calls answered 429 (of ``method``, if given), in order."""
        return [c for c in self.calls if c.http_status == 429 and method in (None, c.method)]

    # -- state readers ---------------------------------------------------------------------

    def _find(self, channel_id: str) -> tuple[Workspace, Channel] | None:
        for ws in self.workspaces.values():
            if channel_id in ws.channels:
                return ws, ws.channels[channel_id]
        return None

    def _require(self, channel_id: str) -> tuple[Workspace, Channel]:
        found = self._find(channel_id)
        if found is None:
            raise KeyError(f"the double has no channel {channel_id!r}")
        return found

    def channel(self, channel_id: str) -> dict[str, Any] | None:
        found = self._find(channel_id)
        return found[0].conversation(found[1]) if found else None

    def channel_by_name(self, name: str, team_id: str | None = None) -> dict[str, Any] | None:
        ws = self.workspace(team_id)
        found = ws.channel_named(name.removeprefix("#"))
        return ws.conversation(found) if found else None

    def _channel_state(self, channel_id: str, attr: str) -> Any:
        found = self._find(channel_id)
        return copy.deepcopy(getattr(found[1], attr)) if found else []

    def messages(self, channel_id: str) -> list[dict[str, Any]]:
        """The channel's messages now (edits applied), in the order they were posted."""
        return list(self._channel_state(channel_id, "messages"))

    def ephemerals(self, channel_id: str) -> list[dict[str, Any]]:
        """Messages only one person saw (``to_user``): chat.postEphemeral, response_url."""
        return list(self._channel_state(channel_id, "ephemerals"))

    def pins(self, channel_id: str) -> list[str]:
        """The ts of each pinned message, in pin order."""
        return list(self._channel_state(channel_id, "pins"))

    def topic(self, channel_id: str) -> str:
        found = self._find(channel_id)
        return str(found[1].topic["value"]) if found else ""

    def members(self, channel_id: str) -> list[str]:
        return list(self._channel_state(channel_id, "members"))

    def bookmarks(self, channel_id: str) -> list[dict[str, Any]]:
        return list(self._channel_state(channel_id, "bookmarks"))

    def dm_messages(self, user_id: str, team_id: str | None = None) -> list[dict[str, Any]]:
        im = self.workspace(team_id).existing_im(user_id)
        return copy.deepcopy(im.messages) if im else []

    @property
    def views(self) -> dict[str, dict[str, Any]]:
        """Every stored view by id, across workspaces (copies)."""
        return {
            vid: copy.deepcopy(v) for ws in self.workspaces.values() for vid, v in ws.views.items()
        }

    def view_user(self, view_id: str) -> str | None:
        """Whose view it is: the user of the trigger that opened it, or of a Home tab."""
        return next(
            (ws.view_users[view_id] for ws in self.workspaces.values() if view_id in ws.view_users),
            None,
        )

    def enter_in_view(self, view_id: str, entered: dict[str, Any]) -> None:
        """A person entered these values (``state.values`` shape) in a view's inputs: the
        Slack client holds them until the view is submitted, and a views.update keeps those
        whose input it keeps (:func:`~bot.sandbox.double.views.kept_entries`)."""
        ws = next((w for w in self.workspaces.values() if view_id in w.views), None)
        if ws is None:
            raise KeyError(f"the double has no view {view_id!r}")
        enter_values(ws, view_id, entered)

    def apply_response_action(self, view_id: str, answer: dict[str, Any]) -> list[str]:
        """What Slack does with a view_submission's ``update``/``push`` answer.

        Returns the problems Slack would show instead (the view is then left alone).
        """
        action = answer.get("response_action")
        ws = next((w for w in self.workspaces.values() if view_id in w.views), None)
        if ws is None or action not in ("update", "push"):
            return []
        problems = validate_view(answer.get("view"))
        if problems:
            return problems
        current = ws.views[view_id]
        if action == "update":
            store_view(ws, answer["view"], view_id, root_view_id=current["root_view_id"])
        else:
            store_view(
                ws,
                answer["view"],
                new_id("V"),
                root_view_id=current["root_view_id"],
                previous_view_id=view_id,
            )
        return []

    @property
    def responses(self) -> list[RecordedResponse]:
        """Everything posted to a response_url and accepted, in order."""
        return self._urls.responses

    def calls_to(self, method: str) -> list[RecordedCall]:
        return [c for c in self.calls if c.method == method]

    def ok_calls_to(self, method: str) -> list[RecordedCall]:
        return [c for c in self.calls_to(method) if c.response.get("ok")]

    def responses_for(self, url: str) -> list[RecordedResponse]:
        url_id = url.rstrip("/").rsplit("/", 1)[-1]
        return [r for r in self.responses if r.url_id == url_id]

    async def deliver(
        self, kind: str, payload: dict[str, Any], timeout: float = 3.0
    ) -> dict[str, Any] | None:
        """An envelope to the app connected in Socket Mode; its ack's payload (SocketMode)."""
        return await self.socket.deliver(kind, payload, timeout=timeout)

    def event(self, event: dict[str, Any], team_id: str | None = None) -> dict[str, Any]:
        """``event`` wrapped as Slack delivers it from a workspace (double_events)."""
        return event_callback(self.workspace(team_id), event)

    async def uninstall(self, team_id: str | None = None) -> list[EventDelivery]:
        """Someone removes the app from a workspace: its bot token stops working at once,
        and Slack tells the app with ``tokens_revoked`` and ``app_uninstalled``."""
        ws = self.workspace(team_id)
        events = uninstall_events(ws)
        ws.uninstall()
        return [await self.events.send(event_callback(ws, event)) for event in events]

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float = WAIT_SECONDS) -> T:
        """The module's :func:`wait_for`, for tests that only hold the double."""
        return await wait_for(predicate, timeout)

    # -- HTTP ------------------------------------------------------------------------------

    async def _upload(self, request: web.Request) -> web.Response:
        return await receive_upload(self.workspaces, request)

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await read_args(request)
        token = token_of(request, args)
        args.pop("token", None)
        ws = next(
            (w for w in self.workspaces.values() if w.installed and w.bot_token == token), None
        )
        fault = self._faults[method].popleft() if self._faults.get(method) else None
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        if fault is not None and fault.drop:
            self.calls.append(RecordedCall(method, args, None, {}, 0))
            return drop_connection(request)
        if method == ACCESS_METHOD and fault is None:
            auth = request.headers.get("Authorization", "")
            body = self.oauth.access(auth, args, self.workspaces)
            self.calls.append(RecordedCall(method, args, body.get("team", {}).get("id"), body, 200))
            return web.json_response(body)
        status, body, headers = self._answer(method, args, token, ws, fault)
        self.calls.append(RecordedCall(method, args, ws.team_id if ws else None, body, status))
        if delay := self._answer_delay(method, args):
            await asyncio.sleep(delay)
        return web.json_response(body, status=status, headers=headers)

    def _answer(
        self,
        method: str,
        args: dict[str, Any],
        token: str | None,
        ws: Workspace | None,
        fault: Fault | None,
    ) -> Answer:
        early = fault_answer(fault) if fault is not None else None
        if early is not None:
            return early
        limiter = self._limits.get(method)
        wait = limiter.retry_after() if limiter is not None else None
        if wait is None and ws is not None and method in self._channel_limits:
            channel = str(args.get("channel") or "")
            wait = self._channel_limits[method].retry_after(ws.team_id, channel)
        if wait is not None:
            return 429, dict(RATELIMITED_BODY), {"Retry-After": str(wait)}
        if method == OPEN_METHOD:
            return 200, self.socket.open(token, self.base_url, fault.error if fault else None), {}
        if not token:
            return 200, {"ok": False, "error": "not_authed"}, {}
        if ws is None:
            return 200, {"ok": False, "error": self._refusal(token)}, {}
        if fault is not None and fault.error:
            return 200, {"ok": False, "error": fault.error}, {}
        try:
            return 200, call_method(ws, method, args), {}
        except SlackError as exc:
            return 200, {"ok": False, "error": exc.code, **exc.extra}, {}

    def _refusal(self, token: str) -> str:
        """A token of an uninstalled app is ``token_revoked`` ("The token being used is not
        valid", methods/users.profile.get.json errors); one never issued ``invalid_auth``."""
        if any(token in w.revoked_tokens for w in self.workspaces.values()):
            return "token_revoked"
        return "invalid_auth"

    def files(self, team_id: str | None = None) -> dict[str, dict[str, Any]]:
        """Files uploaded to a workspace, by id, with their bytes once uploaded."""
        return self.workspace(team_id).files
