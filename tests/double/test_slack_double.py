"""The Slack API double behaves like Slack: checked with slack-sdk's real client against
Slack's published method specs (carried in tests/slack_reference)."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.double.methods import METHODS, MISSING_ARGUMENT_ERRORS
from bot.sandbox.double.server import REQUIRED_ARGS, SlackDouble, wait_for
from tests.support.slack_spec import method_spec, payload_example

DOUBLE = Path(__file__).resolve().parents[2] / "bot" / "sandbox" / "double"
TOKEN = "xoxb-one"
# Slack documents these for every method in a shared "common errors" list, which the
# per-method files in tests/slack_reference/methods leave out (views.open's own error example is
# invalid_arguments; conversations.create lists missing_argument).
COMMON_ERRORS = {"not_authed", "invalid_auth", "missing_argument", "invalid_arguments"}

MODAL = {
    "type": "modal",
    "title": {"type": "plain_text", "text": "Declare"},
    "submit": {"type": "plain_text", "text": "Go"},
    "blocks": [
        {
            "type": "input",
            "block_id": "title",
            "label": {"type": "plain_text", "text": "Title"},
            "element": {"type": "plain_text_input", "action_id": "title"},
        }
    ],
}
HOME = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]}


def spec_errors(method: str) -> set[str]:
    """The method's listed errors and the codes in its own error examples."""
    spec = method_spec(method)
    examples = [e.get("example", {}) for e in spec.get("examples", {}).values()]
    return set(spec.get("errors", {})) | {e["error"] for e in examples if "error" in e}


@pytest.fixture
async def double() -> AsyncIterator[SlackDouble]:
    d = SlackDouble(team_id="T1", bot_token=TOKEN, bot_user_id="UBOT")
    await d.start()
    d.add_user("UA", "alice")
    d.add_user("UC", "carol")
    d.add_user("UB", "bob", deleted=True)
    yield d
    await d.stop()


def client(double: SlackDouble, token: str | None = TOKEN) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=double.api_url)


async def error_of(call: Any) -> str:
    with pytest.raises(SlackApiError) as caught:
        await call
    return str(caught.value.response["error"])


# -- the spec ------------------------------------------------------------------------------


def test_required_arguments_are_slacks() -> None:
    assert set(REQUIRED_ARGS) == set(METHODS)
    for method, required in REQUIRED_ARGS.items():
        spec_required = [a for a in method_spec(method)["args"].get("required", []) if a != "token"]
        assert sorted(required) == sorted(spec_required), method
    for (method, _), code in MISSING_ARGUMENT_ERRORS.items():
        assert code in spec_errors(method), (method, code)


async def test_every_error_the_double_gives_is_in_slacks_spec(double: SlackDouble) -> None:
    """Drive every error path; each answer must be one the method's spec lists."""
    driven: dict[tuple[str, str], str] = {}
    for method, args, expected, token in await error_scenarios(double):
        web = client(double, token)
        with pytest.raises(SlackApiError) as caught:
            await web.api_call(method, json=args)
        got = caught.value.response["error"]
        assert got == expected, (method, args, got)
        assert got in spec_errors(method) | COMMON_ERRORS, (method, got)
        driven[(method, got)] = got
    assert await error_of(client(double).api_call("chat.nope")) == "unknown_method"
    driven[("chat.nope", "unknown_method")] = "unknown_method"
    in_source = _codes_in_source()
    assert in_source <= set(driven.values()), f"never driven: {in_source - set(driven.values())}"


def _codes_in_source() -> set[str]:
    """Every error code the double's modules can answer with."""
    source = "\n".join(p.read_text() for p in DOUBLE.glob("*.py"))
    codes = set(re.findall(r'SlackError\(\s*"([a-z_]+)"', source))
    codes |= set(re.findall(r'(?:json_arg|checked_attachments)\([^()]*"([a-z_]+)"\)', source))
    return codes | set(MISSING_ARGUMENT_ERRORS.values()) | {"missing_argument", "not_authed"}


Scenario = tuple[str, dict[str, Any], str, str | None]


