"""The double's Block Kit checker accepts what Slack accepts and refuses each limit Slack's
reference sets."""

from __future__ import annotations

from typing import Any

import pytest

from bot.sandbox.double.blockkit import validate_blocks, validate_view


def plain(value: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": value}


def mrkdwn(value: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": value}


def button(action_id: str, label: str = "Go", **extra: Any) -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "text": plain(label), **extra}


def option(value: str, label: str | None = None) -> dict[str, Any]:
    return {"text": plain(label or value), "value": value}


def select(action_id: str, options: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "type": "static_select",
        "action_id": action_id,
        "placeholder": plain("Pick"),
        "options": options,
        **extra,
    }


def actions(*elements: dict[str, Any], **extra: Any) -> list[dict[str, Any]]:
    return [{"type": "actions", "elements": list(elements), **extra}]


def section(text: dict[str, Any], **extra: Any) -> list[dict[str, Any]]:
    return [{"type": "section", "text": text, **extra}]


def text_input(block_id: str = "i", **element: Any) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "label": plain("Label"),
        "element": {"type": "plain_text_input", "action_id": block_id, **element},
    }


SEVERITIES = [option(f"SEV{i}") for i in (1, 2, 3)]
GOOD_MESSAGE = [
    {"type": "header", "text": plain("h" * 150)},
    {
        "type": "section",
        "block_id": "summary",
        "text": mrkdwn("s" * 3000),
        "fields": [mrkdwn("f" * 2000)] * 10,
        "accessory": button("open", url="https://example.com/" + "u" * 2900, style="primary"),
    },
    {
        "type": "context",
        "elements": [
            mrkdwn("c"),
            {"type": "image", "image_url": "https://example.com/i.png", "alt_text": "i"},
        ]
        + [plain("c")] * 8,
    },
    *actions(
        {"type": "users_select", "action_id": "role", "placeholder": plain("Who")},
        select("severity", SEVERITIES, initial_option=SEVERITIES[1]),
        {"type": "overflow", "action_id": "more", "options": SEVERITIES[:2]},
        {"type": "datepicker", "action_id": "when", "initial_date": "2024-02-29"},
        button("b" * 255, "x" * 75, value="v" * 2000),
        *[button(f"b{i}") for i in range(20)],
        block_id="k" * 255,
    ),
    {"type": "divider"},
    {"type": "image", "image_url": "https://example.com/i.png", "alt_text": "chart"},
    {
        "type": "rich_text",
        "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": "r"}]}],
    },
]
GOOD_MODAL = {
    "type": "modal",
    "callback_id": "c" * 255,
    "private_metadata": "m" * 3000,
    "title": plain("t" * 24),
    "submit": plain("s" * 24),
    "close": plain("c" * 24),
    "blocks": [
        text_input("title", max_length=3000, multiline=True),
        {
            "type": "input",
            "block_id": "sev",
            "label": plain("l" * 2000),
            "element": select("sev", [option(str(i)) for i in range(100)]),
        },
        {
            "type": "input",
            "block_id": "who",
            "label": plain("Who"),
            "element": {"type": "multi_users_select", "action_id": "who"},
            "optional": True,
        },
        {
            "type": "input",
            "block_id": "ok",
            "label": plain("OK?"),
            "element": {
                "type": "checkboxes",
                "action_id": "ok",
                "options": [{"text": mrkdwn("*yes*"), "value": "yes"}],
            },
        },
    ],
}


def test_good_blocks_and_views_pass() -> None:
    assert validate_blocks(GOOD_MESSAGE) == []
    assert validate_blocks([{"type": "divider"}] * 50) == []
    assert validate_blocks([{"type": "divider"}] * 100, surface="modal") == []
    assert validate_blocks([{"type": "divider"}] * 100, surface="home") == []
    assert validate_view(GOOD_MODAL) == []
    assert validate_view({"type": "home", "blocks": GOOD_MESSAGE}) == []


OPTIONS_101 = [option(str(i)) for i in range(101)]


