"""A mass outage costs a click no more than a small one: whatever the app does with an
incident of hundreds of customers reads a page of them at most, never all.

Counted as the customer rows the app turns into objects (SQLAlchemy's ``load`` event on
``AffectedCustomer``), through the real app over signed HTTP; no timing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from messages import ids
from messages.checklists import PAGE_SIZE
from messages.limits import CUSTOMERS_SHOWN
from storage.models import AffectedCustomer
from tests.support.customer_helpers import declare_with, ephemerals_for, latest_ephemeral
from tests.support.harness import ALICE, Harness
from tests.support.helpers import header_message, said

MANY = 7 * PAGE_SIZE
"""Many pages of customers: a load of all of them is well over any bound below."""


@contextmanager
def customer_rows_loaded() -> Iterator[list[str]]:
    """The names of the customer rows loaded inside the block (one entry per row)."""
    loaded: list[str] = []

    def record(customer: AffectedCustomer, _context: object) -> None:
        loaded.append(customer.name)

    event.listen(AffectedCustomer, "load", record)
    try:
        yield loaded
    finally:
        event.remove(AffectedCustomer, "load", record)


def names(n: int) -> str:
    return ", ".join(f"Customer {i:04d}" for i in range(n))


async def test_turning_a_checklist_page_loads_one_page_of_customers(harness: Harness) -> None:
    h = harness
    channel = await declare_with(h, names(MANY))
    await h.driver.click(header_message(h, channel), ids.SHOW_CHECKLIST, user_id=ALICE)
    page = await h.double.wait_for(lambda: (ephemerals_for(h, channel, ALICE) or [None])[-1])
    with customer_rows_loaded() as loaded:
        await h.driver.click(page, ids.CHECKLIST_NEXT, user_id=ALICE)
        turned = await h.double.wait_for(
            lambda: "edited" in latest_ephemeral(h, channel, ALICE) or None
        )
    assert turned
    assert "Customer 0040" in json.dumps(latest_ephemeral(h, channel, ALICE)["blocks"])
    assert len(loaded) <= PAGE_SIZE + CUSTOMERS_SHOWN


async def test_the_header_counts_every_customer_but_loads_only_those_it_names(
    harness: Harness,
) -> None:
    h = harness
    channel = await declare_with(h, names(MANY))
    with customer_rows_loaded() as loaded:
        reply = await h.driver.command(
            "/incident", "customers add Latecomer", user_id=ALICE, channel_id=channel
        )
        assert "Added 1" in await said(h, reply)
        header = await h.double.wait_for(
            lambda: (
                f"({MANY + 1})" in json.dumps(header_message(h, channel)["blocks"])
                and header_message(h, channel)
            )
        )
    shown = json.dumps(header["blocks"])
    assert "Customer 0000" in shown and f"and {MANY + 1 - CUSTOMERS_SHOWN} more" in shown
    assert "Latecomer" not in shown
    assert len(loaded) <= 2 * CUSTOMERS_SHOWN, "the command's incident and the header's"