async def error_scenarios(double: SlackDouble) -> list[Scenario]:
    web = client(double)
    inc = (await web.conversations_create(name="inc"))["channel"]["id"]
    await web.conversations_invite(channel=inc, users="UA")
    outside = double.add_channel("outside", members=["UA"])["id"]
    general = double.add_channel("general", bot_member=True)["id"]
    private = double.add_channel("secret", is_private=True, bot_member=True)["id"]
    archived = (await web.conversations_create(name="old"))["channel"]["id"]
    await web.conversations_archive(channel=archived)
    dm = (await web.conversations_open(users="UA"))["channel"]["id"]
    posted = (await web.chat_postMessage(channel=inc, text="hi"))["ts"]
    await web.pins_add(channel=inc, timestamp=posted)
    human = double.add_message(inc, "from a person", user_id="UA")["ts"]
    full = (await web.conversations_create(name="full"))["channel"]["id"]
    for i in range(100):
        ts = (await web.chat_postMessage(channel=full, text=str(i)))["ts"]
        await web.pins_add(channel=full, timestamp=ts)
        await web.bookmarks_add(channel_id=full, title=str(i), type="link", link="https://x.y")
    extra = (await web.chat_postMessage(channel=full, text="101st"))["ts"]
    opened = await web.views_open(trigger_id=double.issue_trigger_id("UA"), view=MODAL)
    view_id = opened["view"]["id"]
    await web.views_open(
        trigger_id=double.issue_trigger_id("UA"), view={**MODAL, "external_id": "ext-1"}
    )
    await web.views_publish(user_id="UA", view=HOME)
    stack = view_id
    for _ in range(2):
        trigger = double.issue_trigger_id("UA", view_id=stack)
        stack = (await web.views_push(trigger_id=trigger, view=MODAL))["view"]["id"]
    used = double.issue_trigger_id()
    await web.views_open(trigger_id=used, view=MODAL)
    double.trigger_ttl = 0.05
    stale = double.issue_trigger_id()
    await asyncio.sleep(0.1)
    double.trigger_ttl = 3.0
    big = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 2900}}
    huge_view = {**MODAL, "blocks": [*MODAL["blocks"], *[big] * 99]}
    bad_blocks = [{"type": "header", "text": {"type": "mrkdwn", "text": "no"}}]
    fresh = double.issue_trigger_id
    return [
        ("auth.test", {}, "not_authed", None),
        ("conversations.unarchive", {"channel": inc}, "not_archived", TOKEN),
        ("files.completeUploadExternal", {"files": [{"id": "FNOPE"}]}, "file_not_found", TOKEN),
        (
            "files.getUploadURLExternal",
            {"filename": "a.md", "length": 0},
            "missing_argument",
            TOKEN,
        ),
        ("auth.test", {}, "invalid_auth", "xoxb-nope"),
        ("users.info", {"user": "UNOPE"}, "user_not_found", TOKEN),
        ("users.info", {}, "missing_argument", TOKEN),
        ("conversations.create", {"name": ""}, "invalid_name_required", TOKEN),
        ("conversations.create", {}, "invalid_name_required", TOKEN),
        ("conversations.create", {"name": "x" * 81}, "invalid_name_maxlength", TOKEN),
        ("conversations.create", {"name": "Has Caps"}, "invalid_name_specials", TOKEN),
        ("conversations.create", {"name": "---"}, "invalid_name_punctuation", TOKEN),
        ("conversations.create", {"name": "inc"}, "name_taken", TOKEN),
        ("conversations.info", {"channel": "CNOPE"}, "channel_not_found", TOKEN),
        ("conversations.info", {}, "missing_argument", TOKEN),
        ("conversations.invite", {"channel": "CNOPE", "users": "UA"}, "channel_not_found", TOKEN),
        ("conversations.invite", {"channel": archived, "users": "UA"}, "is_archived", TOKEN),
        ("conversations.invite", {"channel": outside, "users": "UC"}, "not_in_channel", TOKEN),
        (
            "conversations.invite",
            {"channel": dm, "users": "UC"},
            "method_not_supported_for_channel_type",
            TOKEN,
        ),
        ("conversations.invite", {"channel": inc, "users": ""}, "no_user", TOKEN),
        ("conversations.invite", {"channel": inc}, "no_user", TOKEN),
        ("conversations.invite", {"channel": inc, "users": "UBOT"}, "cant_invite_self", TOKEN),
        ("conversations.invite", {"channel": inc, "users": "UC,UX"}, "user_not_found", TOKEN),
        ("conversations.invite", {"channel": inc, "users": "UB"}, "cant_invite", TOKEN),
        ("conversations.invite", {"channel": inc, "users": "UA"}, "already_in_channel", TOKEN),
        ("conversations.join", {"channel": "CNOPE"}, "channel_not_found", TOKEN),
        ("conversations.join", {"channel": archived}, "is_archived", TOKEN),
        (
            "conversations.join",
            {"channel": private},
            "method_not_supported_for_channel_type",
            TOKEN,
        ),
        ("conversations.setTopic", {"channel": "CNOPE", "topic": "t"}, "channel_not_found", TOKEN),
        ("conversations.setTopic", {"channel": archived, "topic": "t"}, "is_archived", TOKEN),
        ("conversations.setTopic", {"channel": outside, "topic": "t"}, "not_in_channel", TOKEN),
        ("conversations.setTopic", {"channel": inc, "topic": "t" * 251}, "too_long", TOKEN),
        (
            "conversations.setTopic",
            {"channel": dm, "topic": "t"},
            "method_not_supported_for_channel_type",
            TOKEN,
        ),
        ("conversations.members", {"channel": "CNOPE"}, "channel_not_found", TOKEN),
        ("conversations.archive", {"channel": "CNOPE"}, "channel_not_found", TOKEN),
        (
            "conversations.archive",
            {"channel": dm},
            "method_not_supported_for_channel_type",
            TOKEN,
        ),
        ("conversations.archive", {"channel": archived}, "already_archived", TOKEN),
        ("conversations.archive", {"channel": general}, "cant_archive_general", TOKEN),
        ("conversations.archive", {"channel": outside}, "not_in_channel", TOKEN),
        ("conversations.open", {"channel": "DNOPE"}, "channel_not_found", TOKEN),
        ("conversations.open", {}, "users_list_not_supplied", TOKEN),
        ("conversations.open", {"users": "UA,UC"}, "too_many_users", TOKEN),
        ("conversations.open", {"users": "UB"}, "user_disabled", TOKEN),
        ("conversations.open", {"users": "UNOPE"}, "user_not_found", TOKEN),
        ("conversations.history", {"channel": "CNOPE"}, "channel_not_found", TOKEN),
        ("conversations.history", {"channel": outside}, "not_in_channel", TOKEN),
        ("conversations.history", {"channel": inc, "oldest": "x"}, "invalid_ts_oldest", TOKEN),
        ("conversations.history", {"channel": inc, "latest": "x"}, "invalid_ts_latest", TOKEN),
        ("conversations.history", {"channel": inc, "cursor": "x"}, "invalid_cursor", TOKEN),
        ("chat.postMessage", {"channel": "CNOPE", "text": "x"}, "channel_not_found", TOKEN),
        ("chat.postMessage", {"text": "x"}, "channel_not_found", TOKEN),
        ("chat.postMessage", {"channel": "UB", "text": "x"}, "channel_not_found", TOKEN),
        ("chat.postMessage", {"channel": archived, "text": "x"}, "is_archived", TOKEN),
        ("chat.postMessage", {"channel": outside, "text": "x"}, "not_in_channel", TOKEN),
        ("chat.postMessage", {"channel": inc}, "no_text", TOKEN),
        ("chat.postMessage", {"channel": inc, "blocks": "[{"}, "invalid_blocks_format", TOKEN),
        ("chat.postMessage", {"channel": inc, "blocks": bad_blocks}, "invalid_blocks", TOKEN),
        ("chat.postMessage", {"channel": inc, "attachments": "{"}, "invalid_arguments", TOKEN),
        (
            "chat.postMessage",
            {"channel": inc, "attachments": [{"text": "a"}] * 101},
            "too_many_attachments",
            TOKEN,
        ),
        (
            "chat.postMessage",
            {"channel": inc, "text": "x", "metadata": "{"},
            "invalid_metadata_format",
            TOKEN,
        ),
        (
            "chat.postMessage",
            {"channel": inc, "text": "x", "metadata": {"no": "type"}},
            "invalid_metadata_schema",
            TOKEN,
        ),
        ("chat.update", {"channel": "CNOPE", "ts": posted}, "channel_not_found", TOKEN),
        ("chat.update", {"channel": inc, "ts": "1.2", "text": "x"}, "message_not_found", TOKEN),
        ("chat.update", {"channel": inc, "ts": human, "text": "x"}, "cant_update_message", TOKEN),
        ("chat.update", {"channel": inc, "ts": posted}, "no_text", TOKEN),
        (
            "chat.update",
            {"channel": inc, "ts": posted, "text": "x" * 40_001},
            "msg_too_long",
            TOKEN,
        ),
        (
            "chat.update",
            {"channel": inc, "ts": posted, "blocks": "[{"},
            "invalid_blocks_format",
            TOKEN,
        ),
        (
            "chat.update",
            {"channel": inc, "ts": posted, "blocks": bad_blocks},
            "invalid_blocks",
            TOKEN,
        ),
        (
            "chat.update",
            {"channel": inc, "ts": posted, "attachments": "{"},
            "invalid_attachments",
            TOKEN,
        ),
        (
            "chat.update",
            {"channel": inc, "ts": posted, "attachments": [{"text": "a"}] * 101},
            "too_many_attachments",
            TOKEN,
        ),
        (
            "chat.update",
            {"channel": inc, "ts": posted, "text": "x", "metadata": "{"},
            "invalid_metadata_format",
            TOKEN,
        ),
        ("chat.update", {"channel": inc, "text": "x"}, "missing_argument", TOKEN),
        (
            "chat.postEphemeral",
            {"channel": "CNOPE", "user": "UA", "text": "x"},
            "channel_not_found",
            TOKEN,
        ),
        (
            "chat.postEphemeral",
            {"channel": archived, "user": "UA", "text": "x"},
            "is_archived",
            TOKEN,
        ),
        (
            "chat.postEphemeral",
            {"channel": outside, "user": "UA", "text": "x"},
            "not_in_channel",
            TOKEN,
        ),
        (
            "chat.postEphemeral",
            {"channel": inc, "user": "UC", "text": "x"},
            "user_not_in_channel",
            TOKEN,
        ),
        ("chat.postEphemeral", {"channel": inc, "user": "UA"}, "no_text", TOKEN),
        (
            "chat.postEphemeral",
            {"channel": inc, "user": "UA", "text": "x" * 40_001},
            "msg_too_long",
            TOKEN,
        ),
        (
            "chat.postEphemeral",
            {"channel": inc, "user": "UA", "blocks": bad_blocks},
            "invalid_blocks",
            TOKEN,
        ),
        (
            "chat.postEphemeral",
            {"channel": inc, "user": "UA", "blocks": "[{"},
            "invalid_blocks_format",
            TOKEN,
        ),
        (
            "chat.postEphemeral",
            {"channel": inc, "user": "UA", "attachments": "{"},
            "invalid_attachments",
            TOKEN,
        ),
        (
            "chat.postEphemeral",
            {"channel": inc, "user": "UA", "attachments": [{"text": "a"}] * 101},
            "too_many_attachments",
            TOKEN,
        ),
        (
            "chat.getPermalink",
            {"channel": "CNOPE", "message_ts": posted},
            "channel_not_found",
            TOKEN,
        ),
        ("chat.getPermalink", {"channel": inc, "message_ts": "1.2"}, "message_not_found", TOKEN),
        ("pins.add", {"channel": "CNOPE", "timestamp": posted}, "channel_not_found", TOKEN),
        ("pins.add", {"channel": archived, "timestamp": posted}, "restricted_action", TOKEN),
        ("pins.add", {"channel": outside, "timestamp": posted}, "not_in_channel", TOKEN),
        ("pins.add", {"channel": inc}, "no_item_specified", TOKEN),
        ("pins.add", {"channel": inc, "timestamp": "yesterday"}, "bad_timestamp", TOKEN),
        ("pins.add", {"channel": inc, "timestamp": "1.2"}, "message_not_found", TOKEN),
        ("pins.add", {"channel": inc, "timestamp": posted}, "already_pinned", TOKEN),
        ("pins.add", {"channel": full, "timestamp": extra}, "too_many_pins", TOKEN),
        ("pins.list", {"channel": "CNOPE"}, "channel_not_found", TOKEN),
        ("bookmarks.add", {"title": "t", "type": "link"}, "channel_not_found", TOKEN),
        (
            "bookmarks.add",
            {"channel_id": inc, "title": "t", "type": "file"},
            "invalid_bookmark_type",
            TOKEN,
        ),
        (
            "bookmarks.add",
            {"channel_id": inc, "title": "t", "type": "link", "link": "ftp://x"},
            "invalid_link",
            TOKEN,
        ),
        (
            "bookmarks.add",
            {"channel_id": inc, "title": "t", "type": "link", "link": "https://x", "emoji": "x"},
            "invalid_emoji",
            TOKEN,
        ),
        (
            "bookmarks.add",
            {"channel_id": full, "title": "t", "type": "link", "link": "https://x"},
            "too_many_bookmarks",
            TOKEN,
        ),
        ("bookmarks.add", {"channel_id": inc, "type": "link"}, "missing_argument", TOKEN),
        ("views.open", {"trigger_id": "1.2.abc", "view": MODAL}, "invalid_trigger_id", TOKEN),
        ("views.open", {"view": MODAL}, "invalid_trigger_id", TOKEN),
        ("views.open", {"trigger_id": used, "view": MODAL}, "exchanged_trigger_id", TOKEN),
        ("views.open", {"trigger_id": stale, "view": MODAL}, "expired_trigger_id", TOKEN),
        ("views.open", {"trigger_id": fresh(), "view": "{"}, "invalid_arguments", TOKEN),
        ("views.open", {"trigger_id": fresh(), "view": HOME}, "invalid_arguments", TOKEN),
        ("views.open", {"trigger_id": fresh(), "view": huge_view}, "view_too_large", TOKEN),
        (
            "views.open",
            {"trigger_id": fresh(), "view": {**MODAL, "external_id": "ext-1"}},
            "duplicate_external_id",
            TOKEN,
        ),
        ("views.open", {"trigger_id": fresh()}, "missing_argument", TOKEN),
        ("views.push", {"trigger_id": "1.2.abc", "view": MODAL}, "invalid_trigger_id", TOKEN),
        (
            "views.push",
            {"trigger_id": fresh(view_id="VGONE"), "view": MODAL},
            "not_found",
            TOKEN,
        ),
        (
            "views.push",
            {"trigger_id": fresh(view_id=stack), "view": MODAL},
            "push_limit_reached",
            TOKEN,
        ),
        (
            "views.push",
            {"trigger_id": fresh(), "view": {"type": "modal"}},
            "invalid_arguments",
            TOKEN,
        ),
        ("views.update", {"view_id": "VGONE", "view": MODAL}, "not_found", TOKEN),
        ("views.update", {"external_id": "nope", "view": MODAL}, "not_found", TOKEN),
        (
            "views.update",
            {"view_id": view_id, "hash": "1.x", "view": MODAL},
            "hash_conflict",
            TOKEN,
        ),
        (
            "views.update",
            {"view_id": view_id, "view": {**MODAL, "title": None}},
            "invalid_arguments",
            TOKEN,
        ),
        (
            "views.update",
            {"view_id": view_id, "view": {**MODAL, "external_id": "ext-1"}},
            "duplicate_external_id",
            TOKEN,
        ),
        ("views.update", {"view_id": view_id, "view": huge_view}, "view_too_large", TOKEN),
        ("views.publish", {"user_id": "UNOPE", "view": HOME}, "invalid_arguments", TOKEN),
        ("views.publish", {"user_id": "UA", "view": MODAL}, "invalid_arguments", TOKEN),
        ("views.publish", {"user_id": "UA", "hash": "1.x", "view": HOME}, "hash_conflict", TOKEN),
        (
            "views.publish",
            {"user_id": "UC", "view": {**HOME, "external_id": "ext-1"}},
            "duplicate_external_id",
            TOKEN,
        ),
        ("views.publish", {"view": HOME}, "missing_argument", TOKEN),
    ]


