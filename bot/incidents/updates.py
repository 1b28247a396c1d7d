"""Customer updates: the composer, the tone check gate, posting, and the reminder buttons.

When the next update is due is the update clock's rule (``bot/incidents/clock.py``); this
service stores and schedules what the clock answers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.incidents import clock
from bot.incidents.errors import UserError
from bot.incidents.policy import ACTIVE_STATUSES
from bot.incidents.titles import check_title
from bot.playbooks.catalogue import Catalogue
from bot.playbooks.drafts import incident_draft, phase_of
from bot.settings import Settings
from bot.slack.calls import open_view, post_joining, slack_error
from bot.slack.header import closure_view, incident_card, refresh_header
from bot.slack.outbox import QUEUED, Outbox, describe, transient
from messages import refusals
from messages.closing import resolved_template
from messages.model import DRILL_MARK
from messages.tone import LANGUAGES, Finding, Language, ToneRule, check_tone, rules_for
from messages.updates import (
    UPDATE_MAX,
    composer_modal,
    customer_facing_blocks,
    posted_update_blocks,
    retire_reminder_message,
    update_template,
)
from storage.models import Closure, Incident, utcnow
from storage.reminders import CUSTOMER_UPDATE, PAUSED, PENDING, ReminderStore
from storage.repository import IncidentStore, NewUpdate

if TYPE_CHECKING:
    from bot.customers.delivery import Reach

log = logging.getLogger(__name__)

Waker = Callable[[datetime], None]
Watcher = Callable[[AsyncWebClient, Incident, Collection[str]], Awaitable[None]]
"""Told after an incident's roles change or an update is posted (the App Home listens)."""
UPDATE, CONTACTED_KIND, RESOLVED = "update", "contacted", "resolved"
"""Kinds of customer touchpoints: a written update, a direct contact, the final update."""


@dataclass
class Submitted:
    """Either findings to show in the composer, or the update was posted."""

    findings: list[Finding] = field(default_factory=list)
    posted: bool = False


def _metadata_text(metadata: str, key: str) -> str:
    try:
        data = json.loads(metadata or "{}")
    except ValueError:
        return ""
    return str(data.get(key) or "") if isinstance(data, dict) else ""


def title_rules(language: Language) -> tuple[ToneRule, ...]:
    """The customer-facing title is checked like the text, except for what only a whole
    update must have (the apology, the next update time)."""
    return tuple(rule for rule in rules_for(language) if not rule.flags_when_missing)


def check_public_title(incident: Incident, raw: str, kind: str) -> str | None:
    """The customer-facing title from the composer: required until the incident has one
    (the final update may go without: the incident then stays off the status page)."""
    if not raw.strip():
        if incident.public_title is None and kind == UPDATE:
            raise UserError(refusals.public_title_required())
        return None
    return check_title(raw)


def reaches_customers(incident: Incident) -> bool:
    """Whether this incident's customer updates go to customers at all (``CUSTOMER_CHANNEL``,
    their shared channels, their inboxes): a drill's never do."""
    return not incident.drill


def check_update_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise UserError(refusals.update_empty())
    if len(text) > UPDATE_MAX:
        raise UserError(refusals.update_too_long(UPDATE_MAX, len(text)))
    return text


