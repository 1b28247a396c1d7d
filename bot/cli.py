"""The ``amends`` command: ``serve`` runs the bot, ``sandbox`` rehearses without Slack,
``playbooks check`` checks the playbooks (and their customer templates' tone)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

from bot.observability import logs
from bot.runtime.web import HEALTH_PATH
from bot.settings import DEFAULT_CADENCE, ConfigError, Settings, load_settings, parse_cadence

HEALTHCHECK_TIMEOUT = 4.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="amends", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser(
        "serve", help="run the bot against Slack (HTTP, or Socket Mode with an app token)"
    )
    sub.add_parser(
        "healthcheck", help="exit 0 when the bot on PORT reports healthy (Docker HEALTHCHECK)"
    )
    sandbox = sub.add_parser("sandbox", help="run a whole incident locally, no Slack workspace")
    sandbox.add_argument(
        "--script", action="store_true", help="play the scripted incident and exit (the default)"
    )
    sandbox.add_argument("--database-url", default=None, help="defaults to a temporary SQLite file")
    playbooks = sub.add_parser("playbooks", help="work with the playbooks (PLAYBOOKS_DIR)")
    action = playbooks.add_subparsers(dest="action", required=True)
    check = action.add_parser(
        "check", help="validate every playbook and tone-check its templates; exit 1 on findings"
    )
    check.add_argument(
        "directory", nargs="?", help="defaults to PLAYBOOKS_DIR, else the shipped examples"
    )
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve()
    if args.command == "healthcheck":
        return healthcheck(int(os.environ.get("PORT") or 3000))
    if args.command == "playbooks":
        return _check_playbooks(args.directory)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    from bot.sandbox.rehearsal.script import run_rehearsal

    try:
        return asyncio.run(run_rehearsal(database_url=args.database_url))
    except ConfigError as exc:
        print(f"amends: configuration error: {exc}", file=sys.stderr)
        return 2


def _serve() -> int:
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"amends: configuration error: {exc}", file=sys.stderr)
        return 2
    logs.configure(settings.log_format, settings.log_level, settings.secrets)
    from bot.runtime.serve import serve

    asyncio.run(serve(settings))
    return 0


def _check_playbooks(directory: str | None) -> int:
    """Severities come from CUSTOMER_UPDATE_CADENCE in the environment, else the defaults;
    no Slack settings are needed, so this runs in any CI."""
    from bot.playbooks.check import check_directory
    from bot.playbooks.loader import SHIPPED

    try:
        severities = tuple(
            parse_cadence(os.environ.get("CUSTOMER_UPDATE_CADENCE") or DEFAULT_CADENCE)
        )
    except ValueError as exc:
        print(
            f"amends: configuration error: CUSTOMER_UPDATE_CADENCE is malformed: {exc}",
            file=sys.stderr,
        )
        return 2
    chosen = directory or os.environ.get("PLAYBOOKS_DIR", "").strip()
    if chosen:
        return check_directory(Path(chosen), severities)
    default = (
        os.environ.get("DEFAULT_SEVERITY") or Settings.model_fields["default_severity"].default
    )
    return check_directory(SHIPPED, severities, fallback_severity=default)


def healthcheck(port: int) -> int:
    """Ask the running bot's ``/healthz``; print its answer; 0 when healthy."""
    url = f"http://127.0.0.1:{port}{HEALTH_PATH}"
    try:
        with urllib.request.urlopen(url, timeout=HEALTHCHECK_TIMEOUT) as response:
            print(response.read().decode())
            return 0
    except urllib.error.HTTPError as exc:
        print(exc.read().decode(), file=sys.stderr)
    except OSError as exc:
        print(f"amends: no answer from {url}: {exc}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
