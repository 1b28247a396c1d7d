"""The customer directory: customers kept across incidents, one row per name and workspace."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from storage.customers import name_key
from storage.models import DirectoryCustomer, utcnow

NAMES_SHOWN = 5000
"""At most this many names are read to suggest a close match for a mistyped one."""


@dataclass(frozen=True)
class Entry:
    """One customer as a CSV row or the edit form gives it."""

    name: str
    tier: str = ""
    language: str = ""
    slack_channel: str = ""
    emails: tuple[str, ...] = ()
    contact: str = ""

    def values(self) -> dict[str, object]:
        return {
            "name": self.name,
            "name_key": name_key(self.name),
            "tier": self.tier,
            "language": self.language,
            "slack_channel": self.slack_channel,
            "emails": " ".join(self.emails),
            "contact": self.contact,
        }


@dataclass(frozen=True)
class Imported:
    created: int
    updated: int


class NameTaken(Exception):
    """Renaming a customer to a name another customer of the workspace has."""


class DirectoryStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._dialect = engine.dialect.name

    async def import_entries(self, team_id: str, entries: Sequence[Entry]) -> Imported:
        """Create or update (by name, case-insensitively) every entry, in one transaction."""
        if not entries:
            return Imported(0, 0)
        now = utcnow()
        rows = [
            {**e.values(), "team_id": team_id, "created_at": now, "updated_at": now}
            for e in entries
        ]
        insert = pg_insert if self._dialect == "postgresql" else sqlite_insert
        statement = insert(DirectoryCustomer)
        changed = {key: statement.excluded[key] for key in Entry("").values()}
        statement = statement.on_conflict_do_update(
            index_elements=["team_id", "name_key"],
            set_={**changed, "updated_at": statement.excluded.updated_at},
        )
        keys = [str(row["name_key"]) for row in rows]
        async with self._sessions.begin() as session:
            existing = set(
                await session.scalars(
                    select(DirectoryCustomer.name_key).where(
                        DirectoryCustomer.team_id == team_id, DirectoryCustomer.name_key.in_(keys)
                    )
                )
            )
            await session.execute(statement, rows)
        return Imported(created=len(rows) - len(existing), updated=len(existing))

    async def find(self, team_id: str, name: str) -> DirectoryCustomer | None:
        async with self._sessions() as session:
            return await session.scalar(
                select(DirectoryCustomer).where(
                    DirectoryCustomer.team_id == team_id,
                    DirectoryCustomer.name_key == name_key(name),
                )
            )

    async def get(self, team_id: str, customer_id: int) -> DirectoryCustomer | None:
        async with self._sessions() as session:
            return await session.scalar(
                select(DirectoryCustomer).where(
                    DirectoryCustomer.team_id == team_id, DirectoryCustomer.id == customer_id
                )
            )

    async def names(self, team_id: str) -> list[str]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(DirectoryCustomer.name)
                .where(DirectoryCustomer.team_id == team_id)
                .order_by(DirectoryCustomer.name_key)
                .limit(NAMES_SHOWN)
            )
            return list(rows)

    async def update(self, team_id: str, customer_id: int, entry: Entry) -> bool:
        """Save the edit form; False if the customer is gone. A name another customer
        already has raises :class:`NameTaken`."""
        try:
            async with self._sessions.begin() as session:
                row = await session.scalar(
                    select(DirectoryCustomer).where(
                        DirectoryCustomer.team_id == team_id, DirectoryCustomer.id == customer_id
                    )
                )
                if row is None:
                    return False
                for key, value in entry.values().items():
                    setattr(row, key, value)
            return True
        except IntegrityError:
            raise NameTaken(entry.name) from None
