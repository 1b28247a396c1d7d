"""``amends customers import FILE.csv``: load or update the directory from a file.

It needs only the database (``DATABASE_URL``), the tiers (``CUSTOMER_TIERS``) and the
workspace: ``--team``, or the one ``SLACK_BOT_TOKEN`` belongs to (asked of Slack).
The whole file is checked before anything is written, so a bad line changes nothing.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.customers.directory import FileError, import_summary, parse_csv
from bot.settings import (
    DEFAULT_DATABASE_URL,
    DEFAULT_SLACK_API_URL,
    DEFAULT_TIERS,
    normalise_database_url,
    parse_tiers,
)
from storage.db import create_engine, migrate
from storage.directory import DirectoryStore


class DirectoryImportError(Exception):
    """Why the import could not run, in one line."""


def team_of_token() -> str:
    token = os.environ.get("SLACK_BOT_TOKEN", "").strip()
    if not token:
        raise DirectoryImportError(
            "name the workspace with --team T0123ABCD, or set SLACK_BOT_TOKEN to ask Slack"
        )
    url = os.environ.get("SLACK_API_URL", "").strip() or DEFAULT_SLACK_API_URL
    try:
        answer = WebClient(
            token=token, base_url=url if url.endswith("/") else url + "/"
        ).auth_test()
    except SlackApiError as exc:
        raise DirectoryImportError(
            f"Slack did not say which workspace the token is for: {exc}"
        ) from None
    return str(answer["team_id"])


async def import_file(path: Path, team: str | None) -> str:
    """Check the whole file, then write it in one transaction; the summary line."""
    try:
        tiers = parse_tiers(os.environ.get("CUSTOMER_TIERS") or DEFAULT_TIERS)
        url = normalise_database_url(os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
    except ValueError as exc:
        raise DirectoryImportError(f"configuration error: {exc}") from None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DirectoryImportError(f"{path}: cannot read it: {exc}") from None
    try:
        entries = parse_csv(text, tiers)
    except FileError as exc:
        raise DirectoryImportError(f"{path}: {exc}") from None
    team_id = team or team_of_token()
    engine = create_engine(url)
    try:
        await migrate(engine)
        imported = await DirectoryStore(engine).import_entries(team_id, entries)
    finally:
        await engine.dispose()
    return import_summary(imported)


def report(error: DirectoryImportError) -> int:
    print(f"amends: {error}", file=sys.stderr)
    return 1
