"""The door to ``/slack/events``: only signed, well-formed Slack requests reach Bolt.

Checked here, before Bolt parses anything:

* the signature and its timestamp (missing, malformed, wrong or older than 5 minutes:
  401, whatever bytes the headers carry);
* the body's shape: a slash command with its fields, or an interactive payload that is
  a JSON object with the fields of its type (anything else: 400 saying what is wrong).
  Bolt would otherwise fail on such bodies with a 500, or hand listeners a payload
  whose fields are missing or of the wrong type.

Bolt reads a form body as an interactive payload whenever the text ``payload`` appears
anywhere in it, so a slash command whose text contains that word would reach no
listener. The gate re-encodes such a command (percent-encoding, same fields) before
Bolt sees it; that is why the gate, not Bolt, verifies signatures: the signature covers
the bytes Slack sent, Bolt reads the re-encoded ones.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

from aiohttp import web
from aiohttp.typedefs import Handler
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

log = logging.getLogger("amends.http")

COMMAND_FIELDS = ("command", "team_id", "user_id", "channel_id")
EVENT_TYPES = frozenset({"url_verification", "event_callback", "app_rate_limited"})
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SIGNATURE_HEADER = "X-Slack-Signature"
TIMESTAMP_SHAPE = re.compile(r"[0-9]{1,12}")
"""Unix seconds in ASCII digits. ``str.isdigit()`` and ``int()`` also take other scripts'
digits, signs, spaces and underscores, and ``int()`` refuses over 4300 digits."""
SIGNATURE_SHAPE = re.compile(r"v0=[0-9a-f]{64}")
"""Slack's v0 signature: a hex SHA-256 HMAC. ``hmac.compare_digest`` raises on non-ASCII."""


class Malformed(ValueError):
    """The body is not a Slack request Amends can read; the message says why."""


def add_slack_routes(web_app: web.Application, app: AsyncApp, secret: str, path: str) -> None:
    """Serve Slack's requests on ``path`` (through :func:`events_handler`) and, under
    OAuth, Bolt's install and redirect pages."""
    web_app.router.add_post(path, events_handler(app, secret))
    flow = app.oauth_flow
    if flow is not None:
        pages = app.server(path=path).handle_get_requests
        web_app.router.add_get(flow.install_path, pages)
        web_app.router.add_get(flow.redirect_uri_path, pages)