def test_the_429_is_slacks_own() -> None:
    expected = payload_example("ratelimited_429.json")
    from bot.sandbox.double.http import RATELIMITED_BODY

    assert expected["body"] == RATELIMITED_BODY


# -- behaviour -----------------------------------------------------------------------------


async def test_auth_arguments_and_workspace_isolation(double: SlackDouble) -> None:
    double.add_workspace("T2", "other", "xoxb-two", "UBOT2")
    other = double.add_channel("secret", team_id="T2", bot_member=True)
    assert (await client(double).auth_test())["team_id"] == "T1"
    assert (await client(double, "xoxb-two").auth_test())["user_id"] == "UBOT2"
    assert await error_of(client(double).conversations_info(channel=other["id"])) == (
        "channel_not_found"
    )
    assert await error_of(client(double, "xoxb-two").users_info(user="UA")) == "user_not_found"
    async with aiohttp.ClientSession() as session:
        form = {"token": TOKEN, "user": "UA"}
        async with session.post(double.api_url + "users.info", data=form) as response:
            assert response.status == 200 and (await response.json())["user"]["name"] == "alice"
        query = f"{double.api_url}users.info?token={TOKEN}&user=UA"
        async with session.get(query) as response:
            assert (await response.json())["ok"] is True
        async with session.post(double.api_url + "users.info", data={"user": "UA"}) as response:
            assert response.status == 200
            assert await response.json() == {"ok": False, "error": "not_authed"}
    assert [c.team_id for c in double.calls_to("users.info")][-3:] == ["T1", "T1", None]