@pytest.mark.parametrize(
    ("blocks", "problem"),
    [
        ([{"type": "divider"}] * 51, "a message takes at most 50"),
        ([{"type": "header", "text": plain("h" * 151)}], "limit is 150"),
        ([{"type": "header", "text": mrkdwn("h")}], "must be plain_text"),
        ([{"type": "header", "text": plain("")}], "must not be empty"),
        (section(mrkdwn("s" * 3001)), "limit is 3000"),
        (section(mrkdwn("s"), fields=[mrkdwn("f")] * 11), "at most 10 fields"),
        (section(mrkdwn("s"), fields=[mrkdwn("f" * 2001)]), "limit is 2000"),
        ([{"type": "section"}], "needs text or fields"),
        (section({"type": "rich", "text": "s"}), "must be plain_text or mrkdwn"),
        ([{"type": "context", "elements": [mrkdwn("c")] * 11}], "1-10 elements"),
        (actions(*[button(f"b{i}") for i in range(26)]), "1-25 elements"),
        (actions(button("b", "x" * 76)), "limit is 75"),
        (actions({**button("b"), "text": mrkdwn("b")}), "must be plain_text"),
        (actions(button("b", value="v" * 2001)), "value is 2001 characters"),
        (actions(button("b", url="https://x/" + "u" * 2991)), "url is 3001 characters"),
        (actions(button("b", style="loud")), "style must be primary or danger"),
        (actions(button("same"), button("same")), "'same' is not unique"),
        (section(mrkdwn("s"), accessory=button("a")) + actions(button("a")), "not unique"),
        (actions(button("b" * 256)), "action_id must be 1-255"),
        (actions(button("b"), block_id="x" * 256), "block_id must be 1-255"),
        (actions(button("a"), block_id="b") + actions(button("c"), block_id="b"), "not unique"),
        (actions(select("s", OPTIONS_101)), "1-100 options, not 101"),
        (actions(select("s", [option("v", "t" * 76)])), "limit is 75"),
        (actions(select("s", [option("v" * 151)])), "value must be 1-150"),
        (actions(select("s", [{"text": mrkdwn("m"), "value": "v"}])), "must be plain_text"),
        (actions(select("s", SEVERITIES, initial_option=option("SEV9"))), "not one of"),
        (actions(select("s", SEVERITIES, placeholder=plain("p" * 151))), "limit is 150"),
        (actions({"type": "overflow", "action_id": "o", "options": SEVERITIES * 2}), "2-5"),
        (actions({"type": "datepicker", "action_id": "d", "initial_date": "29/02"}), "YYYY"),
        ([{**text_input(), "label": plain("l" * 2001)}], "limit is 2000"),
        ([text_input(max_length=3001)], "max_length must be a number from 0 to 3000"),
        ([{**text_input(), "element": button("b")}], "a button cannot go here"),
        ([{"type": "input", "label": plain("l")}], "needs an element"),
        ([{"type": "not_a_block"}], "unknown block type 'not_a_block'"),
        (actions({"type": "slider", "action_id": "x"}), "unknown element type 'slider'"),
        (actions({"type": "image", "image_url": "https://x", "alt_text": "a"}), "cannot go"),
        ([{"type": "image", "image_url": "https://x"}], "alt_text must be 1-2000"),
        (
            [
                {
                    "type": "video",
                    "title": plain("t" * 201),
                    "video_url": "https://example.com/v",
                    "thumbnail_url": "https://example.com/t.png",
                    "alt_text": "v",
                }
            ],
            "slack-sdk: title attribute cannot exceed 200",
        ),
        ("not a list", "blocks must be an array"),
    ],
)
def test_each_limit_is_refused(blocks: Any, problem: str) -> None:
    problems = validate_blocks(blocks)
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"title": plain("t" * 25)}, "view.title is 25 characters; the limit is 24"),
        ({"title": mrkdwn("t")}, "view.title must be plain_text"),
        ({"submit": plain("s" * 25)}, "view.submit is 25"),
        ({"close": plain("c" * 25)}, "view.close is 25"),
        ({"private_metadata": "m" * 3001}, "private_metadata is 3001"),
        ({"callback_id": "c" * 256}, "callback_id is 256"),
        ({"title": None}, "a modal needs a title"),
        ({"submit": None}, "needs a submit button"),
        ({"type": "dialog"}, "must be modal or home"),
        ({"blocks": [{"type": "divider"}] * 101}, "a modal takes at most 100"),
        ({"blocks": [text_input(max_length=3001)]}, "max_length"),
    ],
)
def test_each_view_limit_is_refused(change: dict[str, Any], problem: str) -> None:
    view = {k: v for k, v in {**GOOD_MODAL, **change}.items() if v is not None}
    problems = validate_view(view)
    assert any(problem in p for p in problems), problems


def test_home_tabs_take_100_blocks() -> None:
    home = {"type": "home", "blocks": [{"type": "divider"}] * 101}
    assert any("a home takes at most 100" in p for p in validate_view(home))
