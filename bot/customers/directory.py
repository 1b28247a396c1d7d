"""The customer directory's rules: what a valid entry is, the CSV file that loads it, and
showing and editing one customer from Slack.

The same checks serve the CSV import and the edit form, so a customer cannot be saved one
way that the other would refuse.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from bot.incidents.errors import UserError
from messages import refusals
from messages.limits import CUSTOMER_NAME_MAX
from storage.directory import DirectoryStore, Entry, Imported, NameTaken
from storage.models import DirectoryCustomer

CSV_HEADER = ("name", "tier", "language", "slack_channel", "email", "contact")
CONTACT_MAX = 200
LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?")
CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,30}")
EMAIL = re.compile(r"[^@\s<>\",;]+@[^@\s<>\",;]+\.[^@\s<>\",;]+")
_EMAIL_SEPARATORS = re.compile(r"[\s,;]+")


class EntryError(ValueError):
    """What is wrong with one field, in words (the field is named by ``field``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class FileError(ValueError):
    """What is wrong with a directory file, naming the line."""


def check_entry(
    tiers: Mapping[str, timedelta],
    *,
    name: str,
    tier: str = "",
    language: str = "",
    slack_channel: str = "",
    emails: str = "",
    contact: str = "",
) -> Entry:
    """One customer as typed (CSV cells or form fields), checked and tidied."""
    name = " ".join(name.split())
    if not name:
        raise EntryError("name", "the name is empty")
    if len(name) > CUSTOMER_NAME_MAX:
        raise EntryError("name", f"the name is over {CUSTOMER_NAME_MAX} characters")
    tier = tier.strip().lower()
    if tier and tier not in tiers:
        known = ", ".join(tiers)
        raise EntryError("tier", f"tier “{tier}” is not one of {known} (CUSTOMER_TIERS)")
    language = language.strip().lower()
    if language and not LANGUAGE.fullmatch(language):
        raise EntryError("language", f"“{language}” is not a language code like en, cs or pt-br")
    slack_channel = slack_channel.strip().lstrip("#")
    if slack_channel and not CHANNEL_ID.fullmatch(slack_channel):
        raise EntryError("slack_channel", f"“{slack_channel}” is not a channel ID like C0123ABCD")
    addresses = tuple(a for a in _EMAIL_SEPARATORS.split(emails.strip()) if a)
    bad = next((a for a in addresses if not EMAIL.fullmatch(a)), None)
    if bad is not None:
        raise EntryError("email", f"“{bad}” is not an e-mail address")
    contact = " ".join(contact.split())
    if len(contact) > CONTACT_MAX:
        raise EntryError("contact", f"the contact is over {CONTACT_MAX} characters")
    return Entry(name, tier, language, slack_channel, tuple(dict.fromkeys(addresses)), contact)


def parse_csv(text: str, tiers: Mapping[str, timedelta]) -> list[Entry]:
    """The entries of a directory file; :class:`FileError` naming the first bad line."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    wanted = ",".join(CSV_HEADER)
    if header is None or tuple(h.strip().lower() for h in header) != CSV_HEADER:
        raise FileError(f"line 1: the header must be {wanted}")
    entries: list[Entry] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(CSV_HEADER):
            raise FileError(
                f"line {line}: {len(row)} fields, expected {len(CSV_HEADER)} ({wanted})"
            )
        name, tier, language, channel, email, contact = row
        try:
            entry = check_entry(
                tiers,
                name=name,
                tier=tier,
                language=language,
                slack_channel=channel,
                emails=email,
                contact=contact,
            )
        except EntryError as exc:
            raise FileError(f"line {line}: {exc.message}") from None
        key = entry.name.casefold()
        if key in seen:
            raise FileError(f"line {line}: “{entry.name}” is already on line {seen[key]}")
        seen[key] = line
        entries.append(entry)
    return entries


def emails_of(customer: DirectoryCustomer) -> tuple[str, ...]:
    return tuple(customer.emails.split())


def import_summary(imported: Imported) -> str:
    total = imported.created + imported.updated
    return f"Imported {total} customers: {imported.created} new, {imported.updated} updated."


@dataclass(frozen=True)
class Directory:
    """Finding, showing and editing customers of a workspace's directory."""

    store: DirectoryStore
    tiers: Mapping[str, timedelta]

    async def find(self, team_id: str, name: str) -> DirectoryCustomer:
        """The customer by name, or a UserError with the closest names to try."""
        name = " ".join(name.split())
        if not name:
            raise UserError(refusals.directory_usage())
        found = await self.store.find(team_id, name)
        if found is not None:
            return found
        names = await self.store.names(team_id)
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        raise UserError(refusals.not_in_directory(name, close[0] if close else None))

    async def save(self, team_id: str, customer_id: int, entry: Entry) -> None:
        try:
            saved = await self.store.update(team_id, customer_id, entry)
        except NameTaken:
            raise EntryError("name", f"another customer is already called “{entry.name}”") from None
        if not saved:
            raise UserError(refusals.directory_customer_gone())

    async def import_csv(self, team_id: str, text: str) -> Imported:
        return await self.store.import_entries(team_id, parse_csv(text, self.tiers))
