"""Playbook reviews: the list with review dates, marking one reviewed, and the weekly
reminder to the owner of a playbook past its ``review_by`` date.

The reminder is restart-safe and goes once a week across any number of replicas: each
sweep claims a playbook's reminder in the database (a conditional UPDATE of
``last_reminded_at``) before sending, and sends through the outbox, so a Slack outage
parks the DM instead of losing it. Only a team's own playbooks (PLAYBOOKS_DIR) are
reminded about: the shipped examples have a placeholder owner.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta

from bot.incidents.errors import UserError
from bot.playbooks.catalogue import Catalogue
from bot.playbooks.loader import Loaded
from bot.playbooks.model import Playbook
from bot.settings import Settings
from bot.slack.calls import ClientFor
from bot.slack.outbox import Outbox
from bot.slack.periodic import Periodic
from messages import refusals
from messages.playbooks import (
    PlaybookLine,
    review_reminder_blocks,
    review_reminder_text,
    reviewed_text,
)
from storage.models import PlaybookReview, utcnow
from storage.playbook_reviews import PlaybookReviewStore, review_key

log = logging.getLogger(__name__)

REMIND_EVERY = timedelta(days=7)
SWEEP_SECONDS = 3600.0
"""How often a process looks for playbooks whose weekly reminder is due."""


def review_due(playbook: Playbook, review: PlaybookReview | None, today: date) -> bool:
    """Past its ``review_by`` date and not reviewed for that date."""
    if playbook.review_by >= today:
        return False
    return review is None or review.reviewed_for != playbook.review_by


class ReviewService:
    def __init__(
        self,
        catalogue: Catalogue,
        store: PlaybookReviewStore,
        settings: Settings,
        outbox: Outbox,
        client_for: ClientFor,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.catalogue = catalogue
        self.store = store
        self.settings = settings
        self.outbox = outbox
        self.client_for = client_for
        self.clock = clock
        self._team_id: str | None = None
        self._loop = Periodic("playbook reviews", self.sweep, SWEEP_SECONDS)

    def start(self) -> None:
        if self.catalogue.own:
            self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def due_for(self, owner: str) -> list[Loaded]:
        """The owner's playbooks past their ``review_by`` and not reviewed for it (the
        shipped examples' placeholder owner is nobody's)."""
        if not self.catalogue.own:
            return []
        mine = [loaded for loaded in self.catalogue.loaded if loaded.playbook.owner == owner]
        reviews = await self.store.get_all([loaded.playbook.name for loaded in mine])
        today = self.clock().date()
        return [
            loaded
            for loaded in mine
            if review_due(loaded.playbook, reviews.get(review_key(loaded.playbook.name)), today)
        ]

    async def lines(self) -> list[PlaybookLine]:
        """Every playbook with its owner and where its review stands."""
        playbooks = self.catalogue.playbooks
        reviews = await self.store.get_all([p.name for p in playbooks])
        today = self.clock().date()
        lines = []
        for p in playbooks:
            review = reviews.get(review_key(p.name))
            reviewed = review is not None and review.reviewed_for == p.review_by
            lines.append(
                PlaybookLine(
                    name=p.name,
                    language=p.language,
                    severity=p.severity,
                    owner=p.owner,
                    review_by=p.review_by,
                    review_due=review_due(p, review, today),
                    reviewed_by=review.reviewed_by if review and reviewed else None,
                    reviewed_at=review.reviewed_at if review and reviewed else None,
                )
            )
        return lines

    async def mark_reviewed(self, name: str, user_id: str) -> str:
        """The owner (or an admin) says the playbook is reviewed: record who and when; the
        reminders for its current ``review_by`` date stop."""
        playbook = self.catalogue.find(name)
        if user_id != playbook.owner and user_id not in self.settings.admin_users:
            raise UserError(refusals.not_the_playbook_owner(playbook.name, playbook.owner))
        await self.store.mark_reviewed(playbook.name, playbook.review_by, user_id, self.clock())
        return reviewed_text(playbook.name, user_id, playbook.review_by)

    async def sweep(self) -> int:
        """Remind the owner of every playbook due for review whose weekly reminder nobody
        has claimed yet; the number of reminders this process claimed."""
        if not self.catalogue.own:
            return 0
        team_id = await self._workspace()
        if team_id is None:
            return 0
        now = self.clock()
        playbooks = self.catalogue.playbooks
        reviews = await self.store.get_all([p.name for p in playbooks])
        sent = 0
        for playbook in playbooks:
            if not review_due(playbook, reviews.get(review_key(playbook.name)), now.date()):
                continue
            if await self.store.claim_reminder(
                playbook.name, playbook.review_by, now, now - REMIND_EVERY
            ):
                await self._remind(team_id, playbook)
                sent += 1
        return sent

    async def _remind(self, team_id: str, playbook: Playbook) -> None:
        client = await self.client_for(team_id)
        await self.outbox.call(
            client,
            team_id,
            "chat.postMessage",
            what=f"the review reminder for the playbook “{playbook.name}”",
            channel=playbook.owner,
            text=review_reminder_text(playbook.name, playbook.review_by),
            blocks=review_reminder_blocks(playbook.name, playbook.review_by),
        )

    async def _workspace(self) -> str | None:
        """The workspace the owners are in: the one SLACK_BOT_TOKEN belongs to. Under
        OAuth a folder of playbooks belongs to no single workspace, so none is reminded."""
        if self._team_id is None:
            if self.settings.oauth:
                log.warning("playbook review reminders need SLACK_BOT_TOKEN (one workspace)")
                return None
            client = await self.client_for("")
            self._team_id = str((await client.auth_test())["team_id"])
        return self._team_id
