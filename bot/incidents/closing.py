"""The end of an incident: resolve with a root cause, follow every customer up, close,
and reopen when it was not over after all."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, timedelta

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.incidents import clock
from bot.incidents.customers import CustomerService
from bot.incidents.errors import UserError
from bot.incidents.policy import REOPENABLE, CloseRefused, Status, check_may_close, comms_owner
from bot.incidents.report import ReportService
from bot.incidents.updates import UpdateService, Waker
from bot.settings import Settings
from bot.slack.calls import FORM_CHECK_SECONDS, check_person, open_view, slack_error
from bot.slack.header import closure_view, incident_card, refresh_header, role_holders
from messages import refusals
from messages.blocks import mention
from messages.checklists import FOLLOW_UP, ChecklistPage, checklist_blocks, checklist_text
from messages.closing import close_modal, closed_text, resolved_blocks
from messages.model import ANSWER_LABELS
from storage.closures import ClosureStore, NewClosure
from storage.customers import CustomerStore
from storage.models import Incident, utcnow
from storage.reminders import CANCELLED, ReminderStore
from storage.reminders import FOLLOW_UP as FOLLOW_UP_REMINDER
from storage.repository import IncidentStore

log = logging.getLogger(__name__)


ROOT_CAUSE, FOLLOW_UP_OWNER, FOLLOW_UP_DUE = "root_cause", "follow_up_owner", "follow_up_due"
"""Fields of the close form that :meth:`CloseService.check_form` may point at."""


def today() -> date:
    return utcnow().date()


@dataclass(eq=False)
class CloseService:
    store: IncidentStore
    closures: ClosureStore
    customers: CustomerStore
    reminders: ReminderStore
    settings: Settings
    updates: UpdateService
    customer_service: CustomerService
    reports: ReportService
    waker: Waker

    def check_may_close(self, incident: Incident, user: str) -> None:
        roles = role_holders(incident)
        try:
            check_may_close(
                incident.number, incident.status, roles, self.settings.admin_users, user
            )
        except CloseRefused as exc:
            raise UserError(str(exc)) from None

    async def open_form(
        self, client: AsyncWebClient, incident: Incident, user: str, trigger_id: str
    ) -> None:
        self.check_may_close(incident, user)
        card = incident_card(incident, self.settings.severities)
        owner = comms_owner(card.roles) or incident.reporter_id
        due = today() + timedelta(days=self.settings.follow_up_days)
        playbook = self.updates.catalogue.get(incident.playbook)
        amends = playbook.compensation or "" if playbook else ""
        metadata = json.dumps({"incident": incident.number})
        view = close_modal(card, owner, due, metadata, amends)
        await open_view(client, trigger_id, view, "Run `/incident close` again.")

    async def check_form(self, client: AsyncWebClient, closure: NewClosure) -> None:
        """What the form alone cannot check: a real due date and a real person."""
        if not closure.root_cause.strip():
            raise UserError(refusals.root_cause_missing(), ROOT_CAUSE)
        if closure.follow_up_due < today():
            raise UserError(refusals.follow_up_due_past(closure.follow_up_due), FOLLOW_UP_DUE)
        try:
            await check_person(client, closure.follow_up_owner, within=FORM_CHECK_SECONDS)
        except UserError as exc:
            raise UserError(exc.message, FOLLOW_UP_OWNER) from None

    async def resolve(self, incident: Incident, closure: NewClosure, actor: str) -> Incident:
        """Record the close, stop customer-update reminders and schedule the follow-up
        reminder, all in one transaction (database only: fast)."""
        self.check_may_close(incident, actor)
        follow_up_at = clock.next_follow_up_reminder(self.settings, utcnow())
        if not await self.closures.resolve(
            incident.id, incident.status, closure, actor, follow_up_at
        ):
            raise UserError(refusals.changed_while_closing(incident.number))
        self.waker(follow_up_at)
        return await self.store.reload(incident.id)

    async def announce_resolved(
        self, client: AsyncWebClient, incident: Incident, actor: str
    ) -> None:
        """Tell the channel and post the follow-up checklist (the follow-up reminder was
        scheduled with the resolve). Each post goes through the incident's lane of the
        outbox: if Slack is away it is parked and delivered in this order once it is back.
        The lane is held for the whole flow, so the follow-up reminder waits for it.
        """
        async with self.updates.outbox.holding(incident.id):
            await self._announce_resolved(client, incident, actor)

    async def _announce_resolved(
        self, client: AsyncWebClient, incident: Incident, actor: str
    ) -> None:
        assert incident.closure is not None
        card = incident_card(incident, self.settings.severities)
        await self.updates.post_in_channel(
            client,
            incident,
            "the resolve announcement",
            text=f"{card.label} is resolved.",
            blocks=resolved_blocks(card, closure_view(incident.closure), actor),
        )
        await self.updates.retire_reminder(client, incident, "the incident is resolved.")
        page = await self.customer_service.page(incident, FOLLOW_UP, 0)
        if page.total == 0:
            await self.finish(client, incident, actor)
            return
        await self.updates.post_in_channel(
            client,
            incident,
            "the follow-up checklist",
            text=checklist_text(page),
            blocks=checklist_blocks(page),
        )
        await refresh_header(
            self.updates.outbox,
            client,
            incident,
            self.settings.severities,
            topic=True,
            in_order=True,
        )

    async def record_follow_up(
        self,
        client: AsyncWebClient,
        incident: Incident,
        customer_id: int,
        answer: str,
        page: int,
        actor: str,
    ) -> ChecklistPage:
        if incident.status != Status.RESOLVED:
            raise UserError(
                refusals.follow_ups_between_resolve_and_close(incident.number, incident.status)
            )
        if answer not in ANSWER_LABELS:
            raise UserError(refusals.pick_an_answer())
        customer = await self.customers.get(incident.id, customer_id)
        if customer is None:
            raise UserError(refusals.customer_gone())
        if await self.customers.mark_followed_up(incident.id, customer_id, answer, actor):
            note = f"Recorded: {customer.name} followed up ({ANSWER_LABELS[answer]})."
        else:
            fresh = await self.customers.get(incident.id, customer_id)
            by = mention(fresh.followed_up_by if fresh else None)
            note = f"{customer.name} was already followed up by {by}."
        counts = await self.customers.counts(incident.id)
        if counts.total and counts.followed_up == counts.total:
            await self.finish(client, incident, actor)
            note += f" Every customer is followed up: INC-{incident.number} is closed."
        fresh_incident = await self.store.reload(incident.id)
        return await self.customer_service.page(fresh_incident, FOLLOW_UP, page, note)

    async def finish(self, client: AsyncWebClient, incident: Incident, actor: str) -> None:
        """resolved → closed (once), then tell the channel and maybe archive it."""
        if not await self.closures.finish(incident.id, actor):
            return
        await self.reminders.set_state(incident.id, CANCELLED, kind=FOLLOW_UP_REMINDER)
        await self.updates.retire_reminder(
            client, incident, "every customer is followed up.", kind=FOLLOW_UP_REMINDER
        )
        fresh = await self.store.reload(incident.id)
        card = incident_card(fresh, self.settings.severities)
        archive = self.settings.archive_on_close
        await self.updates.say(client, fresh, closed_text(card, archive), what="the closing note")
        await refresh_header(
            self.updates.outbox, client, fresh, self.settings.severities, topic=True, in_order=True
        )
        if archive:
            await self._report_then_archive(client, fresh)

    async def _report_then_archive(self, client: AsyncWebClient, incident: Incident) -> None:
        """Once archived nobody can ask for the report there, so it is posted first (in
        the incident's lane, the archive waits for a parked report)."""
        warning = await self.reports.post(client, incident)
        if warning:
            await self.updates.say(client, incident, warning, what="the note about the report")
        await self._archive(client, incident)

    async def _on_channel(
        self, client: AsyncWebClient, incident: Incident, method: str, doing: str
    ) -> None:
        """``method`` on the incident channel itself, in the incident's lane of the outbox."""
        await self.updates.outbox.call(
            client,
            incident.team_id,
            method,
            what=f"{doing} the incident channel",
            incident_id=incident.id,
            channel=str(incident.channel_id),
        )

    async def _archive(self, client: AsyncWebClient, incident: Incident) -> None:
        """Archiving is tidying up: if Slack refuses, the incident is still closed."""
        try:
            await self._on_channel(client, incident, "conversations.archive", "archiving")
        except SlackApiError as exc:
            if slack_error(exc) != "already_archived":
                log.warning("INC-%s: could not archive: %s", incident.number, slack_error(exc))

    async def reopen(
        self, client: AsyncWebClient, incident: Incident, reason: str, actor: str
    ) -> None:
        status = incident.status
        if status not in REOPENABLE:
            raise UserError(refusals.nothing_to_reopen(incident.number, status))
        if not await self.closures.reopen(incident.id, status, reason, actor):
            raise UserError(refusals.changed_meanwhile("status"))
        await self.reminders.set_state(incident.id, CANCELLED, kind=FOLLOW_UP_REMINDER)
        if status == Status.CLOSED and self.settings.archive_on_close:
            await self._unarchive(client, incident)
        fresh = await self.store.reload(incident.id)
        await self.updates.replan(fresh, clock.after_reopen(self.settings, fresh, utcnow()))
        text = (
            f"{mention(actor)} reopened INC-{fresh.number}: {reason}\n"
            "Customer-update reminders run again."
        )
        await self.updates.say(client, fresh, text, what="the reopening note")
        await refresh_header(
            self.updates.outbox,
            client,
            await self.store.reload(incident.id),
            self.settings.severities,
            topic=True,
            in_order=True,
        )

    async def _unarchive(self, client: AsyncWebClient, incident: Incident) -> None:
        """First in the incident's lane: the note and header edits after it wait for it."""
        try:
            await self._on_channel(client, incident, "conversations.unarchive", "unarchiving")
        except SlackApiError as exc:
            if slack_error(exc) != "not_archived":
                raise UserError(
                    refusals.unarchive_failed(incident.number, slack_error(exc))
                ) from None
