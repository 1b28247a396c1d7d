"""The pure builders stay inside Slack's limits and never let user text become markup."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.incidents.policy import ROLES
from bot.sandbox.double.blockkit import validate_blocks, validate_view
from handlers.subcommands import COMMAND, help_lines
from messages import ids
from messages.header import channel_topic, incident_header, incident_header_text
from messages.ids import DECLARE_CALLBACK_ID, DeclareFields
from messages.limits import FORM_ERROR_MAX, form_error
from messages.modals import declare_modal, error_modal
from messages.model import IncidentCard
from messages.text import (
    announcement_blocks,
    announcement_text,
    declared_reply_text,
    help_blocks,
    incident_list_blocks,
    role_assigned_text,
    severity_changed_text,
    status_changed_text,
)
from tests.support.blockkit_readers import (
    action_ids,
    action_rows,
    context_texts,
    header_fields,
    header_title,
    mrkdwn_texts,
    section_texts,
    view_input,
)
from tests.support.blockkit_readers import control as element
from tests.support.harness import make_settings

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
SNEAKY_TITLE = "<!channel> ping <@U1> & <https://evil.example|click>"
ALL_ROLES = {"lead": "U1", "comms": "U2", "tech": "U3", "scribe": "U4"}

Blocks = list[dict[str, Any]]


def card(**changes: Any) -> IncidentCard:
    base = IncidentCard(
        team_id="T1",
        number=12,
        title="Checkout fails",
        severity="SEV2",
        status="investigating",
        reporter_id="U1",
        channel_id="C1",
        created_at=NOW,
        roles={"lead": "U1", "comms": None, "tech": None, "scribe": None},
        next_update_due=NOW + timedelta(hours=1),
        next_statuses=("identified", "monitoring"),
    )
    return replace(base, **changes)


def biggest_card() -> IncidentCard:
    """Every field at its maximum, with escaping that grows the text five-fold."""
    return card(
        title="T" * 150,
        description="&" * 3000,
        impact_text="<" * 3000,
        customer_impact=True,
        affected_customers=tuple(f"Customer {i} & Co" for i in range(1000)),
        roles=dict(ALL_ROLES),
    )


def sdk_round_trip(blocks: Blocks) -> None:
    """slack_sdk parses and re-serialises each block, raising on any limit it knows."""
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None
        assert parsed.to_dict()["type"] == block["type"]


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, list):
        for item in node:
            yield from walk(item)
    elif isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)


def assert_within_limits(blocks: Blocks) -> None:
    assert len(blocks) <= 50
    assert validate_blocks(blocks) == []
    sdk_round_trip(blocks)
    for block in blocks:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "section":
            assert len(block.get("text", {}).get("text", "")) <= 3000
            assert all(len(f["text"]) <= 2000 for f in block.get("fields", []))
    for node in walk(blocks):
        for key in ("block_id", "action_id"):
            assert len(node.get(key, "")) <= 255
    ids = action_ids(blocks)
    assert len(ids) == len(set(ids))


def test_every_builder_round_trips_through_slack_sdk() -> None:
    cards = [card(), biggest_card(), card(title=SNEAKY_TITLE, channel_id=None, roles={})]
    for one in cards:
        for blocks in (incident_header(one), announcement_blocks(one)):
            assert validate_blocks(blocks) == []
            sdk_round_trip(blocks)
    for blocks in (
        help_blocks(COMMAND, help_lines(make_settings("http://127.0.0.1:9/api/"))),
        incident_list_blocks(cards, total=3),
        incident_list_blocks([], total=0),
    ):
        assert validate_blocks(blocks) == []
        sdk_round_trip(blocks)
    views = [
        declare_modal(severities=("SEV1", "SEV2", "SEV3"), private_metadata='{"c": 1}'),
        error_modal("Can't declare right now", "The incident channel could not be created."),
    ]
    for view in views:
        assert validate_view(view) == []
        assert View(**view).to_dict()["type"] == "modal"


def test_the_biggest_header_stays_within_limits() -> None:
    blocks = incident_header(biggest_card())
    assert_within_limits(blocks)
    shown = json.dumps(blocks)
    assert "and 990 more" in shown and "Customer 9 &amp; Co" in shown
    assert "Customer 10 " not in shown
    assert len(action_ids(blocks)) == 9
    assert "&amp;&amp;" in shown and "&&" not in shown.replace("&amp;", "").replace("&lt;", "")


def test_the_header_is_titled_with_the_number_and_the_title() -> None:
    assert header_title(incident_header(card())) == "🔥 INC-12 · Checkout fails"


def test_the_header_shows_severity_status_and_lead_first() -> None:
    fields = header_fields(incident_header(card()))
    assert fields[:3] == ["*Severity*\nSEV2", "*Status*\nInvestigating", "*Incident lead*\n<@U1>"]


def test_an_unassigned_comms_role_says_it_falls_back_to_the_lead() -> None:
    fields = header_fields(incident_header(card()))
    assert fields[3] == "*Customer comms*\n_unassigned — falls back to the lead_"


def test_other_unassigned_roles_say_so() -> None:
    fields = header_fields(incident_header(card()))
    assert "*Tech lead*\n_unassigned_" in fields and "*Scribe*\n_unassigned_" in fields


def test_a_header_without_customers_or_description_says_none_are_listed() -> None:
    shown = json.dumps(incident_header(card()), ensure_ascii=False)
    assert "none listed yet" in shown and "What is broken" not in shown


def test_the_header_says_who_declared_it_and_when_in_local_time() -> None:
    assert any(
        t.startswith("Declared by <@U1> · <!date^") for t in context_texts(incident_header(card()))
    )


def test_the_header_has_a_row_of_role_pickers_and_a_row_of_state_menus() -> None:
    assert action_rows(incident_header(card())) == ["incident:12:roles", "incident:12:state"]


def test_the_status_menu_offers_the_active_statuses_with_the_current_one_chosen() -> None:
    status = element(incident_header(card()), ids.STATUS_SELECT)
    assert [o["value"] for o in status["options"]] == ["investigating", "identified", "monitoring"]
    assert status["initial_option"]["value"] == "investigating"


def test_the_severity_menu_shows_the_current_severity() -> None:
    blocks = incident_header(card())
    assert element(blocks, ids.SEVERITY_SELECT)["initial_option"]["value"] == "SEV2"


def test_the_header_notification_text_names_number_severity_status_and_title() -> None:
    assert incident_header_text(card()) == "INC-12 · SEV2 · Investigating · Checkout fails"


def test_role_pickers_show_the_current_holders() -> None:
    blocks = incident_header(card(roles=dict(ALL_ROLES)))
    for role in ROLES:
        assert element(blocks, ids.role_select(role))["initial_user"] == ALL_ROLES[role]
    assert "falls back" not in json.dumps(blocks)
    empty = incident_header(card(roles={}))
    assert all("initial_user" not in element(empty, ids.role_select(r)) for r in ROLES)


def test_a_resolved_header_offers_the_checklist_and_the_final_update_beside_the_roles() -> None:
    resolved = incident_header(card(status="resolved", next_statuses=()))
    assert set(action_ids(resolved)) - {ids.role_select(r) for r in ROLES} == {
        ids.SHOW_CHECKLIST,
        ids.POST_FINAL_UPDATE,
    }


def test_a_closed_header_offers_only_the_role_pickers() -> None:
    closed = incident_header(card(status="closed", next_statuses=()))
    assert action_rows(closed) == ["incident:12:roles"]


@pytest.mark.parametrize("status", ["resolved", "closed"])
def test_a_finished_header_offers_no_status_menu_and_no_close(status: str) -> None:
    blocks = incident_header(card(status=status, next_statuses=()))
    assert ids.STATUS_SELECT not in action_ids(blocks)
    assert ids.CLOSE_INCIDENT not in action_ids(blocks)
    assert_within_limits(blocks)


def test_a_severity_no_longer_configured_is_still_shown() -> None:
    blocks = incident_header(card(severity="SEV0", severities=("SEV1", "SEV2")))
    select = element(blocks, ids.SEVERITY_SELECT)
    assert [o["value"] for o in select["options"]] == ["SEV0", "SEV1", "SEV2"]
    assert select["initial_option"]["value"] == "SEV0"
    assert_within_limits(blocks)


def customer_picture() -> list[str]:
    """The header's texts for an incident with customer impact, customers and a description."""
    blocks = incident_header(
        card(
            customer_impact=True,
            impact_text="Payments fail",
            affected_customers=("Acme", "Globex"),
            next_update_due=None,
            description="Card auth times out",
        )
    )
    return mrkdwn_texts(blocks)