@dataclass(eq=False)
class UpdateService:
    store: IncidentStore
    reminders: ReminderStore
    settings: Settings
    waker: Waker
    outbox: Outbox
    catalogue: Catalogue = field(default_factory=Catalogue)
    """The playbooks: an incident's own drafts its customer messages."""
    reach: Reach | None = None
    """Delivers posted updates to each affected customer directly (set when wired)."""
    watchers: list[Watcher] = field(default_factory=list)
    """Told when an incident changed for the people in it (the App Home)."""

    def on_change(self, watcher: Watcher) -> None:
        self.watchers.append(watcher)

    async def changed(
        self, client: AsyncWebClient, incident: Incident, also: Collection[str] = ()
    ) -> None:
        """Tell the watchers that ``incident`` changed for the people in it (and ``also``)."""
        for watcher in self.watchers:
            await watcher(client, incident, also)

    # -- the clock -------------------------------------------------------------------------

    async def replan(self, incident: Incident, due: datetime) -> datetime:
        """Move the next-update time (and its reminder) to ``due``, as the clock answered
        after a declare, an update, a severity change or a reopen."""
        await self.store.set_next_update_due(incident.id, due)
        if incident.status in ACTIVE_STATUSES:
            await self.reminders.schedule(incident.id, incident.team_id, due)
            self.waker(due)
        return due

    # -- composing and posting ------------------------------------------------------------

    async def open_composer(
        self,
        client: AsyncWebClient,
        incident: Incident,
        trigger_id: str,
        response_url: str | None,
        *,
        final: bool = False,
    ) -> None:
        if final:
            view = self.final_composer(incident)
        else:
            reach = await self.reach.preview(incident.id) if self.reach is not None else ""
            view = self._composer(incident, response_url, reach)
        await open_view(
            client,
            trigger_id,
            view,
            "Try again, or use `/incident update` in the incident channel.",
        )

    def _composer(
        self, incident: Incident, response_url: str | None, reach: str = ""
    ) -> dict[str, object]:
        self._check_open(incident)
        card = incident_card(incident, self.settings.severities)
        due = clock.after_touchpoint(self.settings, incident, utcnow())
        draft = self.playbook_draft(incident, due) or update_template(card, due)
        metadata = json.dumps(
            {"incident": incident.number, "response_url": response_url, "reach": reach}
        )
        return composer_modal(
            card,
            draft,
            metadata,
            reach=reach,
            public_title=incident.public_title,
            title_required=incident.public_title is None,
        )

    def playbook_draft(
        self, incident: Incident, next_update: datetime | None, customer: str = ""
    ) -> str | None:
        """The template of the incident's playbook for its current status, in its language.
        ``{customer}`` is left for the author unless one customer is meant: an update names
        no customer, as every customer, the customer channel and the status page read it."""
        playbook = self.catalogue.get(incident.playbook)
        if playbook is None:
            return None
        phase = phase_of(incident.status)
        return incident_draft(playbook, incident, phase, incident.language, next_update, customer)

    def final_composer(self, incident: Incident) -> dict[str, object]:
        """The composer for the “resolved” update, drafted from what the close recorded."""
        closure = self._closure_of(incident)
        card = incident_card(incident, self.settings.severities)
        draft = resolved_template(card, closure_view(closure), incident.public_title)
        metadata = json.dumps({"incident": incident.number, "kind": RESOLVED})
        return composer_modal(card, draft, metadata, public_title=incident.public_title)

    def review(
        self,
        incident: Incident,
        text: str,
        metadata: str,
        findings: list[Finding],
        *,
        kind: str = UPDATE,
        public_title: str | None = None,
    ) -> dict[str, object]:
        """The composer again, showing the tone findings and the “post anyway” choice."""
        card = incident_card(incident, self.settings.severities)
        return composer_modal(
            card,
            text,
            metadata,
            findings,
            reach=_metadata_text(metadata, "reach"),
            public_title=public_title or incident.public_title,
            title_required=incident.public_title is None and kind == UPDATE,
        )

    def gate(
        self,
        text: str,
        post_anyway: bool,
        kind: str = UPDATE,
        language: str = "en",
        public_title: str | None = None,
    ) -> Submitted:
        """Tone findings (in the text or the customer-facing title) stop the first submit;
        the author may fix them or post anyway. Both are checked in ``language``, the
        incident's customer language."""
        lang: Language = language if language in LANGUAGES else "en"
        findings = check_tone(text, language=lang, final=kind == RESOLVED)
        if public_title:
            findings += [
                replace(f, title=f"Customer-facing title: {f.title}")
                for f in check_tone(public_title, title_rules(lang))
            ]
        if findings and not post_anyway:
            return Submitted(findings=findings)
        return Submitted(findings=findings, posted=True)

    async def post(
        self,
        client: AsyncWebClient,
        incident: Incident,
        author_id: str,
        text: str,
        *,
        findings: list[Finding],
        kind: str = UPDATE,
        public_title: str | None = None,
    ) -> None:
        """Record the update (and the customer-facing title, when given), tell the channel
        and the customers, and reset the clock."""
        self._check_final(incident, kind)
        now = utcnow()
        final = kind == RESOLVED
        due = None if final else clock.after_touchpoint(self.settings, incident, now)
        recorded = await self.store.record_update(
            incident.id,
            NewUpdate(
                author_id=author_id,
                text=text,
                posted_at=now,
                kind=kind,
                findings="; ".join(f.title for f in findings),
                posted_anyway=bool(findings),
                due_at=None if final else incident.next_update_due,
                public_title=public_title,
            ),
            due,
        )
        if due is not None:
            await self.replan(incident, due)
        fresh = await self.store.reload(incident.id)
        card = incident_card(fresh, self.settings.severities)
        count = recorded.number
        to_customers = kind in (UPDATE, RESOLVED) and reaches_customers(incident)
        if to_customers and self.reach is not None:
            # Handed over before any Slack call: updates reach customers in the order recorded.
            self.reach.deliver_later(fresh, count, text, author_id)
        await self.outbox.call(
            client,
            incident.team_id,
            "chat.postMessage",
            what=f"customer update #{count} in the incident channel",
            incident_id=incident.id,
            channel=str(card.channel_id),
            text=f"{'Final customer' if kind == RESOLVED else 'Customer'} update #{count} "
            f"for {card.label}",
            blocks=posted_update_blocks(card, text, author_id, count, bool(findings)),
        )
        if to_customers and self.settings.customer_channel:
            await self._tell_customers(client, fresh, count, text)
        await self.retire_reminder(
            client, fresh, f"<@{author_id}> posted customer update #{count}."
        )
        await refresh_header(self.outbox, client, fresh, self.settings.severities)
        await self.changed(client, fresh)

    async def _tell_customers(
        self, client: AsyncWebClient, incident: Incident, count: int, text: str
    ) -> None:
        """Post to the customer channel (joining it if needed), parked if Slack is away;
        behind the incident's parked calls, so customers read the updates in order."""
        channel = str(self.settings.customer_channel)
        blocks = customer_facing_blocks(incident.public_title, text)
        parked = {"channel": channel, "text": text, "blocks": blocks}
        what = f"customer update #{count} in the customer channel"
        error = QUEUED
        try:
            if not await self.outbox.store.waiting(incident.id):
                await post_joining(client, channel, text=text, blocks=blocks)
                return
        except Exception as exc:
            if not transient(exc):
                raise
            error = describe(exc)
        await self.outbox.park(
            incident.team_id,
            "chat.postMessage",
            parked,
            what=what,
            key=None,
            error=error,
            incident_id=incident.id,
        )

    async def retire_reminder(
        self, client: AsyncWebClient, incident: Incident, outcome: str, kind: str = CUSTOMER_UPDATE
    ) -> None:
        """Mark the last reminder message handled, so its buttons are not used again.

        Through the incident's lane of the outbox: a dropped connection or a 5xx here must
        not stop the flow that called it (the close goes on to post its checklist)."""
        message = await self.reminders.take_message(incident.id, kind)
        if message is None:
            return
        channel, ts = message
        try:
            await self.outbox.call(
                client,
                incident.team_id,
                "chat.update",
                what="marking the reminder handled",
                incident_id=incident.id,
                channel=channel,
                ts=ts,
                **retire_reminder_message(outcome),
            )
        except SlackApiError as exc:
            log.warning("could not mark the reminder handled: %s", slack_error(exc))

    # -- reminder buttons ------------------------------------------------------------------

    async def check_token(self, incident: Incident, token: str, *, consume: bool) -> None:
        """Refuse a reminder button that is no longer current, saying what happened instead.

        With ``consume`` the button is used up atomically, so of two clicks at once (or a
        double click) exactly one goes through.
        """
        number, _, seq = token.partition(":")
        valid = number == str(incident.number) and seq.isdigit()
        if valid and consume:
            valid = await self.reminders.consume(incident.id, int(seq))
        elif valid:
            valid = await self.reminders.is_current(incident.id, int(seq))
        if not valid:
            raise UserError(self._stale_reason(incident))

    def _stale_reason(self, incident: Incident) -> str:
        if incident.status not in ACTIVE_STATUSES:
            return refusals.nothing_to_remind(incident.number, incident.status)
        return refusals.reminder_already_handled(incident.last_update_at, incident.next_update_due)

    async def customers_contacted(
        self, client: AsyncWebClient, incident: Incident, actor_id: str
    ) -> str:
        """Someone reached the customers directly: that counts as an update and resets the clock."""
        await self.post(
            client,
            incident,
            actor_id,
            "Customers were contacted directly.",
            findings=[],
            kind=CONTACTED_KIND,
        )
        return "Recorded: customers were contacted. The clock starts again."

    async def snooze(
        self, client: AsyncWebClient, incident: Incident, actor_id: str, minutes: int
    ) -> str:
        self._check_open(incident)
        until = clock.snoozed_until(utcnow(), minutes)
        await self.reminders.schedule(incident.id, incident.team_id, until)
        self.waker(until)
        await self.store.add_event(incident.id, actor_id, "reminder_snoozed", f"{minutes} min")
        await self.retire_reminder(client, incident, f"Snoozed {minutes} min by <@{actor_id}>.")
        return f"Snoozed: I'll remind you again at {until:%H:%M} UTC."

    async def set_paused(
        self, client: AsyncWebClient, incident: Incident, actor_id: str, paused: bool
    ) -> None:
        """Stop or restart reminders; the channel is told, so the actor needs no reply."""
        self._check_open(incident)
        if not await self.store.set_paused(incident.id, paused, actor_id):
            state = "paused" if paused else "running"
            raise UserError(refusals.reminders_already(incident.number, state))
        if paused:
            await self.reminders.set_state(incident.id, PAUSED)
            text = (
                f"<@{actor_id}> paused customer-update reminders. `/incident resume` restarts them."
            )
        else:
            await self.reminders.set_state(incident.id, PENDING)
            reminder = await self.reminders.get(incident.id)
            if reminder is not None:
                self.waker(reminder.due_at)
            text = f"<@{actor_id}> resumed customer-update reminders."
        await self.say(client, incident, text, what="the note in the incident channel")

    async def say(self, client: AsyncWebClient, incident: Incident, text: str, what: str) -> None:
        """A plain line in the incident channel, parked if Slack is away (``what`` names it
        for the person who acted); a drill's is marked."""
        if incident.drill:
            text = f"{DRILL_MARK} · {text}"
        await self.post_in_channel(client, incident, what, text=text)

    async def post_in_channel(
        self, client: AsyncWebClient, incident: Incident, what: str, **message: Any
    ) -> None:
        """A message in the incident channel, in the incident's order (parked if needed)."""
        await self.outbox.call(
            client,
            incident.team_id,
            "chat.postMessage",
            what=what,
            incident_id=incident.id,
            channel=str(incident.channel_id),
            **message,
        )

    def _check_final(self, incident: Incident, kind: str) -> None:
        """The final update belongs to a resolved incident; every other one to an active one."""
        if kind == RESOLVED:
            self._closure_of(incident)
        else:
            self._check_open(incident)

    def _closure_of(self, incident: Incident) -> Closure:
        if incident.closure is None or incident.status in ACTIVE_STATUSES:
            raise UserError(refusals.final_update_needs_close(incident.number))
        return incident.closure

    def _check_open(self, incident: Incident) -> None:
        if incident.status not in ACTIVE_STATUSES:
            raise UserError(refusals.updates_stopped(incident.number, incident.status))