async def test_channels_invites_topics_and_archiving(double: SlackDouble) -> None:
    web = client(double)
    created = (await web.conversations_create(name="inc-1-ok_name"))["channel"]
    assert created["id"].startswith("C") and created["is_member"] and created["creator"] == "UBOT"
    assert double.channel_by_name("inc-1-ok_name") == double.channel(created["id"])
    assert (await web.conversations_create(name="p", is_private=True))["channel"]["is_private"]
    await web.conversations_invite(channel=created["id"], users="UA,UC")
    assert double.members(created["id"]) == ["UBOT", "UA", "UC"]
    listed = await web.conversations_members(channel=created["id"])
    assert listed["members"] == ["UBOT", "UA", "UC"]
    await web.conversations_setTopic(channel=created["id"], topic="SEV1 · t" * 25)
    assert double.topic(created["id"]) == "SEV1 · t" * 25
    info = await web.conversations_info(channel=created["id"])
    assert info["channel"]["topic"]["value"] == "SEV1 · t" * 25
    outside = double.add_channel("outside", members=["UA"])["id"]
    assert not (await web.conversations_info(channel=outside))["channel"]["is_member"]
    await web.conversations_join(channel=outside)
    again = await web.conversations_join(channel=outside)
    assert again["warning"] == "already_in_channel"
    await web.conversations_archive(channel=outside)
    assert double.channel(outside)["is_archived"]  # type: ignore[index]


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
async def test_messages_are_kept_and_edited_in_place(double: SlackDouble) -> None:
    web = client(double)
    channel = (await web.conversations_create(name="inc-2"))["channel"]["id"]
    section = [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]
    first = await web.chat_postMessage(channel=channel, text="hello", blocks=section)
    assert first["channel"] == channel and first["message"]["blocks"] == section
    await web.chat_postMessage(channel="#inc-2", text="by #name")
    await web.chat_postMessage(channel="inc-2", text="by name")
    edited = await web.chat_update(channel=channel, ts=first["ts"], text="edited")
    assert edited["text"] == "edited"
    messages = double.messages(channel)
    assert [m["text"] for m in messages] == ["edited", "by #name", "by name"]
    assert messages[0]["blocks"] == section and messages[0]["edited"]["user"] == "UBOT"
    assert messages[0]["user"] == "UBOT" and "edited" not in messages[1]
    await web.chat_update(channel=channel, ts=first["ts"], blocks=[])
    assert double.messages(channel)[0]["blocks"] == [] and double.messages(channel)[0]["text"]
    link = await web.chat_getPermalink(channel=channel, message_ts=first["ts"])
    assert link["permalink"].endswith(first["ts"].replace(".", ""))
    long = await web.chat_postMessage(channel=channel, text="x" * 40_001)
    assert len(long["message"]["text"]) == 40_000, "Slack truncates, as documented"


