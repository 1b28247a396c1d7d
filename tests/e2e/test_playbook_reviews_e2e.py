"""Playbook reviews end to end: ``/incident playbooks``, ``/incident playbook <name>
reviewed``, and the weekly DM to the owner of a playbook past its ``review_by`` date —
once a week across restarts and replicas, and never again once it is reviewed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.process import Runtime
from messages import refusals
from storage.db import migrate
from storage.models import utcnow
from storage.playbook_reviews import PlaybookReviewStore
from tests.support.harness import ALICE, MARIA, Harness, start_harness, stop_harness
from tests.support.helpers import said
from tests.support.playbook_helpers import playbook, write

NAME = "Card payments failing"
PAST = (date.today() - timedelta(days=3)).isoformat()


@pytest.fixture
async def overdue(engine: AsyncEngine, tmp_path: Path) -> AsyncIterator[Harness]:
    """A harness whose PLAYBOOKS_DIR holds Maria's playbook, due for review three days ago,
    and a second one not due yet."""
    books = tmp_path / "playbooks"
    write(books, "card.yaml", playbook(owner=MARIA, review_by=PAST))
    write(books, "login.yaml", playbook(name="Login outage", owner=ALICE, review_by="2099-01-01"))
    h = await start_harness(engine, playbooks_dir=str(books), admin_users="UBOB")
    yield h
    await stop_harness(h)


async def first_reminder(h: Harness) -> None:
    """The sweep a process runs when it starts has reminded Maria."""
    await h.double.wait_for(lambda: h.double.dm_messages(MARIA))


def later(h: Harness, days: int) -> None:
    """Let the review service's clock run ``days`` ahead."""
    h.runtime.services.reviews.clock = lambda: utcnow() + timedelta(days=days)


async def run(h: Harness, text: str, user: str) -> str:
    reply = await h.driver.command("/incident", text, user_id=user, channel_id=h.general)
    return str(json.loads(await said(h, reply))["text"])


async def test_the_owner_of_a_playbook_past_its_review_date_gets_a_dm(overdue: Harness) -> None:
    h = overdue
    await first_reminder(h)
    [dm] = h.double.dm_messages(MARIA)
    assert NAME in dm["text"] and PAST in dm["text"] and "reviewed" in dm["text"]


async def test_a_second_sweep_in_the_same_week_sends_nothing(overdue: Harness) -> None:
    h = overdue
    await first_reminder(h)
    later(h, 6)
    assert await h.runtime.services.reviews.sweep() == 0
    assert len(h.double.dm_messages(MARIA)) == 1


async def test_the_reminder_comes_again_a_week_later(overdue: Harness) -> None:
    h = overdue
    await first_reminder(h)
    later(h, 8)
    assert await h.runtime.services.reviews.sweep() == 1
    await h.double.wait_for(lambda: len(h.double.dm_messages(MARIA)) == 2)


async def test_once_the_owner_marks_it_reviewed_the_reminders_stop(overdue: Harness) -> None:
    h = overdue
    await first_reminder(h)
    said_back = await run(h, f"playbook {NAME} reviewed", MARIA)
    assert said_back.startswith(f"Recorded: <@{MARIA}> reviewed “{NAME}”")
    later(h, 8)
    assert await h.runtime.services.reviews.sweep() == 0
    assert len(h.double.dm_messages(MARIA)) == 1


async def test_marking_reviewed_records_who_and_when(overdue: Harness) -> None:
    h = overdue
    before = utcnow()
    await run(h, "playbook card-payments-failing reviewed", MARIA)
    reviews = await h.runtime.services.reviews.store.get_all([NAME])
    review = reviews[NAME.casefold()]
    assert review.reviewed_by == MARIA and review.reviewed_at is not None
    assert review.reviewed_at >= before and review.reviewed_for == date.fromisoformat(PAST)


async def test_someone_else_is_refused_and_told_who_the_owner_is(overdue: Harness) -> None:
    h = overdue
    assert await run(h, f"playbook {NAME} reviewed", ALICE) == refusals.not_the_playbook_owner(
        NAME, MARIA
    )
    later(h, 8)
    assert await h.runtime.services.reviews.sweep() == 1


async def test_an_admin_may_mark_a_playbook_reviewed(overdue: Harness) -> None:
    h = overdue
    assert (await run(h, f"playbook {NAME} reviewed", "UBOB")).startswith("Recorded:")


async def test_two_processes_sweeping_at_once_send_one_dm(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    books = tmp_path / "playbooks"
    write(books, "card.yaml", playbook(owner=MARIA, review_by=PAST))
    h = await start_harness(engine, playbooks_dir=str(books))
    other = await Runtime.start(h.runtime.settings, engine)
    try:
        sweeps = [h.runtime.services.reviews.sweep(), other.services.reviews.sweep()] * 3
        await asyncio.gather(*sweeps)
        await first_reminder(h)
        assert len(h.double.dm_messages(MARIA)) == 1
    finally:
        await other.stop()
        await stop_harness(h)


async def test_the_playbooks_list_shows_owners_and_marks_a_review_due(overdue: Harness) -> None:
    h = overdue
    reply = await h.driver.command("/incident", "playbooks", user_id=ALICE, channel_id=h.general)
    shown = json.loads(await said(h, reply))
    lines = [b["text"]["text"] for b in shown["blocks"] if b["type"] == "section"]
    card, login = "\n".join(lines).splitlines()
    assert NAME in card and f"<@{MARIA}>" in card and "review due" in card
    assert "Login outage" in login and f"<@{ALICE}>" in login and "review due" not in login


async def test_a_reviewed_playbook_is_no_longer_listed_as_due(overdue: Harness) -> None:
    h = overdue
    await run(h, f"playbook {NAME} reviewed", MARIA)
    reply = await h.driver.command("/incident", "playbooks", user_id=ALICE, channel_id=h.general)
    listed = await said(h, reply)
    assert "review due" not in listed and f"reviewed by <@{MARIA}>" in listed


async def test_marking_an_unknown_playbook_reviewed_is_refused(overdue: Harness) -> None:
    h = overdue
    told = await run(h, "playbook Tornado reviewed", MARIA)
    assert told == refusals.unknown_playbook("Tornado", [NAME, "Login outage"])


async def test_a_sweep_that_read_the_playbook_as_due_cannot_claim_it_once_reviewed(
    engine: AsyncEngine,
) -> None:
    """The claim itself checks the review: a replica that saw the playbook due a moment
    before the owner marked it reviewed sends nothing."""
    await migrate(engine)
    store = PlaybookReviewStore(engine)
    due = date.fromisoformat(PAST)
    await store.mark_reviewed(NAME, due, MARIA, utcnow())
    assert not await store.claim_reminder(NAME, due, utcnow(), utcnow() - timedelta(days=7))
