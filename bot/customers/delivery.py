"""A customer update reaches each affected customer directly: in the Slack Connect channel
shared with them and/or by e-mail, as the directory says.

Delivery starts after the composer's acknowledgement, in the background. Every message goes
through the outbox, so one that cannot go now (Slack or the relay away) is parked and
retried; the outbox's after step ``customer_reached`` then records the customer as
contacted — by the update's author, through which channel, with the permalink or
Message-ID — whether it went at once or later. Slack posts keep to one message per second
per channel (:class:`Pacer`; slack-sdk honours ``Retry-After`` on a 429, and what is still
refused is parked). A channel that refuses the bot for good (removed, archived, gone) is
reported to the comms owner once per incident and skipped from then on.

Customer messages do not join the incident's lane: they are independent of the incident
channel's order, and one customer's parked message must not hold up the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.customers.email import EMAIL_SEND, Mailer, MailRefused, mail_args
from bot.incidents.policy import comms_owner
from bot.settings import Settings
from bot.slack.calls import ClientFor, slack_error
from bot.slack.header import incident_card
from bot.slack.outbox import Delivered, Outbox
from bot.status_page import customer_page_url
from messages.directory import channel_gone_text, reach_line
from messages.model import IncidentCard
from messages.updates import customer_facing_blocks, customer_heading, customer_page_line
from storage.customers import CustomerStore, Reachable
from storage.models import Incident

log = logging.getLogger(__name__)

REACHED = "customer_reached"
"""The outbox's after step that records a customer as contacted."""
CHANNEL_GONE = frozenset({"not_in_channel", "channel_not_found", "is_archived"})
PER_CHANNEL_SECONDS = 1.0
CONCURRENCY = 20
"""Customers reached at the same time; each channel is still paced on its own."""
SLACK, EMAIL = "slack", "email"


class Pacer:
    """At most one turn per ``interval`` seconds for each key (a channel)."""

    def __init__(self, interval: float = PER_CHANNEL_SECONDS) -> None:
        self.interval = interval
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._next: dict[str, float] = {}

    @contextlib.asynccontextmanager
    async def turn(self, key: str) -> AsyncIterator[None]:
        lock = self._locks[key]
        async with lock:
            wait = self._next.get(key, 0.0) - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                yield
            finally:
                self._next[key] = time.monotonic() + self.interval
        self._forget_idle()

    def _forget_idle(self) -> None:
        now = time.monotonic()
        for key in [k for k, t in self._next.items() if t < now and not self._locks[k].locked()]:
            del self._next[key]
            self._locks.pop(key, None)


@dataclass(frozen=True)
class Handover:
    """One posted update on its way to the incident's customers."""

    client: AsyncWebClient
    card: IncidentCard
    incident: Incident
    number: int
    text: str
    author: str


Links = Callable[[str, str, str], Awaitable[str]]
"""(team, customer name, who asked) → the customer's page token (``StatusStore.link_for``)."""