async def test_history_pages_newest_first_with_slacks_cursor(double: SlackDouble) -> None:
    web = client(double)
    channel = (await web.conversations_create(name="inc-busy"))["channel"]["id"]
    for i in range(5):
        await web.chat_postMessage(channel=channel, text=f"m{i}")
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = await web.conversations_history(channel=channel, limit=2, cursor=cursor)
        seen += [m["text"] for m in page["messages"]]
        cursor = page["response_metadata"]["next_cursor"]
        assert bool(cursor) == page["has_more"]
        if not cursor:
            break
        assert base64.b64decode(cursor).decode().startswith("next_ts:")
    assert seen == ["m4", "m3", "m2", "m1", "m0"]


async def test_slow_answers_come_after_the_call_took_effect(double: SlackDouble) -> None:
    web = client(double)
    channel = (await web.conversations_create(name="inc-slow"))["channel"]["id"]
    double.slow_down("chat.postMessage", 0.5, channel=channel)
    posting = asyncio.create_task(web.chat_postMessage(channel=channel, text="late"))
    await wait_for(lambda: double.messages(channel))
    assert not posting.done(), "in the channel before the poster hears back"
    assert (await posting)["ok"]
    double.recover()
    assert (await web.chat_postMessage(channel=channel, text="on time"))["ok"]