def test_the_header_shows_the_customer_impact_in_words() -> None:
    assert "*Customer impact: Yes*\nPayments fail" in customer_picture()


def test_the_header_counts_and_names_the_affected_customers() -> None:
    assert "*Affected customers (2)*\nAcme, Globex" in customer_picture()


def test_the_header_shows_a_dash_when_no_customer_update_is_due() -> None:
    assert "*Next customer update due:* —" in customer_picture()


def test_the_header_shows_what_is_broken() -> None:
    assert "*What is broken?*\nCard auth times out" in customer_picture()


def test_the_header_says_when_customer_impact_is_not_known() -> None:
    assert "*Customer impact: No / not known yet*" in mrkdwn_texts(incident_header(card()))


def test_user_text_cannot_mention_or_link() -> None:
    sneaky = card(
        title=SNEAKY_TITLE,
        description="<@U999> & <https://evil|x>",
        affected_customers=("<!here>",),
        customer_impact=True,
        impact_text="<#C2>",
    )
    blocks = incident_header(sneaky) + announcement_blocks(sneaky)
    blocks += incident_list_blocks([sneaky], total=1)
    texts = [
        *mrkdwn_texts(blocks),
        incident_header_text(sneaky),
        channel_topic(sneaky),
        announcement_text(sneaky),
    ]
    shown = " ".join(texts)
    for raw in ("<!channel>", "<@U999>", "<https://evil", "<!here>", "<#C2>", "ping <@U1>"):
        assert raw not in shown
    assert "&lt;!channel&gt; ping &lt;@U1&gt; &amp; &lt;https://evil.example|click&gt;" in shown
    assert "&lt;@U999&gt; &amp;" in shown


