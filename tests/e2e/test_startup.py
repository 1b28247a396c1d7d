"""Starting Amends: one clear line for bad configuration, recovery from a crashed declare."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.process import Runtime
from storage.db import migrate
from storage.models import utcnow
from storage.repository import IncidentStore, NewIncident
from tests.support.harness import make_settings

ROOT = Path(__file__).resolve().parents[2]


def run_amends(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve"],
        env={**clean, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_missing_and_malformed_settings_stop_start_up_with_one_line(tmp_path: Path) -> None:
    env = {"PYTHONPATH": str(ROOT)}
    missing = run_amends(env, tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [
        "amends: configuration error: SLACK_SIGNING_SECRET is not set: put it in the "
        "environment or in .env"
    ]
    env["SLACK_SIGNING_SECRET"] = "s"
    no_token = run_amends(env, tmp_path)
    assert no_token.stderr.strip().splitlines() == [
        "amends: configuration error: SLACK_BOT_TOKEN is not set: put it in the environment "
        "or in .env (or set SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_STATE_SECRET to "
        "install in many workspaces through OAuth)"
    ]
    env |= {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "PORT": "99999"}
    malformed = run_amends(env, tmp_path)
    assert malformed.returncode == 2
    lines = malformed.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("amends: configuration error: PORT")
    env |= {"PORT": "3000", "SLACK_BOT_TOKEN": "xoxp-user-token"}
    wrong = run_amends(env, tmp_path)
    assert "SLACK_BOT_TOKEN is malformed: must be a bot token starting with xoxb-" in wrong.stderr


def test_oauth_needs_all_three_settings_and_excludes_a_bot_token(tmp_path: Path) -> None:
    env = {"PYTHONPATH": str(ROOT), "SLACK_SIGNING_SECRET": "s", "SLACK_CLIENT_ID": "1.2"}
    partial = run_amends(env, tmp_path)
    assert partial.returncode == 2 and "SLACK_CLIENT_SECRET is not set" in partial.stderr
    env |= {"SLACK_CLIENT_SECRET": "cs", "SLACK_STATE_SECRET": "short"}
    weak = run_amends(env, tmp_path)
    assert "SLACK_STATE_SECRET is malformed" in weak.stderr
    env |= {"SLACK_STATE_SECRET": "a-long-random-state-secret", "SLACK_BOT_TOKEN": "xoxb-1"}
    both = run_amends(env, tmp_path)
    assert both.returncode == 2 and "are both set" in both.stderr
    for secret in ("cs", "a-long-random-state-secret", "xoxb-1"):
        assert secret not in both.stderr.replace("xoxb-", "")


async def test_a_declare_that_died_before_its_channel_is_swept(engine: AsyncEngine) -> None:
    await migrate(engine)
    store = IncidentStore(engine)
    dead = await store.create_pending(
        NewIncident(
            team_id="T1", title="Died", severity="SEV2", status="investigating", reporter_id="U1"
        )
    )
    await store._update(dead.id, created_at=utcnow() - timedelta(minutes=10))
    fresh = await store.create_pending(
        NewIncident(
            team_id="T1",
            title="In flight",
            severity="SEV2",
            status="investigating",
            reporter_id="U1",
        )
    )
    runtime = await Runtime.start(make_settings("http://127.0.0.1:9/api/"), engine)
    try:
        assert await store.get(dead.id) is None
        assert await store.get(fresh.id) is not None
    finally:
        await runtime.stop()
