"""Loading the customer directory in end-to-end tests."""

from __future__ import annotations

from storage.directory import Imported
from tests.support.harness import TEAM, Harness

HEADER = "name,tier,language,slack_channel,email,contact\n"


async def load_directory(h: Harness, rows: str) -> Imported:
    """Import ``rows`` (CSV lines after the header) into the workspace's directory."""
    return await h.runtime.services.directory.import_csv(TEAM, HEADER + rows)