def events_handler(app: AsyncApp, signing_secret: str) -> Handler:
    """Check a request, then hand Bolt the body it should read.

    Bolt's own aiohttp route reads ``await request.text()``; aiohttp offers no public way
    to replace a request's body (``request.clone()`` keeps the payload), and writing its
    private ``_read_bytes`` would break silently with an aiohttp upgrade. So this route
    builds the :class:`AsyncBoltRequest` itself from the (re-encoded) body, exactly as
    Bolt's adapter ``to_bolt_request`` does, and dispatches it to the app.
    """
    verifier = SignatureVerifier(signing_secret)

    async def events(request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        if not signed(verifier, raw, request.headers):
            return web.json_response({"error": "invalid signature or timestamp"}, status=401)
        try:
            body = readable_body(raw.decode("utf-8"), request.content_type)
            bolt_can_read(body, request.content_type)
        except Malformed as exc:
            log.warning("refused a malformed request: %s", exc)
            return web.json_response({"error": f"malformed Slack request: {exc}"}, status=400)
        bolt_request = AsyncBoltRequest(
            body=body.decode(),
            query=request.query_string,
            headers=request.headers,  # type: ignore[arg-type]  # as Bolt's adapter does
        )
        return await to_aiohttp_response(await app.async_dispatch(bolt_request))

    return events


def signed(verifier: SignatureVerifier, raw: bytes, headers: Mapping[str, str]) -> bool:
    """Slack's v0 signature over the exact bytes, from the last five minutes.

    slack-sdk's verifier does the comparison; it calls ``int()`` on the timestamp,
    decodes the body as UTF-8 and compares with ``hmac.compare_digest``, each of which
    raises on some input. So only the shapes Slack sends reach it: an ASCII timestamp,
    a ``v0=<64 hex>`` signature and a UTF-8 body (Slack signs UTF-8; other bytes cannot
    carry a signature the verifier accepts).
    """
    stamp = headers.get(TIMESTAMP_HEADER, "")
    given = headers.get(SIGNATURE_HEADER, "")
    if not TIMESTAMP_SHAPE.fullmatch(stamp) or not SIGNATURE_SHAPE.fullmatch(given):
        return False
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return verifier.is_valid(body=body, timestamp=stamp, signature=given)


def readable_body(text: str, content_type: str) -> bytes:
    """The body as Bolt should read it, or :class:`Malformed`."""
    if content_type == "application/json" or text.startswith("{"):
        check_event(_json_object(text, "body"))
        return text.encode()
    form = dict(parse_qsl(text, keep_blank_values=True))
    if "payload" in form:
        check_payload(_json_object(form["payload"], "payload"))
        return text.encode()
    check_command(form)
    if "payload" in text:
        return urlencode(form).replace("payload", "p%61yload").encode()
    return text.encode()


def bolt_can_read(body: bytes, content_type: str) -> None:
    """Build the request as Bolt will; fields of a type Bolt does not expect are refused
    here rather than failing inside Bolt with a 500."""
    try:
        AsyncBoltRequest(body=body.decode(), headers={"content-type": [content_type]})
    except (TypeError, AttributeError, KeyError, IndexError, ValueError):
        raise Malformed("a field has a type Slack does not send") from None


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise Malformed(f"the {what} is not JSON") from None
    if not isinstance(value, dict):
        raise Malformed(f"the {what} is not a JSON object")
    return value


def check_command(form: dict[str, str]) -> None:
    missing = [name for name in COMMAND_FIELDS if not form.get(name)]
    if missing:
        raise Malformed(f"a slash command needs {', '.join(missing)}")


def check_event(body: dict[str, Any]) -> None:
    if body.get("type") not in EVENT_TYPES:
        raise Malformed("a JSON body must be an Events API request")


def check_payload(payload: dict[str, Any]) -> None:
    kind = payload.get("type")
    if not isinstance(kind, str):
        raise Malformed("the payload has no type")
    user = payload.get("user")
    if not isinstance(user, dict) or not _text(user.get("id")):
        raise Malformed("the payload has no user")
    team = payload.get("team")
    if not _text((team or {}).get("id") if isinstance(team, dict) else user.get("team_id")):
        raise Malformed("the payload has no team")
    for name in _TOP_TEXT_FIELDS:
        if payload.get(name) is not None and not isinstance(payload[name], str):
            raise Malformed(f"{name} must be text")
    actions = payload.get("actions")
    if actions is not None and not (
        isinstance(actions, list) and all(isinstance(a, dict) for a in actions)
    ):
        raise Malformed("actions must be a list of objects")
    for action in actions or []:
        check_element(action)
        if action.get("name") is not None and not isinstance(action["name"], str):
            raise Malformed("an action's name must be text")
    _PAYLOAD_CHECKS.get(kind, _no_check)(payload)


_TOP_TEXT_FIELDS = (
    "callback_id",
    "action_id",
    "block_id",
    "value",
    "trigger_id",
    "response_url",
    "action_ts",
    "message_ts",
)
"""Identifiers Bolt's listener matchers compare (with regexes) for every payload type."""


def _check_actions(payload: dict[str, Any]) -> None:
    actions = payload.get("actions")
    if not isinstance(actions, list) or not actions:
        raise Malformed("block_actions needs a list of actions")
    if not _text(payload.get("trigger_id")):
        raise Malformed("block_actions needs a trigger_id")
    for action in actions:
        if not isinstance(action, dict) or not _text(action.get("action_id")):
            raise Malformed("every action needs an action_id")
        check_element(action)
    _check_optional_objects(payload, "container", "channel", "message", "view")
    if isinstance(payload.get("view"), dict) and not isinstance(payload["view"].get("type"), str):
        raise Malformed("the view needs its type")


_TEXT_FIELDS = (
    "action_id",
    "block_id",
    "value",
    "selected_user",
    "selected_channel",
    "selected_conversation",
    "selected_date",
    "selected_time",
    "action_ts",
)


def check_element(element: dict[str, Any]) -> None:
    """An action, or an input's state: each field Slack sends has the type Slack sends."""
    for name in _TEXT_FIELDS:
        if element.get(name) is not None and not isinstance(element[name], str):
            raise Malformed(f"{name} must be text")
    option = element.get("selected_option")
    if option is not None and not _is_option(option):
        raise Malformed("selected_option must be an option with a text value")
    options = element.get("selected_options")
    if options is not None and not (
        isinstance(options, list) and all(_is_option(o) for o in options)
    ):
        raise Malformed("selected_options must be a list of options")
    users = element.get("selected_users")
    if users is not None and not (isinstance(users, list) and all(_text(u) for u in users)):
        raise Malformed("selected_users must be a list of user ids")


def _is_option(option: object) -> bool:
    return isinstance(option, dict) and isinstance(option.get("value"), str)


def _check_view(payload: dict[str, Any]) -> None:
    view = payload.get("view")
    if not isinstance(view, dict) or not _text(view.get("id")):
        raise Malformed("the payload needs its view")
    if not isinstance(view.get("callback_id"), str) or not isinstance(view.get("type"), str):
        raise Malformed("the view needs its callback_id and type")
    if not isinstance(view.get("private_metadata", ""), str):
        raise Malformed("the view's private_metadata must be text")
    submitted = payload["type"] == "view_submission"
    state = view.get("state") if submitted or "state" in view else {"values": {}}
    if not isinstance(state, dict) or not isinstance(state.get("values"), dict):
        raise Malformed("the view's state needs its values")
    for block in state["values"].values():
        if not isinstance(block, dict) or not all(isinstance(e, dict) for e in block.values()):
            raise Malformed("the view's state values must be objects")
        for element in block.values():
            check_element(element)


def _check_callback(payload: dict[str, Any]) -> None:
    if not _text(payload.get("callback_id")):
        raise Malformed("a shortcut needs a callback_id")


def _check_optional_objects(payload: dict[str, Any], *names: str) -> None:
    for name in names:
        if name in payload and not isinstance(payload[name], dict | None):
            raise Malformed(f"{name} must be an object")


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value)


def _no_check(payload: dict[str, Any]) -> None:
    del payload


_PAYLOAD_CHECKS = {
    "block_actions": _check_actions,
    "view_submission": _check_view,
    "view_closed": _check_view,
    "shortcut": _check_callback,
    "message_action": _check_callback,
}