class Reach:
    def __init__(
        self,
        customers: CustomerStore,
        outbox: Outbox,
        client_for: ClientFor,
        settings: Settings,
        mailer: Mailer | None,
        links: Links | None = None,
    ) -> None:
        self.links = links
        """Issues (or finds) a customer's private page link: every direct message carries it."""
        self.customers = customers
        self.outbox = outbox
        self.client_for = client_for
        self.settings = settings
        self.mailer = mailer
        self.pacer = Pacer()
        self._tasks: set[asyncio.Task[None]] = set()
        self._in_order: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.finished = 0
        """Deliveries (one per posted update) that have run to their end."""
        outbox.on_delivered(REACHED, self.reached)
        if mailer is not None:
            outbox.serve(EMAIL_SEND, mailer.send)

    def _ways(self, customer: Reachable) -> tuple[bool, bool]:
        """Whether the customer is reached in Slack, and whether by e-mail."""
        slack = bool(customer.slack_channel) and not customer.channel_lost
        return slack, bool(customer.emails) and self.mailer is not None

    async def preview(self, incident_id: int) -> str:
        """The composer's line: how many customers the update will reach, and how."""
        ways = [self._ways(c) for c in await self.customers.reachable(incident_id)]
        slack = sum(1 for s, _ in ways if s)
        email = sum(1 for _, e in ways if e)
        return reach_line(slack, email, sum(1 for s, e in ways if s or e))

    def deliver_later(self, incident: Incident, number: int, text: str, author: str) -> None:
        """Start delivering update #``number`` to every customer; the caller does not wait."""
        task = asyncio.create_task(self._deliver_counted(incident, number, text, author))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, timeout: float = 10.0) -> None:
        """Let deliveries under way finish (on shutdown, before the database closes)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def _deliver_counted(
        self, incident: Incident, number: int, text: str, author: str
    ) -> None:
        """One incident's updates are delivered one after the other, in the order they were
        handed over (the lock is first come, first served): each delivery first looks up
        its customers and their page links, and without the lock #2 could overtake #1."""
        try:
            async with self._in_order[incident.id]:
                await self.deliver(incident, number, text, author)
        finally:
            self.finished += 1

    async def deliver(self, incident: Incident, number: int, text: str, author: str) -> None:
        try:
            recipients = await self.customers.reachable(incident.id)
            if not recipients:
                return
            client = await self.client_for(incident.team_id)
        except Exception:
            log.exception("INC-%s: could not start reaching customers", incident.number)
            return
        card = incident_card(incident, self.settings.severities, customer_names=())
        update = Handover(client, card, incident, number, text, author)
        slots = asyncio.Semaphore(CONCURRENCY)

        async def one(customer: Reachable) -> None:
            slack, email = self._ways(customer)
            async with slots:
                page = await self._page_url(incident.team_id, customer, author)
                if slack:
                    await self._guarded(self._post(update, customer, page))
                if email:
                    await self._guarded(self._mail(update, customer, page))

        await asyncio.gather(*(one(c) for c in recipients))

    async def _page_url(self, team_id: str, customer: Reachable, author: str) -> str | None:
        """The customer's own page, linked from every direct message (its link issued on
        first use); a message still goes without it if the link cannot be had."""
        if self.links is None:
            return None
        try:
            return customer_page_url(
                self.settings, await self.links(team_id, customer.name, author)
            )
        except Exception:
            log.exception("could not issue %s's page link", customer.name)
            return None

    async def _guarded(self, work: Any) -> None:
        """One customer's failure never stops the others (it is logged)."""
        try:
            await work
        except Exception:
            log.exception("could not reach a customer")

    async def _post(self, u: Handover, customer: Reachable, page: str | None) -> None:
        incident = u.incident
        async with self.pacer.turn(customer.slack_channel):
            try:
                await self.outbox.call(
                    u.client,
                    incident.team_id,
                    "chat.postMessage",
                    what=f"customer update #{u.number} to {customer.name}",
                    after=REACHED,
                    context=_context(incident, customer, u.author, SLACK),
                    channel=customer.slack_channel,
                    text=u.text,
                    blocks=customer_facing_blocks(incident.public_title, u.text, page),
                )
            except SlackApiError as exc:
                if slack_error(exc) not in CHANNEL_GONE:
                    raise
                await self._channel_gone(u, customer, slack_error(exc))

    async def _mail(self, u: Handover, customer: Reachable, page: str | None) -> None:
        incident = u.incident
        body = f"{u.text}\n\n{customer_page_line(page)}" if page else u.text
        subject = customer_heading(incident.public_title)
        args = mail_args(str(self.settings.smtp_from), customer.emails, subject, body)
        try:
            await self.outbox.call(
                u.client,
                incident.team_id,
                EMAIL_SEND,
                what=f"customer update #{u.number} to {customer.name} by e-mail",
                after=REACHED,
                context=_context(incident, customer, u.author, EMAIL),
                **args,
            )
        except MailRefused as exc:
            log.warning(
                "%s: the relay refused the e-mail to %s: %s", u.card.label, customer.name, exc
            )

    async def _channel_gone(self, u: Handover, customer: Reachable, error: str) -> None:
        """Tell the comms owner, once per incident and customer, in the incident channel."""
        incident, card = u.incident, u.card
        if not await self.customers.lose_channel(incident.id, customer.id):
            return
        owner = comms_owner(card.roles) or card.reporter_id
        await self.outbox.call(
            u.client,
            incident.team_id,
            "chat.postMessage",
            what="the note that a customer's channel refused the update",
            incident_id=incident.id,
            channel=str(card.channel_id),
            text=channel_gone_text(owner, customer.name, customer.slack_channel, error),
        )

    async def reached(self, client: AsyncWebClient, delivered: Delivered) -> None:
        """The after step: record the customer contacted, with where the message is."""
        context = delivered.context or {}
        via = str(context.get("via"))
        if via == SLACK:
            ref = await _permalink(client, delivered.response)
        else:
            ref = str(delivered.response.get("message_id") or "")
        await self.customers.mark_reached(
            int(context["incident"]), int(context["customer"]), str(context["author"]), via, ref
        )


def _context(incident: Incident, customer: Reachable, author: str, via: str) -> dict[str, Any]:
    return {"incident": incident.id, "customer": customer.id, "author": author, "via": via}


async def _permalink(client: AsyncWebClient, response: dict[str, Any]) -> str:
    channel, ts = str(response.get("channel")), str(response.get("ts"))
    try:
        answer = await client.chat_getPermalink(channel=channel, message_ts=ts)
        return str(answer["permalink"])
    except SlackApiError as exc:
        log.warning("no permalink for %s/%s: %s", channel, ts, slack_error(exc))
        return f"{channel}/{ts}"
