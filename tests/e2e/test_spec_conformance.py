"""Every call the bot makes in a whole incident is one Slack publishes, with its arguments."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from messages import ids
from tests.support.harness import ALICE, BOB, MARIA, Harness, start_harness, stop_harness
from tests.support.helpers import header_message
from tests.support.slack_spec import call_problems


async def test_outgoing_calls_follow_slacks_spec(harness: Harness) -> None:
    h = harness
    await h.driver.command("/incident", "declare Spec check", user_id=ALICE, channel_id=h.general)
    await h.double.wait_for(lambda: [c for c in h.double.calls_to("pins.add") if c.response["ok"]])
    channel = h.double.calls_to("conversations.create")[-1].response["channel"]["id"]
    await h.driver.command("/incident", f"role comms <@{MARIA}>", user_id=ALICE, channel_id=channel)
    await h.driver.click(
        header_message(h, channel), ids.role_select("scribe"), user_id=ALICE, selected_user=BOB
    )
    await h.double.wait_for(lambda: BOB in h.double.members(channel))  # Bob is scribe now
    await h.driver.command("/incident", "status identified", user_id=BOB, channel_id=channel)
    await h.driver.command("/incident", "", user_id=BOB, channel_id=h.general)
    await h.double.wait_for(lambda: h.double.calls_to("views.open"))
    await h.double.wait_for(lambda: len(h.double.calls_to("chat.update")) >= 3)
    methods = {c.method for c in h.double.calls}
    assert {
        "conversations.create",
        "conversations.invite",
        "conversations.setTopic",
        "chat.postMessage",
        "chat.update",
        "pins.add",
        "views.open",
        "users.info",
    } <= methods
    problems = sorted({p for c in h.double.calls for p in call_problems(c.method, c.args)})
    assert problems == [], "\n".join(problems)
    failed = [
        (c.method, c.response.get("error")) for c in h.double.calls if not c.response.get("ok")
    ]
    assert failed == [("chat.postMessage", "not_in_channel")], "only the first broadcast fails"
    assert [c.args["channel"] for c in h.double.ok_calls_to("conversations.join")] == [h.broadcast]


async def test_update_and_reminder_calls_follow_slacks_spec(engine: AsyncEngine) -> None:
    h = await start_harness(
        engine,
        customer_update_cadence="SEV1=1s,SEV2=1s,SEV3=1s",
        reminder_grace="1s",
        reminder_sweep_seconds=0.3,
    )
    try:
        await h.driver.command("/incident", "declare Spec", user_id=ALICE, channel_id=h.general)
        await h.double.wait_for(lambda: h.double.ok_calls_to("pins.add"))
        channel = h.double.calls_to("conversations.create")[-1].response["channel"]["id"]
        await h.double.wait_for(
            lambda: [
                c
                for c in h.double.ok_calls_to("chat.postMessage")
                if "overdue" in str(c.args.get("text"))
            ],
            timeout=6,
        )
        await h.driver.command("/incident", "update", user_id=ALICE, channel_id=channel)
        opened = await h.double.wait_for(lambda: h.double.ok_calls_to("views.open"))
        view_id = opened[0].response["view"]["id"]
        text = "We're sorry: checkout is failing. We are fixing it. Next update by 12:00 UTC."
        values = {
            "update_text": {"text": text},
            "update_public_title": {"public_title": "Checkout problems"},
        }
        await h.driver.submit_view(view_id, values, user_id=ALICE)
        await h.double.wait_for(lambda: h.double.messages(h.customers))
        problems = sorted({p for c in h.double.calls for p in call_problems(c.method, c.args)})
        assert problems == [], "\n".join(problems)
    finally:
        await stop_harness(h)