async def test_direct_messages_and_ephemerals(double: SlackDouble) -> None:
    web = client(double)
    await web.chat_postMessage(channel="UA", text="psst")
    opened = await web.conversations_open(users="UA")
    assert opened["channel"]["id"].startswith("D") and opened["already_open"]
    assert [m["text"] for m in double.dm_messages("UA")] == ["psst"]
    await web.chat_postMessage(channel=opened["channel"]["id"], text="again")
    assert len(double.dm_messages("UA")) == 2
    channel = (await web.conversations_create(name="inc-3"))["channel"]["id"]
    await web.conversations_invite(channel=channel, users="UA")
    sent = await web.chat_postEphemeral(channel=channel, user="UA", text="only you")
    assert double.ephemerals(channel)[0]["to_user"] == "UA"
    assert double.ephemerals(channel)[0]["ts"] == sent["message_ts"]
    assert double.messages(channel) == []


async def test_pins_bookmarks_and_users(double: SlackDouble) -> None:
    web = client(double)
    channel = (await web.conversations_create(name="inc-4"))["channel"]["id"]
    ts = (await web.chat_postMessage(channel=channel, text="header"))["ts"]
    await web.pins_add(channel=channel, timestamp=ts)
    assert double.pins(channel) == [ts]
    items = (await web.pins_list(channel=channel))["items"]
    assert items[0]["message"]["text"] == "header"
    mark = await web.bookmarks_add(
        channel_id=channel, title="Runbook", type="link", link="https://runbook.example"
    )
    assert mark["bookmark"]["id"].startswith("Bk")
    assert double.bookmarks(channel)[0]["title"] == "Runbook"
    assert (await web.users_info(user="UB"))["user"]["deleted"] is True
    assert (await web.users_info(user="UA"))["user"]["profile"]["display_name"] == "alice"