def test_clean_titles_are_left_alone() -> None:
    clean = card(title="Checkout fails for EU cards (50%)")
    assert incident_header_text(clean).endswith("Checkout fails for EU cards (50%)")
    assert channel_topic(clean).endswith("INC-12 Checkout fails for EU cards (50%)")
    assert "Checkout fails for EU cards (50%)" in announcement_text(clean)


def test_topic_never_exceeds_slacks_250() -> None:
    topic = channel_topic(card(title="x" * 150, severity="SEV1"))
    assert topic.startswith("SEV1 · Investigating · Lead <@U1> · INC-12 x")
    assert len(topic) <= 250
    for title in ("y" * 400, "&" * 400, SNEAKY_TITLE * 10):
        long_topic = channel_topic(card(title=title))
        assert len(long_topic) <= 250 and long_topic.endswith("…")
    assert channel_topic(card(roles={})).startswith("SEV2 · Investigating · Lead _unassigned_")


def test_declare_modal_is_valid_and_uses_its_field_ids() -> None:
    view = declare_modal(
        severities=("SEV1", "SEV2", "SEV3"),
        default_severity="SEV3",
        private_metadata="{}",
        initial_title="t" * 200,
    )
    assert validate_view(view) == []
    View(**view).to_dict()
    assert view["callback_id"] == DECLARE_CALLBACK_ID == "declare_incident"
    assert [view[k]["text"] for k in ("title", "submit", "close")] == [
        "Declare incident",
        "Declare",
        "Cancel",
    ]
    f = DeclareFields
    inputs = {b["block_id"]: b for b in view["blocks"]}
    assert {k: b["element"]["action_id"] for k, b in inputs.items()} == {
        f.TITLE_BLOCK: f.TITLE_ACTION,
        f.SEVERITY_BLOCK: f.SEVERITY_ACTION,
        f.DESCRIPTION_BLOCK: f.DESCRIPTION_ACTION,
        f.IMPACT_BLOCK: f.IMPACT_ACTION,
        f.IMPACT_TEXT_BLOCK: f.IMPACT_TEXT_ACTION,
        f.CUSTOMERS_BLOCK: f.CUSTOMERS_ACTION,
    }
    title = inputs[f.TITLE_BLOCK]
    assert title["optional"] is False and title["element"]["max_length"] == 150
    assert len(title["element"]["initial_value"]) == 150
    assert inputs[f.SEVERITY_BLOCK]["element"]["initial_option"]["value"] == "SEV3"
    impact = inputs[f.IMPACT_BLOCK]["element"]
    assert impact["type"] == "radio_buttons" and impact["initial_option"]["value"] == f.IMPACT_NO
    assert {o["value"] for o in impact["options"]} == {f.IMPACT_YES, f.IMPACT_NO}
    customers = inputs[f.CUSTOMERS_BLOCK]
    assert customers["optional"] is True and customers["element"]["multiline"] is True
    assert "One per line or comma-separated" in customers["hint"]["text"]
    assert inputs[f.DESCRIPTION_BLOCK]["label"]["text"] == "What is broken?"


def test_declare_modal_without_the_default_severity_has_no_initial_option() -> None:
    view = declare_modal(severities=("P1", "P2"), default_severity="SEV2")
    severity = view_input(view, DeclareFields.SEVERITY_BLOCK)
    assert "initial_option" not in severity["element"]
    assert validate_view(view) == []


