"""Every id a builder puts on Slack reaches a listener, and every listener is reachable.

The builders (``messages/``) and the listeners (``handlers/``) both name the ids in
``messages/ids.py``. These tests build every interactive message and view, then ask the
app Amends really registers which listener would take each control: a control nobody
takes, or a listener no control reaches, fails here instead of in a user's click.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import pytest
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime.app import build_app
from bot.runtime.services import Services
from messages import ids
from messages.checklists import CONTACT, FOLLOW_UP, ChecklistPage, checklist_blocks
from messages.closing import (
    ClosureView,
    add_customers_modal,
    close_modal,
    follow_up_reminder_blocks,
    resolved_blocks,
)
from messages.directory import CustomerCard, directory_modal
from messages.header import incident_header
from messages.home import HomeLists, HomeRow, PlaybookRow, home_view
from messages.modals import declare_modal
from messages.model import CustomerRow, IncidentCard
from messages.playbooks import StepRow, steps_blocks
from messages.updates import composer_modal, escalation_blocks, reminder_blocks
from tests.support.harness import make_settings

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
Body = dict[str, Any]


class NeverCalled:
    """Stands in for the services: registering listeners must not use them."""

    def __getattr__(self, name: str) -> NeverCalled:
        return self


def incident(**changes: Any) -> IncidentCard:
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
        severities=("SEV1", "SEV2", "SEV3"),
    )
    return replace(base, **changes)


def page(kind: str, rows: tuple[CustomerRow, ...]) -> ChecklistPage:
    return ChecklistPage(
        kind=kind, card=incident(), rows=rows, page=1, pages=3, total=30, done=0, editable=True
    )


def every_message() -> list[list[dict[str, Any]]]:
    """Every message with controls, in every state that adds a control."""
    closure = ClosureView("cause", "fix", "impact", "credit", "tests", "U2", date(2026, 12, 1))
    return [
        incident_header(incident()),
        incident_header(incident(status="resolved", follow_up_owner="U2")),
        checklist_blocks(page(CONTACT, (CustomerRow(7, "Acme", "not_contacted"),))),
        checklist_blocks(page(FOLLOW_UP, (CustomerRow(8, "Globex", "contacted"),))),
        reminder_blocks(incident(), "U1", "12:3", last_update_at=None),
        escalation_blocks(incident(), "U2", "U1", "12:3", overdue_minutes=5),
        resolved_blocks(incident(status="resolved"), closure, "U1"),
        follow_up_reminder_blocks(incident(status="resolved"), "U2", 3, 5, overdue=False),
        steps_blocks(incident(), "Card payments failing", (StepRow(0, "Freeze deploys"),)),
        home_blocks(),
    ]


def home_blocks() -> list[dict[str, Any]]:
    """The App Home with one item in every list."""
    row = HomeRow(12, "Checkout fails", "C1", roles=("lead",), status="investigating", due=NOW)
    lists = HomeLists(
        incidents=[row],
        incidents_total=1,
        owed=[row],
        owed_total=1,
        follow_ups=[replace(row, waiting=2, follow_up_due=date(2026, 12, 1))],
        follow_ups_total=1,
        playbooks=[PlaybookRow("Card payments failing", "cards.yaml", date(2026, 1, 1))],
        now=NOW,
    )
    return cast(list[dict[str, Any]], home_view(lists)["blocks"])


def every_view() -> list[dict[str, Any]]:
    return [
        declare_modal(severities=("SEV1", "SEV2", "SEV3"), playbooks=("Card payments failing",)),
        composer_modal(incident(), "We're sorry", "{}"),
        close_modal(incident(), "U2", date(2026, 12, 1), "{}"),
        add_customers_modal(incident(), "{}"),
        directory_modal(CustomerCard("Acme", "premium", "en", "", (), ""), ("premium",), "{}"),
    ]


def controls() -> Iterator[tuple[str, dict[str, Any]]]:
    """(block id, element) for every interactive element of every message."""
    for blocks in every_message():
        for block in blocks:
            for element in [*block.get("elements", []), block.get("accessory")]:
                if isinstance(element, dict) and "action_id" in element:
                    yield str(block.get("block_id", "")), element


def view_controls() -> Iterator[tuple[str, dict[str, Any]]]:
    """(block id, element) for every view input that sends block_actions as it is used
    (``dispatch_action``), not only with the submitted view."""
    for view in every_view():
        for block in view["blocks"]:
            if block.get("type") == "input" and block.get("dispatch_action"):
                yield str(block["block_id"]), block["element"]


def click(block_id: str, element: dict[str, Any]) -> Body:
    action = {"action_id": element["action_id"], "block_id": block_id, "type": element["type"]}
    return {"type": "block_actions", "actions": [action], "user": {"id": "U1"}}


def submit(view: dict[str, Any]) -> Body:
    return {"type": "view_submission", "view": {**view, "id": "V1"}, "user": {"id": "U1"}}


def entry_points() -> list[Body]:
    """What reaches the app without a control Amends built: the command and two events."""
    event = {"type": "event_callback", "team_id": "T1", "event_id": "Ev1"}
    return [
        {"command": "/incident", "text": "", "user_id": "U1", "team_id": "T1"},
        {**event, "event": {"type": "app_uninstalled"}},
        {**event, "event": {"type": "tokens_revoked", "tokens": {}}},
        {**event, "event": {"type": "app_home_opened", "user": "U1", "tab": "home"}},
    ]


@pytest.fixture
def app() -> AsyncApp:
    settings = make_settings("http://127.0.0.1:9/api/")
    client = AsyncWebClient(token="xoxb-test", base_url=settings.slack_api_url)
    return build_app(settings, cast(Services, NeverCalled()), client)


async def takers(app: AsyncApp, body: Body) -> list[object]:
    request = AsyncBoltRequest(body=body, mode="socket_mode")
    response = BoltResponse(status=200)
    return [
        listener
        for listener in app._async_listeners
        if await listener.async_matches(req=request, resp=response)
    ]


async def test_every_control_a_builder_makes_is_taken_by_exactly_one_listener(
    app: AsyncApp,
) -> None:
    for block_id, element in [*controls(), *view_controls()]:
        found = await takers(app, click(block_id, element))
        assert len(found) == 1, element["action_id"]


async def test_every_view_a_builder_makes_is_taken_by_exactly_one_listener(
    app: AsyncApp,
) -> None:
    for view in every_view():
        assert len(await takers(app, submit(view))) == 1, view["callback_id"]


async def test_every_listener_is_reached_by_some_control_view_or_entry_point(
    app: AsyncApp,
) -> None:
    bodies = [
        *(click(block_id, element) for block_id, element in [*controls(), *view_controls()]),
        *(submit(view) for view in every_view()),
        *entry_points(),
    ]
    reached = [listener for body in bodies for listener in await takers(app, body)]
    unreached = [listener for listener in app._async_listeners if listener not in reached]
    assert unreached == []


def test_every_declared_id_is_put_on_slack_by_some_builder() -> None:
    made = {str(element["action_id"]) for _, element in [*controls(), *view_controls()]}
    made |= {str(view["callback_id"]) for view in every_view()}
    for name, value in vars(ids).items():
        if isinstance(value, str) and name.isupper():
            assert value in made, name
        if isinstance(value, re.Pattern) and name != "INCIDENT_BLOCK":
            assert any(value.match(made_id) for made_id in made), name


def test_every_control_sits_in_a_block_that_names_its_incident() -> None:
    """Except the Home's playbook buttons: a playbook belongs to no incident."""
    for block_id, element in controls():
        if ids.HOME_PLAYBOOK_REVIEW.match(element["action_id"]):
            continue
        match = ids.INCIDENT_BLOCK.match(block_id)
        assert match and match.group("number") == "12", element["action_id"]