async def test_blocks_arrive_as_json_text_or_lists_and_are_checked(double: SlackDouble) -> None:
    web = client(double)
    channel = (await web.conversations_create(name="inc-5"))["channel"]["id"]
    section = [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]
    await web.api_call("chat.postMessage", data={"channel": channel, "blocks": json.dumps(section)})
    await web.api_call("chat.postMessage", json={"channel": channel, "blocks": section})
    assert [m["blocks"] for m in double.messages(channel)] == [section, section]
    with pytest.raises(SlackApiError) as caught:
        await web.chat_postMessage(channel=channel, text="x", blocks=[{"type": "divider"}] * 51)
    assert caught.value.response["error"] == "invalid_blocks"
    assert "at most 50" in " ".join(caught.value.response["response_metadata"]["messages"])
    assert len(double.messages(channel)) == 2


async def test_views_open_update_push_publish(double: SlackDouble) -> None:
    web = client(double)
    trigger = double.issue_trigger_id("UA")
    opened = (await web.views_open(trigger_id=trigger, view={**MODAL, "external_id": "e1"}))["view"]
    assert opened["id"].startswith("V") and opened["team_id"] == "T1" and opened["hash"]
    assert double.view_user(opened["id"]) == "UA"
    assert double.views[opened["id"]]["blocks"] == MODAL["blocks"]
    renamed = {**MODAL, "title": {"type": "plain_text", "text": "Renamed"}}
    updated = (await web.views_update(view_id=opened["id"], hash=opened["hash"], view=renamed))[
        "view"
    ]
    assert updated["id"] == opened["id"] and updated["hash"] != opened["hash"]
    assert (
        await error_of(web.views_update(view_id=opened["id"], hash=opened["hash"], view=renamed))
        == "hash_conflict"
    )
    by_external = await web.views_update(external_id="e1", view=MODAL)
    assert double.views[opened["id"]]["title"]["text"] == "Declare"
    pushed = await web.views_push(
        trigger_id=double.issue_trigger_id("UA", view_id=opened["id"]), view=MODAL
    )
    assert pushed["view"]["root_view_id"] == opened["id"]
    assert pushed["view"]["previous_view_id"] == by_external["view"]["id"]
    home = (await web.views_publish(user_id="UA", view=HOME))["view"]
    again = (await web.views_publish(user_id="UA", view=HOME))["view"]
    assert home["id"] == again["id"] and double.view_user(home["id"]) == "UA"


async def test_triggers_expire_and_work_once() -> None:
    double = SlackDouble(bot_token=TOKEN, trigger_ttl=0.05)
    await double.start()
    try:
        web = client(double)
        trigger = double.issue_trigger_id()
        await web.views_open(trigger_id=trigger, view=MODAL)
        assert await error_of(web.views_open(trigger_id=trigger, view=MODAL)) == (
            "exchanged_trigger_id"
        )
        stale = double.issue_trigger_id()
        await asyncio.sleep(0.1)
        assert await error_of(web.views_open(trigger_id=stale, view=MODAL)) == (
            "expired_trigger_id"
        )
        assert re.fullmatch(r"\d+\.\d+\.[0-9a-f]+", stale), "Slack's documented format"
    finally:
        await double.stop()


