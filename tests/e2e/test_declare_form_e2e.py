"""The declare form suggests a playbook when Enter is pressed in its title, keeps what the
person typed and picked, and keeps a customer's language typed as ``Acme (cs)``."""

from __future__ import annotations

from typing import Any

from messages import refusals
from messages.ids import DeclareFields
from messages.limits import form_error
from storage.models import Incident
from tests.e2e.test_playbooks_e2e import CARD, CARD_STEPS, done_buttons, with_checklist
from tests.support.blockkit_readers import context_texts, view_input
from tests.support.customer_helpers import stored_customers
from tests.support.harness import ALICE, TEAM, Harness
from tests.support.helpers import created_channel

F = DeclareFields
LOGIN = "Login outage"


async def open_form(h: Harness) -> str:
    """Alice runs a bare ``/incident``; the id of the declare form that opens."""
    before = len(h.double.ok_calls_to("views.open"))
    await h.driver.command("/incident", "", user_id=ALICE, channel_id=h.general)
    opened = await h.double.wait_for(lambda: h.double.ok_calls_to("views.open")[before:])
    return str(opened[0].response["view"]["id"])


async def type_title(
    h: Harness, view_id: str, title: str, values: dict[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Alice types ``title`` and presses Enter; the form once Amends has rendered it again."""
    before = len(h.double.ok_calls_to("views.update"))
    await h.driver.press_enter(view_id, F.TITLE_BLOCK, title, user_id=ALICE, values=values)
    await h.double.wait_for(lambda: h.double.ok_calls_to("views.update")[before:])
    return h.double.views[view_id]


def suggested(view: dict[str, Any]) -> str | None:
    initial = view_input(view, F.PLAYBOOK_BLOCK)["element"].get("initial_option")
    return str(initial["value"]) if initial else None


async def declared(h: Harness, *, with_playbook: bool = False) -> Incident:
    """Incident 1 once declared (and, ``with_playbook``, once its playbook is applied)."""
    await h.double.wait_for(lambda: h.double.ok_calls_to("pins.add"))
    if with_playbook:
        await with_checklist(h, str(created_channel(h)["id"]))
    found = await h.store.by_number(TEAM, 1)
    assert found is not None
    return found


async def test_enter_in_the_title_picks_the_playbook_the_title_suggests(harness: Harness) -> None:
    h = harness
    view = await type_title(h, await open_form(h), "Card payments down")
    assert suggested(view) == CARD
    assert f"Suggested from the title: {CARD}" in context_texts(view)


async def test_a_title_matching_no_playbook_leaves_the_playbook_menu_empty(
    harness: Harness,
) -> None:
    h = harness
    view = await type_title(h, await open_form(h), "Office coffee machine broken")
    assert suggested(view) is None
    assert not [t for t in context_texts(view) if "Suggested" in t]


async def test_a_playbook_the_person_picked_stays_when_they_press_enter(harness: Harness) -> None:
    h = harness
    view_id = await open_form(h)
    picked = {F.PLAYBOOK_BLOCK: {F.PLAYBOOK_ACTION: LOGIN}}
    view = await type_title(h, view_id, "Card payments down", picked)
    assert suggested(view) is None
    await h.driver.submit_view(view_id, {}, user_id=ALICE)
    assert (await declared(h, with_playbook=True)).playbook == LOGIN


async def test_submitting_after_the_suggestion_declares_with_the_playbook_and_posts_its_steps(
    harness: Harness,
) -> None:
    h = harness
    view_id = await open_form(h)
    await type_title(h, view_id, "Card payments down")
    await h.driver.submit_view(view_id, {}, user_id=ALICE)
    incident = await declared(h, with_playbook=True)
    assert (incident.title, incident.playbook) == ("Card payments down", CARD)
    checklist = await with_checklist(h, str(created_channel(h)["id"]))
    assert len(done_buttons(checklist)) == CARD_STEPS


async def test_a_customer_typed_with_a_language_code_in_the_form_keeps_the_language(
    harness: Harness,
) -> None:
    h = harness
    view_id = await open_form(h)
    values = {
        F.TITLE_BLOCK: {F.TITLE_ACTION: "Checkout broken"},
        F.CUSTOMERS_BLOCK: {F.CUSTOMERS_ACTION: "Acme (cs)\nGlobex"},
    }
    await h.driver.submit_view(view_id, values, user_id=ALICE)
    await declared(h)
    customers = await stored_customers(h)
    assert [(c.name, c.language) for c in customers] == [("Acme", "cs"), ("Globex", None)]


async def test_an_unknown_language_code_in_the_form_is_said_in_the_form(harness: Harness) -> None:
    h = harness
    view_id = await open_form(h)
    values = {
        F.TITLE_BLOCK: {F.TITLE_ACTION: "Checkout broken"},
        F.CUSTOMERS_BLOCK: {F.CUSTOMERS_ACTION: "Acme (xx)"},
    }
    reply = await h.driver.submit_view(view_id, values, user_id=ALICE)
    message = refusals.not_a_language("xx", ("en", "ru", "cs", "sr"))
    assert reply.json == {
        "response_action": "errors",
        "errors": {F.CUSTOMERS_BLOCK: form_error(message)},
    }
    assert not h.double.ok_calls_to("conversations.create")
