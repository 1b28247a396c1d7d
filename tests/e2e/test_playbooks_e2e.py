"""Playbooks in Slack, end to end: declaring with one, applying one, ticking its steps, the
drafts in the incident's language, the close form's compensation and customer languages."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from messages import refusals
from messages.ids import CloseFields, DeclareFields, UpdateFields, playbook_step
from storage.models import Incident
from tests.support.blockkit_readers import composer_draft, section_texts, view_input
from tests.support.customer_helpers import close_values, stored_customers
from tests.support.harness import ALICE, BOB, TEAM, Harness
from tests.support.helpers import (
    created_channel,
    ephemeral_texts,
    eventually,
    said,
    team_joins,
)

CARD = "Card payments failing"
CARD_STEPS = 5


async def incident(h: Harness, number: int = 1) -> Incident:
    found = await h.store.by_number(TEAM, number)
    assert found is not None
    return found


async def declare_through_the_form(h: Harness, playbook: str | None) -> str:
    """Alice declares "Checkout broken" (SEV3 picked) with ``playbook`` picked in the form."""
    before = len(h.double.ok_calls_to("views.open"))
    await h.driver.command("/incident", "", user_id=ALICE, channel_id=h.general)
    opened = await h.double.wait_for(lambda: h.double.ok_calls_to("views.open")[before:])
    view = h.double.views[opened[0].response["view"]["id"]]
    f = DeclareFields
    values: dict[str, dict[str, Any]] = {
        f.TITLE_BLOCK: {f.TITLE_ACTION: "Checkout broken"},
        f.SEVERITY_BLOCK: {f.SEVERITY_ACTION: "SEV3"},
    }
    if playbook is not None:
        values[f.PLAYBOOK_BLOCK] = {f.PLAYBOOK_ACTION: playbook}
    await h.driver.submit_view(view["id"], values, user_id=ALICE)
    await h.double.wait_for(lambda: h.double.ok_calls_to("pins.add"))
    channel = str(created_channel(h)["id"])
    if playbook is not None:
        await with_checklist(h, channel)
    return channel


async def declare(h: Harness, title: str = "Checkout broken") -> str:
    await h.driver.command("/incident", f"declare {title}", user_id=ALICE, channel_id=h.general)
    await h.double.wait_for(lambda: h.double.ok_calls_to("pins.add"))
    return str(created_channel(h)["id"])


def checklist(h: Harness, channel: str) -> dict[str, Any]:
    found = [m for m in h.double.messages(channel) if "the steps of the playbook" in m["text"]]
    assert len(found) == 1, f"expected one playbook checklist, found {len(found)}"
    return found[0]


async def with_checklist(h: Harness, channel: str) -> dict[str, Any]:
    await h.double.wait_for(
        lambda: [m for m in h.double.messages(channel) if "the steps of the playbook" in m["text"]]
    )
    return checklist(h, channel)


def done_buttons(message: dict[str, Any]) -> list[str]:
    return [
        b["accessory"]["action_id"]
        for b in message["blocks"]
        if isinstance(b.get("accessory"), dict)
        and b["accessory"]["action_id"].startswith("playbook_step")
    ]


async def apply(h: Harness, channel: str, name: str, user: str = ALICE) -> Any:
    return await h.driver.command("/incident", f"playbook {name}", user_id=user, channel_id=channel)


# -- declaring with a playbook -----------------------------------------------------------------


async def test_the_declare_form_offers_every_playbook_and_none_by_default(harness: Harness) -> None:
    h = harness
    await h.driver.command("/incident", "", user_id=ALICE, channel_id=h.general)
    opened = await h.double.wait_for(lambda: h.double.ok_calls_to("views.open"))
    menu = view_input(
        h.double.views[opened[0].response["view"]["id"]], DeclareFields.PLAYBOOK_BLOCK
    )
    offered = [o["text"]["text"] for o in menu["element"]["options"]]
    assert offered[0] == "No playbook" and CARD in offered and len(offered) == 6
    assert menu["optional"] is True and "initial_option" not in menu["element"]


async def test_declaring_with_a_playbook_takes_its_severity(harness: Harness) -> None:
    h = harness
    await declare_through_the_form(h, CARD)
    found = await incident(h)
    assert (found.playbook, found.severity) == (CARD, "SEV1")


async def test_the_announcement_of_a_declare_with_a_playbook_shows_its_severity(
    harness: Harness,
) -> None:
    h = harness
    await declare_through_the_form(h, CARD)
    announced = await h.double.wait_for(lambda: h.double.messages(h.broadcast))
    shown = json.dumps(announced[0]["blocks"], ensure_ascii=False)
    assert "SEV1" in shown and "SEV3" not in shown


async def test_declaring_with_a_playbook_puts_the_next_update_one_playbook_cadence_away(
    harness: Harness,
) -> None:
    h = harness
    await declare_through_the_form(h, CARD)
    found = await incident(h)
    assert found.next_update_due == found.created_at + timedelta(minutes=20)


async def test_declaring_with_a_playbook_posts_its_steps_to_tick_in_the_channel(
    harness: Harness,
) -> None:
    h = harness
    channel = await declare_through_the_form(h, CARD)
    message = await with_checklist(h, channel)
    assert done_buttons(message) == [playbook_step(i) for i in range(CARD_STEPS)]
    assert "Page the payments on-call engineer" in json.dumps(message["blocks"])


async def test_declaring_without_a_playbook_keeps_the_picked_severity(harness: Harness) -> None:
    h = harness
    channel = await declare_through_the_form(h, None)
    found = await incident(h)
    assert (found.playbook, found.severity, found.cadence_seconds) == (None, "SEV3", None)
    assert not [m for m in h.double.messages(channel) if "steps of the playbook" in m["text"]]


# -- /incident playbook <name> -----------------------------------------------------------------


async def test_a_playbook_is_applied_to_a_running_incident_by_its_name_in_any_case(
    harness: Harness,
) -> None:
    h = harness
    channel = await declare(h)
    await apply(h, channel, "card PAYMENTS failing")
    await with_checklist(h, channel)
    found = await incident(h)
    assert (found.playbook, found.severity, found.cadence_seconds) == (CARD, "SEV1", 20 * 60)


async def test_applying_a_playbook_is_on_the_timeline(harness: Harness) -> None:
    h = harness
    channel = await declare(h)
    await apply(h, channel, CARD)
    await with_checklist(h, channel)
    events = await h.store.timeline((await incident(h)).id)
    assert ("playbook_applied", ALICE, CARD) in [(e.kind, e.actor_id, e.detail) for e in events]


async def test_an_unknown_playbook_is_refused_with_the_names_there_are(harness: Harness) -> None:
    h = harness
    channel = await declare(h)
    reply = await apply(h, channel, "nope")
    text = await said(h, reply)
    assert "There is no playbook “nope”" in text and CARD in text
    assert (await incident(h)).playbook is None


async def test_a_playbook_name_followed_by_reviewed_is_a_review_not_an_application(
    harness: Harness,
) -> None:
    h = harness
    channel = await declare(h)
    reply = await apply(h, channel, f"{CARD} reviewed")
    owner = h.runtime.services.playbooks.catalogue.find(CARD).owner
    assert refusals.not_the_playbook_owner(CARD, owner) in await said(h, reply)
    assert (await incident(h)).playbook is None


# -- ticking steps -----------------------------------------------------------------------------


async def tick(h: Harness, message: dict[str, Any], step: int, user: str = ALICE) -> Any:
    return await h.driver.click(message, playbook_step(step), user_id=user)


async def step_events(h: Harness) -> list[tuple[str, str]]:
    """Who ticked which step, from the timeline, once there is a tick on it."""
    found = await incident(h)
    ticks: list[tuple[str, str]] = []

    async def ticked() -> bool:
        events = await h.store.timeline(found.id)
        ticks[:] = [(e.actor_id, e.detail) for e in events if e.kind == "playbook_step_done"]
        return bool(ticks)

    await eventually(ticked)
    return ticks


async def test_ticking_a_step_records_who_did_it_on_the_timeline(harness: Harness) -> None:
    h = harness
    channel = await declare(h)
    team_joins(h, channel)
    await apply(h, channel, CARD)
    await tick(h, await with_checklist(h, channel), 1, user=BOB)
    assert await step_events(h) == [(BOB, "Freeze deploys to checkout and payments")]


async def test_ticking_a_step_shows_who_did_it_on_the_checklist(harness: Harness) -> None:
    h = harness
    channel = await declare(h)
    team_joins(h, channel)
    await apply(h, channel, CARD)
    await tick(h, await with_checklist(h, channel), 1, user=BOB)
    await h.double.wait_for(lambda: len(done_buttons(checklist(h, channel))) == CARD_STEPS - 1)
    shown = json.dumps(checklist(h, channel)["blocks"], ensure_ascii=False)
    assert f"<@{BOB}>" in shown and "1 of 5 steps done" in shown


async def test_a_second_tick_of_a_step_is_told_who_ticked_it(harness: Harness) -> None:
    h = harness
    channel = await declare(h)
    team_joins(h, channel)
    await apply(h, channel, CARD)
    stale = await with_checklist(h, channel)
    await tick(h, stale, 0, user=BOB)
    await step_events(h)
    second = await tick(h, stale, 0, user=ALICE)
    texts = await h.double.wait_for(lambda: ephemeral_texts(h, second.response_url))
    assert "already ticked off by" in texts[0] and f"<@{BOB}>" in texts[0]
    assert await step_events(h) == [(BOB, "Page the payments on-call engineer")]


# -- drafts in the incident's language -----------------------------------------------------------


async def open_composer(h: Harness, channel: str) -> dict[str, Any]:
    before = len(h.double.ok_calls_to("views.open"))
    await h.driver.command("/incident", "update", user_id=ALICE, channel_id=channel)
    opened = await h.double.wait_for(lambda: h.double.ok_calls_to("views.open")[before:])
    return h.double.views[opened[0].response["view"]["id"]]


async def test_the_composer_opens_with_the_playbook_template_of_the_current_status(
    harness: Harness,
) -> None:
    h = harness
    channel = await declare(h)
    await apply(h, channel, CARD)
    await with_checklist(h, channel)
    found = await incident(h)
    draft = composer_draft(await open_composer(h, channel))
    started = f"{found.created_at:%H:%M} UTC"
    assert draft.startswith(f"We're sorry: since {started}, some of you cannot take card")


async def test_after_language_ru_the_composer_opens_with_the_russian_template(
    harness: Harness,
) -> None:
    h = harness
    channel = await declare(h)
    await apply(h, channel, CARD)
    await with_checklist(h, channel)
    await h.driver.command("/incident", "language ru", user_id=ALICE, channel_id=channel)
    await eventually(lambda: _language_is(h, "ru"))
    draft = composer_draft(await open_composer(h, channel))
    assert draft.startswith("Простите нас: с ") and " UTC" in draft  # noqa: RUF001


async def test_an_update_in_the_incidents_language_is_tone_checked_in_that_language(
    harness: Harness,
) -> None:
    h = harness
    channel = await declare(h)
    await apply(h, channel, CARD)
    await with_checklist(h, channel)
    await h.driver.command("/incident", "language ru", user_id=ALICE, channel_id=channel)
    await eventually(lambda: _language_is(h, "ru"))
    view = await open_composer(h, channel)
    f = UpdateFields
    values = {
        f.TEXT_BLOCK: {f.TEXT_ACTION: composer_draft(view)},
        f.PUBLIC_TITLE_BLOCK: {f.PUBLIC_TITLE_ACTION: "Не проходят платежи картой"},  # noqa: RUF001
    }
    reply = await h.driver.submit_view(view["id"], values, user_id=ALICE)
    assert reply.status == 200 and not reply.text, "the Russian draft was held for review"
    await h.double.wait_for(lambda: h.double.messages(h.customers))


async def _language_is(h: Harness, language: str) -> bool:
    return (await incident(h)).language == language


async def test_an_unknown_language_is_refused_with_the_choices(harness: Harness) -> None:
    h = harness
    channel = await declare(h)
    reply = await h.driver.command("/incident", "language de", user_id=ALICE, channel_id=channel)
    assert refusals.not_a_language("de", ("en", "ru", "cs", "sr")) in await said(h, reply)
    assert (await incident(h)).language == "en"


# -- the close and the customers -----------------------------------------------------------------


async def test_the_close_form_proposes_the_playbook_compensation(harness: Harness) -> None:
    h = harness
    channel = await declare(h)
    await apply(h, channel, CARD)
    await with_checklist(h, channel)
    before = len(h.double.ok_calls_to("views.open"))
    await h.driver.command("/incident", "close", user_id=ALICE, channel_id=channel)
    opened = await h.double.wait_for(lambda: h.double.ok_calls_to("views.open")[before:])
    amends = view_input(h.double.views[opened[0].response["view"]["id"]], CloseFields.AMENDS)
    assert amends["element"]["initial_value"].startswith("One month of service credit")


async def test_a_customer_added_with_a_language_code_keeps_the_name_and_the_language(
    harness: Harness,
) -> None:
    h = harness
    channel = await declare(h)
    await h.driver.command(
        "/incident", "customers add Acme (cs), Globex", user_id=ALICE, channel_id=channel
    )

    async def added() -> bool:
        return len(await stored_customers(h)) == 2

    await eventually(added)
    customers = await stored_customers(h)
    assert [(c.name, c.language) for c in customers] == [("Acme", "cs"), ("Globex", None)]


async def test_a_customer_with_an_unknown_language_code_is_refused(harness: Harness) -> None:
    h = harness
    channel = await declare(h)
    reply = await h.driver.command(
        "/incident", "customers add Acme (xx)", user_id=ALICE, channel_id=channel
    )
    assert refusals.not_a_language("xx", ("en", "ru", "cs", "sr")) in await said(h, reply)
    assert await stored_customers(h) == []


async def test_the_customer_list_shows_a_customers_language(harness: Harness) -> None:
    h = harness
    channel = await declare(h)
    await h.driver.command(
        "/incident", "customers add Acme (cs)", user_id=ALICE, channel_id=channel
    )
    await eventually(lambda: _has_customers(h))
    reply = await h.driver.command("/incident", "customers", user_id=ALICE, channel_id=channel)
    texts = await h.double.wait_for(lambda: ephemeral_texts(h, reply.response_url))
    assert "Acme* (cs)" in texts[-1]


async def _has_customers(h: Harness) -> bool:
    return bool(await stored_customers(h))


async def resolve_with_customers(h: Harness, customers: str) -> list[str]:
    """Declare, apply the card playbook, add ``customers``, resolve; the follow-up checklist's
    customer lines."""
    channel = await declare(h)
    await apply(h, channel, CARD)
    await with_checklist(h, channel)
    await h.driver.command(
        "/incident", f"customers add {customers}", user_id=ALICE, channel_id=channel
    )
    await eventually(lambda: _has_customers(h))
    before = len(h.double.ok_calls_to("views.open"))
    await h.driver.command("/incident", "close", user_id=ALICE, channel_id=channel)
    opened = await h.double.wait_for(lambda: h.double.ok_calls_to("views.open")[before:])
    await h.driver.submit_view(opened[0].response["view"]["id"], close_values(), user_id=ALICE)
    posted = await h.double.wait_for(
        lambda: [m for m in h.double.messages(channel) if "customers followed up" in m["text"]]
    )
    return [t for t in section_texts(posted[0]) if "What to say" in t]


async def test_the_follow_up_checklist_shows_the_template_in_each_customers_language(
    harness: Harness,
) -> None:
    lines = await resolve_with_customers(harness, "Acme (cs), Globex")
    assert len(lines) == 2
    assert lines[0].startswith("*Acme* (cs)") and "Dobrý den, Acme" in lines[0]
    assert lines[1].startswith("*Globex*") and "Hello Globex" in lines[1]