async def test_429_carries_retry_after_and_slack_sdk_retries_through_it(
    double: SlackDouble,
) -> None:
    double.fail_next("auth.test", retry_after=1)
    with pytest.raises(SlackApiError) as caught:
        await client(double).auth_test()
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["retry-after"] in ("1", ["1"])
    assert caught.value.response.data == {"ok": False, "error": "ratelimited"}
    double.fail_next("auth.test", retry_after=1)
    retrying = AsyncWebClient(
        token=TOKEN,
        base_url=double.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    assert (await retrying.auth_test())["ok"]
    recorded = double.calls_to("auth.test")[-2:]
    assert [c.http_status for c in recorded] == [429, 200]
    assert recorded[1].at - recorded[0].at >= 0.9


async def test_automatic_rate_limit(double: SlackDouble) -> None:
    double.set_rate_limit("users.info", per_seconds=0.3, burst=2)
    web = client(double)
    await web.users_info(user="UA")
    await web.users_info(user="UA")
    with pytest.raises(SlackApiError) as caught:
        await web.users_info(user="UA")
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["retry-after"] in ("1", ["1"])
    await asyncio.sleep(0.35)
    assert (await web.users_info(user="UA"))["ok"]


async def test_the_per_channel_limit_refuses_a_second_message_to_a_channel_within_its_second(
    double: SlackDouble,
) -> None:
    double.limit_per_channel("chat.postMessage")
    web = client(double)
    first = (await web.conversations_create(name="ext-a"))["channel"]["id"]
    other = (await web.conversations_create(name="ext-b"))["channel"]["id"]
    await web.chat_postMessage(channel=first, text="one")
    with pytest.raises(SlackApiError) as caught:
        await web.chat_postMessage(channel=first, text="two")
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["retry-after"] in ("1", ["1"])
    assert caught.value.response.data == {"ok": False, "error": "ratelimited"}
    assert (await web.chat_postMessage(channel=other, text="one"))["ok"]
    assert [m["text"] for m in double.messages(first)] == ["one"]
    assert [c.args["text"] for c in double.refused_with_429("chat.postMessage")] == ["two"]


async def test_the_per_channel_limit_lets_a_burst_through_and_refills_over_time(
    double: SlackDouble,
) -> None:
    double.limit_per_channel("chat.postMessage", per_seconds=0.3, burst=2)
    web = client(double)
    channel = (await web.conversations_create(name="ext-a"))["channel"]["id"]
    await web.chat_postMessage(channel=channel, text="one")
    await web.chat_postMessage(channel=channel, text="two")
    assert await error_of(web.chat_postMessage(channel=channel, text="three")) == "ratelimited"
    await asyncio.sleep(0.35)
    assert (await web.chat_postMessage(channel=channel, text="three"))["ok"]


async def test_without_the_per_channel_limit_messages_to_a_channel_are_never_refused(
    double: SlackDouble,
) -> None:
    web = client(double)
    channel = (await web.conversations_create(name="ext-a"))["channel"]["id"]
    for i in range(5):
        await web.chat_postMessage(channel=channel, text=str(i))
    assert double.refused_with_429() == []


async def test_injected_errors_server_errors_and_slow_answers(double: SlackDouble) -> None:
    double.fail_next("auth.test", http_status=503)
    with pytest.raises(SlackApiError) as caught:
        await client(double).auth_test()
    assert caught.value.response.status_code == 503
    double.fail_next("auth.test", delay=0.5)
    # slack-sdk annotates timeout as int, but hands it to aiohttp, which takes seconds as float.
    slow = AsyncWebClient(token=TOKEN, base_url=double.api_url, timeout=0.1)  # type: ignore[arg-type]
    with pytest.raises(asyncio.TimeoutError):
        await slow.auth_test()
    double.fail_next("users.info", error="user_not_visible", times=2)
    assert await error_of(client(double).users_info(user="UA")) == "user_not_visible"
    assert await error_of(client(double).users_info(user="UA")) == "user_not_visible"
    assert (await client(double).users_info(user="UA"))["ok"]
    await wait_for(lambda: len(double.calls_to("auth.test")) == 2)
    assert [c.http_status for c in double.calls_to("auth.test")] == [503, 200]
    assert [c.response.get("error") for c in double.calls_to("users.info")] == [
        "user_not_visible",
        "user_not_visible",
        None,
    ]
    assert len(double.ok_calls_to("users.info")) == 1


async def test_response_urls_are_checked_recorded_applied_and_used_up(double: SlackDouble) -> None:
    web = client(double)
    channel = (await web.conversations_create(name="inc-6"))["channel"]["id"]
    ts = (await web.chat_postMessage(channel=channel, text="original"))["ts"]
    url = double.new_response_url("actions", channel_id=channel, user_id="UA", message_ts=ts)
    async with aiohttp.ClientSession() as session:

        async def post(body: Any, to: str = url) -> int:
            async with session.post(to, json=body) as response:
                return response.status

        assert await post({"text": "only you", "response_type": "ephemeral"}) == 200
        assert await post({"text": "swapped", "replace_original": True}) == 200
        assert await post({"text": "for all", "response_type": "in_channel"}) == 200
        assert await post({"blocks": [{"type": "nope"}]}) == 400
        assert await post({}) == 400
        assert await post({"delete_original": True}) == 200
        assert await post({"text": "fifth"}) == 200
        assert await post({"text": "sixth"}) == 404
        assert await post({"text": "x"}, url.replace("actions", "commands")) == 404
        assert await post({"text": "x"}, double.new_response_url() + "x") == 404
    assert [r.body.get("text") for r in double.responses_for(url)] == [
        "only you",
        "swapped",
        "for all",
        None,
        "fifth",
    ]
    assert [m["text"] for m in double.messages(channel)] == ["for all"]
    assert [m["text"] for m in double.ephemerals(channel)] == ["only you", "fifth"]


async def test_wait_for_returns_the_value_or_says_what_it_waited_for() -> None:
    box: list[int] = []
    asyncio.get_running_loop().call_later(0.05, box.append, 7)
    assert await wait_for(lambda: box) == [7]
    never_true = False
    with pytest.raises(AssertionError, match="never_true"):
        await wait_for(lambda: never_true, timeout=0.05)
