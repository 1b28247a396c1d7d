"""Playbook reviews: who marked a playbook reviewed, and the weekly reminder's claim.

Rows are keyed by the playbook's name folded to lower case (the loader treats names that
differ only in case as the same playbook).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from storage.models import PlaybookReview


def review_key(name: str) -> str:
    return name.casefold()


class PlaybookReviewStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def get_all(self, names: Collection[str]) -> dict[str, PlaybookReview]:
        """The stored reviews of ``names``, by key (a playbook never reviewed has none)."""
        keys = [review_key(name) for name in names]
        if not keys:
            return {}
        async with self._sessions() as session:
            rows = await session.scalars(
                select(PlaybookReview).where(PlaybookReview.name.in_(keys))
            )
            return {row.name: row for row in rows}

    async def mark_reviewed(self, name: str, review_by: date, user_id: str, at: datetime) -> None:
        """Record that ``user_id`` reviewed the playbook due on ``review_by``."""
        await self._ensure(name)
        async with self._sessions.begin() as session:
            await session.execute(
                update(PlaybookReview)
                .where(PlaybookReview.name == review_key(name))
                .values(reviewed_for=review_by, reviewed_at=at, reviewed_by=user_id)
            )

    async def claim_reminder(
        self, name: str, review_by: date, now: datetime, reminded_before: datetime
    ) -> bool:
        """Claim this week's reminder: move ``last_reminded_at`` to ``now`` only if it is
        empty or older than ``reminded_before`` and the playbook is not reviewed for
        ``review_by``. One conditional UPDATE, so of any number of replicas sweeping at
        once exactly one gets True."""
        await self._ensure(name)
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(PlaybookReview)
                .where(
                    PlaybookReview.name == review_key(name),
                    or_(
                        PlaybookReview.last_reminded_at.is_(None),
                        PlaybookReview.last_reminded_at < reminded_before,
                    ),
                    or_(
                        PlaybookReview.reviewed_for.is_(None),
                        PlaybookReview.reviewed_for != review_by,
                    ),
                )
                .values(last_reminded_at=now)
            )
            return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]

    async def _ensure(self, name: str) -> None:
        """The playbook's row, created on first use (a concurrent creator wins quietly)."""
        key = review_key(name)
        async with self._sessions() as session:
            if await session.get(PlaybookReview, key) is not None:
                return
        try:
            async with self._sessions.begin() as session:
                session.add(PlaybookReview(name=key))
        except IntegrityError:
            pass
