"""The driver signs like Slack (checked against Slack's worked example and slack-sdk's
verifier) and shapes payloads like Slack's own captured ones."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import pytest
from aiohttp import web
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.double.http import serve
from bot.sandbox.double.server import SlackDouble
from bot.sandbox.driver import SlackDriver, signature
from tests.support.slack_spec import payload_example, payload_text

SECRET = "driver-secret"
TOKEN = "xoxb-test"


def plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


OPTIONS = [{"text": plain(f"SEV{i}"), "value": f"SEV{i}"} for i in (1, 2, 3)]
MODAL = {
    "type": "modal",
    "callback_id": "declare",
    "private_metadata": "from-test",
    "title": plain("Declare"),
    "submit": plain("Declare"),
    "blocks": [
        {
            "type": "input",
            "block_id": "title",
            "label": plain("Title"),
            "element": {"type": "plain_text_input", "action_id": "title_input"},
        },
        {
            "type": "input",
            "block_id": "severity",
            "label": plain("Severity"),
            "element": {
                "type": "static_select",
                "action_id": "sev",
                "options": OPTIONS,
                "initial_option": OPTIONS[2],
            },
        },
        {
            "type": "input",
            "block_id": "lead",
            "label": plain("Lead"),
            "element": {"type": "users_select", "action_id": "lead"},
        },
        {
            "type": "input",
            "block_id": "watchers",
            "label": plain("Watchers"),
            "element": {"type": "multi_users_select", "action_id": "watchers"},
        },
        {
            "type": "input",
            "block_id": "flags",
            "label": plain("Flags"),
            "element": {
                "type": "checkboxes",
                "action_id": "flags",
                "options": [{"text": plain("Customers"), "value": "customers"}],
            },
        },
        {
            "type": "input",
            "block_id": "when",
            "label": plain("Started"),
            "element": {"type": "datepicker", "action_id": "when"},
        },
        {
            "type": "actions",
            "block_id": "tools",
            "elements": [{"type": "static_select", "action_id": "tpl", "options": OPTIONS}],
        },
    ],
}


@dataclass
class Echo:
    """A receiving end that verifies signatures with slack-sdk and keeps what it got."""

    driver: SlackDriver
    double: SlackDouble
    channel_id: str
    received: list[dict[str, Any]] = field(default_factory=list)
    answer: dict[str, Any] | None = None

    def form(self, index: int = -1) -> dict[str, list[str]]:
        return dict(self.received[index]["form"])

    def payload(self, index: int = -1) -> dict[str, Any]:
        return dict(json.loads(self.form(index)["payload"][0]))


@pytest.fixture
async def echo() -> AsyncIterator[Echo]:
    verifier = SignatureVerifier(SECRET)
    double = SlackDouble(bot_token=TOKEN)
    await double.start()
    double.add_user("UA", "alice")
    channel = double.add_channel("general", members=["UA"], bot_member=True)
    holder: list[Echo] = []

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        valid = verifier.is_valid_request(body, dict(request.headers))
        holder[0].received.append({"valid": valid, "form": parse_qs(body.decode())})
        if not valid:
            return web.Response(status=401)
        if holder[0].answer is not None:
            return web.json_response(holder[0].answer)
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/slack/events", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    port = await serve(runner, "127.0.0.1", 0)
    async with SlackDriver(
        bot_url=f"http://127.0.0.1:{port}/slack/events", signing_secret=SECRET, double=double
    ) as driver:
        holder.append(Echo(driver, double, channel["id"]))
        yield holder[0]
    await double.stop()
    await runner.cleanup()


def web_client(double: SlackDouble) -> AsyncWebClient:
    return AsyncWebClient(token=TOKEN, base_url=double.api_url)


def test_signature_matches_slacks_worked_example() -> None:
    vector = payload_example("signing_vector.json")
    driver = SlackDriver("http://127.0.0.1:9/", vector["signing_secret"], SlackDouble())
    headers = driver.sign(vector["body"].encode(), int(vector["x_slack_request_timestamp"]))
    assert headers == {
        "X-Slack-Request-Timestamp": vector["x_slack_request_timestamp"],
        "X-Slack-Signature": vector["x_slack_signature"],
    }
    stamp = int(vector["x_slack_request_timestamp"])
    assert (
        signature(vector["signing_secret"], stamp, vector["body"].encode())
        == (vector["x_slack_signature"])
    )


async def test_slash_commands_look_like_slacks(echo: Echo) -> None:
    reply = await echo.driver.command(
        "/incident", "declare DB is down", user_id="UA", channel_id=echo.channel_id
    )
    assert reply.status == 200 and echo.received[0]["valid"] and reply.elapsed > 0
    example = payload_text("slash_command_slack_docs.form.txt")
    form = echo.form()
    assert set(parse_qs(example, keep_blank_values=True)) <= set(form)
    assert form["command"] == ["/incident"] and form["text"] == ["declare DB is down"]
    assert form["channel_name"] == ["general"] and form["user_name"] == ["alice"]
    assert form["team_id"] == ["T0AMENDS"] and form["team_domain"] == ["amends-sandbox"]
    assert form["trigger_id"] == [reply.trigger_id]
    assert form["response_url"] == [reply.response_url]
    view = {"type": "modal", "title": plain("T"), "blocks": []}
    opened = await web_client(echo.double).views_open(trigger_id=reply.trigger_id, view=view)
    assert echo.double.view_user(opened["view"]["id"]) == "UA"
    with pytest.raises(SlackApiError):
        await web_client(echo.double).views_open(trigger_id=reply.trigger_id, view=view)


async def test_clicks_in_messages_look_like_slacks(echo: Echo) -> None:
    web = web_client(echo.double)
    blocks = [
        {
            "type": "actions",
            "block_id": "b1",
            "elements": [
                {"type": "button", "action_id": "go", "text": plain("Go"), "value": "v1"},
                {"type": "users_select", "action_id": "who", "initial_user": "UA"},
            ],
        }
    ]
    await web.chat_postMessage(channel=echo.channel_id, text="t", blocks=blocks)
    message = echo.double.messages(echo.channel_id)[0]
    reply = await echo.driver.click(message, "go", user_id="UA")
    payload = echo.payload()
    assert set(payload_example("block_actions_button.json")) <= set(payload)
    action = payload["actions"][0]
    assert set(payload_example("block_actions_button.json")["actions"][0]) == set(action)
    assert action | {"action_ts": "x"} == {
        "action_id": "go",
        "block_id": "b1",
        "type": "button",
        "value": "v1",
        "text": plain("Go"),
        "action_ts": "x",
    }
    assert payload["container"] == {
        "type": "message",
        "message_ts": message["ts"],
        "channel_id": echo.channel_id,
        "is_ephemeral": False,
    }
    assert payload["channel"] == {"id": echo.channel_id, "name": "general"}
    assert payload["message"] == message and payload["trigger_id"] == reply.trigger_id
    assert payload["response_url"] == reply.response_url and reply.response_url
    await echo.driver.click(message, "who", user_id="UA", selected_user="UB")
    picked = echo.payload()["actions"][0]
    users_example = payload_example("block_actions_users_select_DERIVED.json")["actions"][0]
    assert set(picked) == set(users_example)
    assert picked["selected_user"] == "UB" and picked["initial_user"] == "UA"


async def test_clicks_in_views_look_like_slacks(echo: Echo) -> None:
    trigger = echo.double.issue_trigger_id("UA")
    opened = await web_client(echo.double).views_open(trigger_id=trigger, view=MODAL)
    view = echo.double.views[opened["view"]["id"]]
    reply = await echo.driver.click(view, "tpl", user_id="UA", selected_option_value="SEV2")
    payload = echo.payload()
    example = payload_example("block_actions_static_select.trimmed_DERIVED.json")
    assert set(example) <= set(payload) and set(example["view"]) <= set(payload["view"])
    assert payload["container"] == {"type": "view", "view_id": view["id"]}
    assert "response_url" not in payload and "channel" not in payload
    assert payload["actions"][0]["selected_option"] == OPTIONS[1]
    assert set(example["actions"][0]) == set(payload["actions"][0])
    pushed = await web_client(echo.double).views_push(trigger_id=reply.trigger_id, view=MODAL)
    assert pushed["view"]["root_view_id"] == view["id"]
    with pytest.raises(AssertionError, match="no option 'SEV9'"):
        await echo.driver.click(view, "tpl", user_id="UA", selected_option_value="SEV9")
    with pytest.raises(AssertionError, match="no element with action_id 'nope'"):
        await echo.driver.click(view, "nope", user_id="UA")


async def test_view_submissions_carry_typed_state(echo: Echo) -> None:
    trigger = echo.double.issue_trigger_id("UA")
    opened = await web_client(echo.double).views_open(trigger_id=trigger, view=MODAL)
    view_id = opened["view"]["id"]
    values: dict[str, dict[str, Any]] = {
        "title": {"title_input": "DB is down"},
        "lead": {"lead": "UA"},
        "watchers": {"watchers": ["UA", "UB"]},
        "flags": {"flags": ["customers"]},
        "when": {"when": "2024-05-01"},
    }
    await echo.driver.submit_view(view_id, values, user_id="UA")
    payload = echo.payload()
    example = payload_example("view_submission.json")
    assert set(example) <= set(payload) and set(example["view"]) <= set(payload["view"])
    view = payload["view"]
    assert (view["id"], view["callback_id"], view["private_metadata"]) == (
        view_id,
        "declare",
        "from-test",
    )
    assert view["hash"] == opened["view"]["hash"]
    assert view["state"]["values"] == {
        "title": {"title_input": {"type": "plain_text_input", "value": "DB is down"}},
        "severity": {"sev": {"type": "static_select", "selected_option": OPTIONS[2]}},
        "lead": {"lead": {"type": "users_select", "selected_user": "UA"}},
        "watchers": {"watchers": {"type": "multi_users_select", "selected_users": ["UA", "UB"]}},
        "flags": {
            "flags": {
                "type": "checkboxes",
                "selected_options": [{"text": plain("Customers"), "value": "customers"}],
            }
        },
        "when": {"when": {"type": "datepicker", "selected_date": "2024-05-01"}},
    }
    java = payload_example("view_submission_static_select_datepicker_java_sdk.json")
    java_state = java["view"]["state"]["values"]
    assert set(java_state["rating"]["single_action"]) == set(
        view["state"]["values"]["severity"]["sev"]
    )
    await echo.driver.submit_view(view_id, {}, user_id="UA")
    empty = echo.payload()["view"]["state"]["values"]
    assert empty["title"] == {"title_input": {"type": "plain_text_input", "value": None}}
    assert empty["lead"] == {"lead": {"type": "users_select", "selected_user": None}}
    assert empty["flags"]["flags"]["selected_options"] == []
    with pytest.raises(AssertionError, match="no input 'typo'"):
        await echo.driver.submit_view(view_id, {"typo": {"x": "y"}}, user_id="UA")


async def test_response_action_update_is_applied_and_checked(echo: Echo) -> None:
    trigger = echo.double.issue_trigger_id("UA")
    opened = await web_client(echo.double).views_open(trigger_id=trigger, view=MODAL)
    view_id = opened["view"]["id"]
    review = {**MODAL, "title": plain("Review")}
    echo.answer = {"response_action": "update", "view": review}
    reply = await echo.driver.submit_view(view_id, {}, user_id="UA")
    assert reply.json == echo.answer
    assert echo.double.views[view_id]["title"] == plain("Review")
    echo.answer = {"response_action": "update", "view": {**MODAL, "title": plain("x" * 25)}}
    with pytest.raises(AssertionError, match="Slack would refuse"):
        await echo.driver.submit_view(view_id, {}, user_id="UA")
    echo.answer = {"response_action": "errors", "errors": {"title": "Too short"}}
    reply = await echo.driver.submit_view(view_id, {}, user_id="UA")
    assert reply.json == echo.answer and echo.double.views[view_id]["title"] == plain("Review")


async def test_every_request_passes_slacks_verifier_and_stale_ones_fail(echo: Echo) -> None:
    await echo.driver.command("/incident", "", user_id="UA", channel_id=echo.channel_id)
    assert all(r["valid"] for r in echo.received)
    body = b"command=%2Fincident"
    reply = await echo.driver.post_raw(body, echo.driver.sign(body, timestamp=1_000_000_000))
    assert reply.status == 401 and echo.received[-1]["valid"] is False
    tampered = echo.driver.sign(body)
    reply = await echo.driver.post_raw(body + b"&x=1", tampered)
    assert reply.status == 401


def with_enter(modal: dict[str, Any]) -> dict[str, Any]:
    """MODAL whose title input sends block_actions when Enter is pressed in it."""
    blocks = [dict(b) for b in modal["blocks"]]
    blocks[0] = {
        **blocks[0],
        "dispatch_action": True,
        "element": {
            **blocks[0]["element"],
            "dispatch_action_config": {"trigger_actions_on": ["on_enter_pressed"]},
        },
    }
    return {**modal, "blocks": blocks}


async def open_modal(echo: Echo, modal: dict[str, Any]) -> dict[str, Any]:
    trigger = echo.double.issue_trigger_id("UA")
    opened = await web_client(echo.double).views_open(trigger_id=trigger, view=modal)
    return dict(opened["view"])


async def test_enter_in_a_dispatching_input_sends_its_value_with_the_views_state(
    echo: Echo,
) -> None:
    view = await open_modal(echo, with_enter(MODAL))
    await echo.driver.press_enter(
        view["id"], "title", "DB is down", user_id="UA", values={"lead": {"lead": "UA"}}
    )
    payload = echo.payload()
    assert payload["type"] == "block_actions"
    assert payload["container"] == {"type": "view", "view_id": view["id"]}
    assert payload["view"]["hash"] == view["hash"]
    (action,) = payload["actions"]
    assert {k: v for k, v in action.items() if k != "action_ts"} == {
        "type": "plain_text_input",
        "action_id": "title_input",
        "block_id": "title",
        "value": "DB is down",
    }
    state = payload["view"]["state"]["values"]
    assert state["title"]["title_input"]["value"] == "DB is down"
    assert state["lead"]["lead"]["selected_user"] == "UA"


async def test_enter_in_an_input_without_dispatch_action_sends_nothing(echo: Echo) -> None:
    view = await open_modal(echo, MODAL)
    with pytest.raises(AssertionError, match="sends Slack nothing"):
        await echo.driver.press_enter(view["id"], "title", "DB is down", user_id="UA")
    assert echo.received == []


async def test_views_update_keeps_what_was_typed_in_inputs_with_the_same_ids(echo: Echo) -> None:
    view = await open_modal(echo, with_enter(MODAL))
    await echo.driver.press_enter(
        view["id"], "title", "DB is down", user_id="UA", values={"lead": {"lead": "UA"}}
    )
    blocks = [dict(b) for b in with_enter(MODAL)["blocks"]]
    lead = blocks[2]
    blocks[2] = {**lead, "element": {**lead["element"], "action_id": "lead_again"}}
    await web_client(echo.double).views_update(
        view_id=view["id"], hash=view["hash"], view={**MODAL, "blocks": blocks}
    )
    await echo.driver.submit_view(view["id"], {}, user_id="UA")
    state = echo.payload()["view"]["state"]["values"]
    assert state["title"]["title_input"]["value"] == "DB is down"
    assert state["lead"]["lead_again"]["selected_user"] is None
    assert list(echo.double.views[view["id"]]["state"]["values"]) == ["title"]


async def test_views_update_shows_a_new_initial_option_in_a_select_left_alone(echo: Echo) -> None:
    view = await open_modal(echo, with_enter(MODAL))
    await echo.driver.press_enter(view["id"], "title", "DB is down", user_id="UA")
    blocks = [dict(b) for b in with_enter(MODAL)["blocks"]]
    blocks[1] = {**blocks[1], "element": {**blocks[1]["element"], "initial_option": OPTIONS[0]}}
    await web_client(echo.double).views_update(
        view_id=view["id"], hash=view["hash"], view={**MODAL, "blocks": blocks}
    )
    await echo.driver.submit_view(view["id"], {}, user_id="UA")
    state = echo.payload()["view"]["state"]["values"]
    assert state["severity"]["sev"]["selected_option"] == OPTIONS[0]


async def test_a_dispatch_config_with_an_unknown_trigger_is_refused(echo: Echo) -> None:
    modal = with_enter(MODAL)
    modal["blocks"][0]["element"]["dispatch_action_config"] = {"trigger_actions_on": ["on_blur"]}
    with pytest.raises(SlackApiError) as caught:
        await open_modal(echo, modal)
    assert caught.value.response["error"] == "invalid_arguments"