def test_error_modal_keeps_its_title_short() -> None:
    view = error_modal("A title far longer than Slack allows", "Try again in a minute.")
    assert len(view["title"]["text"]) <= 24 and "submit" not in view
    assert mrkdwn_texts(view["blocks"]) == ["Try again in a minute."]
    View(**view).to_dict()


@pytest.mark.parametrize("title", ["Checkout fails", "&" * 150])
def test_long_lists_stay_within_a_message(title: str) -> None:
    cards = [card(number=i, channel_id=f"C{i}", title=title) for i in range(200)]
    blocks = incident_list_blocks(cards, total=230)
    assert_within_limits(blocks)
    assert len(blocks) <= 45
    lines = [
        line for b in blocks if b["type"] == "section" for line in b["text"]["text"].split("\n")
    ]
    assert lines[0].startswith("<#C0> *INC-0* · SEV2 · Investigating · ")
    assert header_title(blocks) == "Open incidents (230)"
    more = context_texts(blocks)[-1]
    assert more == f"and {230 - len(lines)} more not shown here"


def test_list_says_how_many_more_the_caller_did_not_load() -> None:
    cards = [card(number=i, channel_id=f"C{i}") for i in range(40)]
    blocks = incident_list_blocks(cards, total=200)
    assert "and 160 more" in json.dumps(blocks)
    assert "more" not in json.dumps(incident_list_blocks(cards, total=40))


def test_empty_list_is_friendly() -> None:
    blocks = incident_list_blocks([], total=0)
    assert len(blocks) == 1 and "No open incidents right now" in section_texts(blocks)[0]


def test_the_announcement_names_title_severity_lead_channel_and_customer_impact() -> None:
    text = announcement_text(card(roles=dict(ALL_ROLES), customer_impact=True))
    assert text == (
        "INC-12 declared: Checkout fails — SEV2, lead <@U1>. Join <#C1>. Customers are affected."
    )


def test_the_announcement_says_nothing_of_customers_when_none_are_affected() -> None:
    assert "affected" not in announcement_text(card())


def test_the_announcement_shows_the_impact_text_escaped() -> None:
    blocks = announcement_blocks(card(customer_impact=True, impact_text="No <b>logins</b>"))
    assert "*Customer impact:* No &lt;b&gt;logins&lt;/b&gt;" in mrkdwn_texts(blocks)


def test_the_declared_reply_links_the_channel_and_tells_the_reporter_they_lead() -> None:
    reply = declared_reply_text(card())
    assert reply.startswith("INC-12 is open in <#C1>. You are the lead")


def test_the_declared_reply_links_no_channel_before_there_is_one() -> None:
    assert "<#" not in declared_reply_text(card(channel_id=None))


def test_a_handover_names_both_holders_and_who_handed_over() -> None:
    text = role_assigned_text("comms", "U2", "U1", previous="U3")
    assert text.startswith("Handover: Customer comms passes from <@U3> to <@U2> (by <@U1>).")


def test_a_new_role_holder_is_told_what_the_role_does() -> None:
    text = role_assigned_text("comms", "U2", "U1", previous="U3")
    assert "you own customer updates" in text


def test_a_first_holder_is_named_with_who_gave_them_the_role() -> None:
    first = role_assigned_text("tech", "U2", "U1")
    assert first == "<@U1> made <@U2> Tech lead. <@U2>, you lead the investigation and the fix."


def test_someone_taking_a_role_themselves_is_told_they_took_it() -> None:
    assert role_assigned_text("scribe", "U2", "U2") == (
        "<@U2> took the Scribe role: you keep the timeline and the notes."
    )


def test_giving_a_role_to_its_holder_says_nothing_changed() -> None:
    assert "nothing changed" in role_assigned_text("lead", "U2", "U1", previous="U2")


def test_a_status_change_names_who_moved_it_from_what_to_what() -> None:
    assert status_changed_text("investigating", "identified", "U1") == (
        "<@U1> moved the status from *Investigating* to *Identified*."
    )


def test_a_severity_change_names_who_changed_it_from_what_to_what() -> None:
    severity = severity_changed_text("SEV2", "SEV1", "U1")
    assert severity.startswith("<@U1> changed the severity from *SEV2* to *SEV1*")


def test_a_form_error_is_cut_to_what_a_form_shows_under_a_field() -> None:
    assert form_error("x" * 400) == "x" * FORM_ERROR_MAX
    assert form_error("Give the root cause.") == "Give the root cause."
