"""Sends requests to the bot exactly as Slack does: form-encoded, shaped like Slack's own
payloads (examples from Slack's docs and SDK test suites, copied in
tests/slack_reference/payloads), signed with the signing secret (v0 HMAC-SHA256).

Slack never redelivers a slash command or an interactive payload, so neither does the
driver; events (and their redeliveries) come from the double (``double_events``)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp

from bot.sandbox.double.events import VERIFICATION_TOKEN as VERIFICATION_TOKEN
from bot.sandbox.double.events import signature as signature
from bot.sandbox.double.server import SlackDouble
from bot.sandbox.double.state import APP_ID, Workspace


class ArchivedChannelError(Exception):
    """Slack never sends a slash command from an archived channel: the channel has no
    message box to type it in. A test asking for one asks for something impossible."""


@dataclass
class DriverReply:
    """The bot's HTTP answer, and what Slack had put in the request it answers."""

    status: int
    text: str
    elapsed: float
    trigger_id: str | None = None
    response_url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def json(self) -> dict[str, Any] | None:
        try:
            body = json.loads(self.text) if self.text else None
        except ValueError:
            return None
        return body if isinstance(body, dict) else None


class SlackDriver:
    """Plays Slack's side towards the bot: slash commands, clicks and view submissions."""

    def __init__(
        self, bot_url: str, signing_secret: str, double: SlackDouble, team_id: str | None = None
    ) -> None:
        self.bot_url = bot_url
        self.secret = signing_secret
        self.double = double
        self.team: Workspace = double.workspace(team_id)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> SlackDriver:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def sign(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        stamp = int(time.time()) if timestamp is None else timestamp
        return {
            "X-Slack-Request-Timestamp": str(stamp),
            "X-Slack-Signature": signature(self.secret, stamp, body),
        }

    async def post_raw(self, body: bytes, headers: dict[str, str]) -> DriverReply:
        """POST ``body`` to the bot as is; ``elapsed`` runs from sending to the full answer."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        started = time.perf_counter()
        async with self._session.post(self.bot_url, data=body, headers=headers) as response:
            text = await response.text()
            return DriverReply(
                response.status, text, time.perf_counter() - started, headers=dict(response.headers)
            )

    async def _post_form(
        self, fields: dict[str, str], trigger_id: str | None, response_url: str | None
    ) -> DriverReply:
        if not self.team.installed:
            raise AssertionError("Slack sends nothing to an app uninstalled from the workspace")
        body = urlencode(fields).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", **self.sign(body)}
        reply = await self.post_raw(body, headers)
        reply.trigger_id = trigger_id
        reply.response_url = response_url
        return reply

    def _user(self, user_id: str) -> dict[str, Any]:
        name = str(self.team.users.get(user_id, {"name": user_id.lower()})["name"])
        return {"id": user_id, "username": name, "name": name, "team_id": self.team.team_id}

    def _channel_name(self, channel_id: str) -> str:
        channel = self.team.channels.get(channel_id)
        if channel is None:
            return "unknown"
        return "directmessage" if channel.is_im else channel.name

    async def command(
        self,
        command: str,
        text: str,
        *,
        user_id: str,
        channel_id: str,
        trigger_id: str | None = None,
    ) -> DriverReply:
        """A slash command as Slack posts it (payloads/slash_command_*.form.txt).

        Raises :class:`ArchivedChannelError` for an archived channel, where nobody can type.
        """
        channel = self.team.channels.get(channel_id)
        if channel is not None and channel.is_archived:
            raise ArchivedChannelError(
                f"#{channel.name} is archived: Slack offers no message box there, so no "
                "slash command can come from it."
            )
        trigger = trigger_id or self.double.issue_trigger_id(user_id, team_id=self.team.team_id)
        response_url = self.double.new_response_url(
            "commands", channel_id=channel_id, user_id=user_id, team_id=self.team.team_id
        )
        fields = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team.team_id,
            "team_domain": self.team.domain,
            "channel_id": channel_id,
            "channel_name": self._channel_name(channel_id),
            "user_id": user_id,
            "user_name": self._user(user_id)["name"],
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger,
        }
        return await self._post_form(fields, trigger, response_url)

    async def click(
        self,
        message_or_view: dict[str, Any],
        action_id: str,
        *,
        user_id: str,
        value: str | None = None,
        selected_user: str | None = None,
        selected_option_value: str | None = None,
    ) -> DriverReply:
        """A block_actions payload for the element ``action_id`` in a message or a view.

        The message or view is sent as given, so a stale copy behaves like a person
        clicking in a Slack client that has not caught up yet.
        """
        block, element = find_element(message_or_view.get("blocks") or [], action_id)
        chosen = Chosen(value, selected_user, selected_option_value)
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user_id),
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
        }
        if is_view(message_or_view):
            trigger, response_url = self._in_view(payload, message_or_view, user_id)
        else:
            trigger, response_url = self._in_message(payload, message_or_view, user_id)
        payload["actions"] = [action_payload(block, element, chosen)]
        return await self._post_form({"payload": json.dumps(payload)}, trigger, response_url)

    def _common(self, payload: dict[str, Any], trigger: str) -> None:
        payload["trigger_id"] = trigger
        payload["team"] = {"id": self.team.team_id, "domain": self.team.domain}
        payload["enterprise"] = None
        payload["is_enterprise_install"] = False

    def _in_view(
        self, payload: dict[str, Any], view: dict[str, Any], user_id: str
    ) -> tuple[str, None]:
        payload["container"] = {"type": "view", "view_id": view["id"]}
        trigger = self.double.issue_trigger_id(
            user_id, view_id=view["id"], team_id=self.team.team_id
        )
        self._common(payload, trigger)
        payload["view"] = view
        return trigger, None

    def _in_message(
        self, payload: dict[str, Any], message: dict[str, Any], user_id: str
    ) -> tuple[str, str]:
        channel_id = self._channel_of(message)
        ephemeral = "to_user" in message
        payload["container"] = {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": channel_id,
            "is_ephemeral": ephemeral,
        }
        trigger = self.double.issue_trigger_id(user_id, team_id=self.team.team_id)
        self._common(payload, trigger)
        payload["channel"] = {"id": channel_id, "name": self._channel_name(channel_id)}
        if not ephemeral:
            payload["message"] = message
        response_url = self.double.new_response_url(
            "actions",
            channel_id=channel_id,
            user_id=user_id,
            message_ts=message["ts"],
            team_id=self.team.team_id,
        )
        payload["response_url"] = response_url
        return trigger, response_url

    async def submit_view(
        self, view_id: str, values: dict[str, dict[str, Any]], *, user_id: str
    ) -> DriverReply:
        """A view_submission of the stored view, ``state.values`` typed per element.

        An ``update`` or ``push`` answer is applied to the double as Slack would; a view
        Slack would refuse there raises AssertionError.
        """
        view = self._view(view_id)
        blocks = view.get("blocks") or []
        view["state"] = {"values": state_values(blocks, values, view["state"]["values"])}
        trigger = self.double.issue_trigger_id(user_id, view_id=view_id, team_id=self.team.team_id)
        payload = {
            "type": "view_submission",
            "team": {"id": self.team.team_id, "domain": self.team.domain},
            "user": self._user(user_id),
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "trigger_id": trigger,
            "view": view,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        reply = await self._post_form({"payload": json.dumps(payload)}, trigger, None)
        answer = reply.json
        if answer is not None:
            problems = self.double.apply_response_action(view_id, answer)
            if problems:
                raise AssertionError(f"Slack would refuse the response_action view: {problems}")
        return reply

    async def press_enter(
        self,
        view_id: str,
        block_id: str,
        text: str,
        *,
        user_id: str,
        values: dict[str, dict[str, Any]] | None = None,
    ) -> DriverReply:
        """The person types ``text`` in the input ``block_id`` of a modal (and ``values`` in
        others, typed per element as for :meth:`submit_view`) and presses Enter.

        Slack sends a block_actions payload for it only when the input block has
        ``dispatch_action`` and its element dispatches ``on_enter_pressed``; asking for one
        elsewhere raises AssertionError. The view goes with its ``state.values`` as the
        person left them, and the double remembers what was typed, as the Slack client does
        until the view is submitted or replaced.
        """
        view = self._view(view_id)
        blocks = view.get("blocks") or []
        block = next(
            (b for b in blocks if b.get("type") == "input" and b.get("block_id") == block_id), None
        )
        if block is None or not dispatches_on_enter(block):
            raise AssertionError(
                f"pressing Enter in {block_id!r} sends Slack nothing: it is not an input block "
                "with dispatch_action and on_enter_pressed"
            )
        element = block["element"]
        typed = {**(values or {}), block_id: {element["action_id"]: text}}
        state = state_values(blocks, typed, view["state"]["values"])
        self.double.enter_in_view(view_id, {b: state[b] for b in typed})
        view["state"] = {"values": state}
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user_id),
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
        }
        trigger, response_url = self._in_view(payload, view, user_id)
        payload["actions"] = [action_payload(block, element, Chosen(value=text))]
        return await self._post_form({"payload": json.dumps(payload)}, trigger, response_url)

    def _view(self, view_id: str) -> dict[str, Any]:
        view = self.double.views.get(view_id)
        if view is None:
            raise AssertionError(f"the double has no view {view_id!r}")
        return view

    def _channel_of(self, message: dict[str, Any]) -> str:
        for channel in self.team.channels.values():
            if any(m["ts"] == message.get("ts") for m in channel.messages + channel.ephemerals):
                return channel.id
        raise AssertionError("that message is not in any channel of the double")


def is_view(surface: dict[str, Any]) -> bool:
    return surface.get("type") in ("modal", "home") and "id" in surface


@dataclass(frozen=True)
class Chosen:
    """What the person picked or typed, for the element types that carry one."""

    value: str | None = None
    selected_user: str | None = None
    selected_option_value: str | None = None


def find_element(
    blocks: list[dict[str, Any]], action_id: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    for block in blocks:
        elements = list(block.get("elements") or [])
        elements += [
            block[key] for key in ("accessory", "element") if isinstance(block.get(key), dict)
        ]
        for element in elements:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return block, element
    raise AssertionError(f"no element with action_id {action_id!r}")


def action_payload(
    block: dict[str, Any], element: dict[str, Any], chosen: Chosen
) -> dict[str, Any]:
    """``actions[0]`` as Slack sends it for this element type (payloads/block_actions_*)."""
    kind = element["type"]
    action: dict[str, Any] = {
        "type": kind,
        "action_id": element["action_id"],
        "block_id": block.get("block_id", ""),
    }
    if kind == "button":
        action["text"] = element["text"]
        action["value"] = chosen.value if chosen.value is not None else element.get("value", "")
    elif kind in ("users_select", "multi_users_select"):
        action.update(_picked_users(element, chosen))
    elif kind in ("static_select", "radio_buttons", "overflow", "checkboxes"):
        option = pick_option(element, chosen.selected_option_value or chosen.value)
        key = "selected_options" if kind == "checkboxes" else "selected_option"
        action[key] = [option] if kind == "checkboxes" else option
        if element.get("initial_option"):
            action["initial_option"] = element["initial_option"]
    elif kind == "datepicker":
        action["selected_date"] = chosen.value
    else:
        action["value"] = chosen.value
    action["action_ts"] = f"{time.time():.6f}"
    return action


def _picked_users(element: dict[str, Any], chosen: Chosen) -> dict[str, Any]:
    picked = chosen.selected_user or chosen.value
    if element["type"] == "multi_users_select":
        return {"selected_users": [picked] if picked else []}
    fields: dict[str, Any] = {"selected_user": picked}
    if element.get("initial_user"):
        fields["initial_user"] = element["initial_user"]
    return fields


def pick_option(element: dict[str, Any], value: Any) -> dict[str, Any]:
    """The element's own option object with that value; a person cannot pick another."""
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += group.get("options") or []
    option = next((o for o in options if o.get("value") == value), None)
    if option is None:
        raise AssertionError(f"{element.get('action_id')!r} has no option {value!r}")
    return dict(option)


def dispatches_on_enter(block: dict[str, Any]) -> bool:
    """Whether Enter in this input block sends block_actions: ``dispatch_action`` on the
    block, a plain_text_input whose ``dispatch_action_config`` (if any) lists
    ``on_enter_pressed``."""
    element = block.get("element") or {}
    triggers = (element.get("dispatch_action_config") or {}).get(
        "trigger_actions_on", ["on_enter_pressed"]
    )
    return (
        block.get("dispatch_action") is True
        and element.get("type") == "plain_text_input"
        and "on_enter_pressed" in triggers
    )


def state_values(
    blocks: list[dict[str, Any]],
    values: dict[str, dict[str, Any]],
    entered: dict[str, dict[str, Any]] | None = None,
) -> dict[str, dict[str, Any]]:
    """``view.state.values`` for every input block: given values, else what the person
    ``entered`` earlier (already in Slack's shape), else what Slack sends untouched."""
    inputs = {b["block_id"]: b["element"] for b in blocks if b.get("type") == "input"}
    for block_id, by_action in values.items():
        element = inputs.get(block_id)
        if element is None or set(by_action) - {element.get("action_id")}:
            raise AssertionError(f"the view has no input {block_id!r}/{list(by_action)}")
    state: dict[str, dict[str, Any]] = {}
    for block_id, element in inputs.items():
        action_id = element["action_id"]
        if action_id in values.get(block_id, {}):
            typed = typed_value(element, values[block_id][action_id])
        elif action_id in (entered or {}).get(block_id, {}):
            typed = dict((entered or {})[block_id][action_id])
        else:
            typed = untouched_value(element)
        state[block_id] = {action_id: typed}
    return state


def untouched_value(element: dict[str, Any]) -> dict[str, Any]:
    """An input the person left alone: its initial value if it has one, else empty."""
    kind = element["type"]
    typed: dict[str, Any] = {"type": kind}
    if kind in ("static_select", "radio_buttons", "external_select"):
        typed["selected_option"] = element.get("initial_option")
    elif kind == "users_select":
        typed["selected_user"] = element.get("initial_user")
    elif kind == "multi_users_select":
        typed["selected_users"] = list(element.get("initial_users") or [])
    elif kind in ("checkboxes", "multi_static_select"):
        typed["selected_options"] = list(element.get("initial_options") or [])
    elif kind == "datepicker":
        typed["selected_date"] = element.get("initial_date")
    else:
        typed["value"] = element.get("initial_value")
    return typed


def typed_value(element: dict[str, Any], given: Any) -> dict[str, Any]:
    """What Slack sends for ``given`` in this element (view_submission*.json)."""
    kind = element["type"]
    typed: dict[str, Any] = {"type": kind}
    if kind in ("static_select", "radio_buttons"):
        typed["selected_option"] = None if given is None else pick_option(element, given)
    elif kind == "users_select":
        typed["selected_user"] = given
    elif kind == "multi_users_select":
        typed["selected_users"] = list(given or [])
    elif kind in ("checkboxes", "multi_static_select"):
        typed["selected_options"] = [pick_option(element, v) for v in given or []]
    elif kind == "datepicker":
        typed["selected_date"] = given
    else:
        typed["value"] = given
    return typed
