"""The Block Kit helpers cut every field to Slack's limit and escape user text exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from messages import ids
from messages.blocks import (
    actions,
    button,
    channel_link,
    context,
    divider,
    escape,
    escape_within,
    header,
    mention,
    mrkdwn,
    option,
    plain,
    section,
    slack_date,
    static_select,
    truncate,
    users_select,
)


def round_trips(block: dict[str, Any]) -> dict[str, Any]:
    """The block as slack_sdk serialises it; raises SlackObjectFormationError when invalid."""
    parsed = Block.parse(block)
    assert parsed is not None
    result: dict[str, Any] = parsed.to_dict()
    return result


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("exactly10!", 10, "exactly10!"),
        ("eleven chars", 10, "eleven ch…"),
        ("abc", 1, "…"),
        ("abc", 0, ""),
        ("", 0, ""),
    ],
)
def test_truncate_marks_cuts_and_never_exceeds(text: str, limit: int, expected: str) -> None:
    assert truncate(text, limit) == expected
    assert len(truncate(text, limit)) <= limit


def test_escape_neutralises_mentions_links_and_ampersands() -> None:
    assert escape("<!channel> <@U1> <#C1> <https://x|y> a & b") == (
        "&lt;!channel&gt; &lt;@U1&gt; &lt;#C1&gt; &lt;https://x|y&gt; a &amp; b"
    )
    assert escape("&amp;") == "&amp;amp;"


def test_clean_text_is_left_alone() -> None:
    clean = "Checkout fails for EU cards — 50% of orders (since 12:00) *bold*"
    assert escape(clean) == clean
    assert escape_within(clean, 3000) == clean
    assert truncate(clean, 3000) == clean


def test_escape_within_never_splits_an_entity() -> None:
    cut = escape_within("&" * 1000, 100)
    assert len(cut) <= 100 and cut.endswith("…")
    body = cut.removesuffix("…")
    assert body == "&amp;" * (len(body) // 5)
    assert escape_within("a<b", 3) == "a…"
    assert escape_within("a<b", 6) == "a&lt;b"
    assert escape_within("anything", 0) == ""


def test_text_objects_are_never_empty() -> None:
    assert plain("")["text"] == " "
    assert mrkdwn("")["text"] == " "
    assert plain("🔥", emoji=False) == {"type": "plain_text", "text": "🔥", "emoji": False}


def test_a_header_is_cut_to_150_characters() -> None:
    assert len(header("h" * 500)["text"]["text"]) == 150


def long_section() -> dict[str, Any]:
    return section("s" * 5000, fields=["f" * 5000] * 12, block_id="b" * 300)


def test_a_section_text_is_cut_to_3000_characters() -> None:
    assert len(round_trips(long_section())["text"]["text"]) == 3000


def test_a_section_keeps_at_most_10_fields_of_2000_characters() -> None:
    block = long_section()
    assert len(block["fields"]) == 10
    assert all(len(f["text"]) == 2000 for f in block["fields"])


def test_a_block_id_is_cut_to_255_characters() -> None:
    assert len(long_section()["block_id"]) == 255


def test_a_section_of_fields_alone_has_no_text() -> None:
    fields_only = section(fields=["*Severity*\nSEV1"])
    assert "text" not in fields_only
    round_trips(fields_only)


def test_an_empty_section_shows_a_space() -> None:
    assert section()["text"]["text"] == " "


def long_button() -> dict[str, Any]:
    return button("b" * 100, "a" * 300, value="v" * 3000, style="weird")


def test_a_button_label_is_cut_to_75_characters() -> None:
    assert len(long_button()["text"]["text"]) == 75


def test_an_action_id_is_cut_to_255_characters() -> None:
    assert len(long_button()["action_id"]) == 255


def test_a_button_value_is_cut_to_2000_characters() -> None:
    assert len(long_button()["value"]) == 2000


def test_a_button_style_slack_does_not_know_is_dropped() -> None:
    assert "style" not in long_button()
    assert button("Go", "go", style="danger")["style"] == "danger"


def test_an_option_is_cut_to_75_characters_of_text_and_150_of_value() -> None:
    choice = option("o" * 100, "v" * 200)
    assert len(choice["text"]["text"]) == 75 and len(choice["value"]) == 150


def test_a_user_picker_shows_its_current_holder_under_a_150_character_placeholder() -> None:
    picker = users_select(ids.role_select("lead"), "p" * 200, initial_user="U1")
    assert len(picker["placeholder"]["text"]) == 150 and picker["initial_user"] == "U1"
    round_trips(actions("pickers", picker))


def test_a_user_picker_with_nobody_chosen_has_no_initial_user() -> None:
    assert "initial_user" not in users_select(ids.role_select("lead"), "Lead")


def test_a_row_of_controls_keeps_at_most_25_under_a_255_character_block_id() -> None:
    block = actions("x" * 300, *(button(str(i), f"b{i}") for i in range(30)))
    assert len(block["block_id"]) == 255 and len(block["elements"]) == 25
    round_trips(block)


def test_static_select_keeps_only_a_valid_initial_option() -> None:
    options = [option(f"Option {i}", str(i)) for i in range(150)]
    select = static_select("pick", "Pick", options, initial=option("Gone", "gone"))
    assert len(select["options"]) == 100 and "initial_option" not in select
    chosen = static_select("pick", "Pick", options[:3], initial=options[1])
    assert chosen["initial_option"]["value"] == "1"
    round_trips(actions("selects", select, chosen))


def test_a_context_keeps_at_most_10_texts() -> None:
    block = context(*(f"line {i}" for i in range(12)))
    assert len(round_trips(block)["elements"]) == 10


def test_an_empty_context_shows_a_space() -> None:
    assert context()["elements"] == [{"type": "mrkdwn", "text": " "}]


def test_a_divider_is_a_plain_divider() -> None:
    assert round_trips(divider()) == {"type": "divider"}


def test_slack_date_shows_local_time_with_a_utc_fallback() -> None:
    moment = datetime(2026, 11, 22, 12, 30, tzinfo=UTC)
    epoch = int(moment.timestamp())
    assert slack_date(moment) == (
        f"<!date^{epoch}^{{date_short_pretty}} {{time}}|2026-11-22 12:30 UTC>"
    )
    berlin = moment.astimezone(timezone(timedelta(hours=1)))
    assert slack_date(berlin, "{time}") == f"<!date^{epoch}^{{time}}|2026-11-22 12:30 UTC>"
    assert slack_date(moment.replace(tzinfo=None)) == slack_date(moment)


def test_mentions_and_channel_links_come_from_ids() -> None:
    assert mention("U123") == "<@U123>"
    assert mention(None) == "_unassigned_"
    assert channel_link("C123") == "<#C123>"
    assert "<#" not in channel_link(None)
