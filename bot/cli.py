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
from importlib.resources.abc import Traversable
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
    sandbox.add_argument(
        "--playbook",
        metavar="NAME",
        help="rehearse this playbook's scenario with its templates, in its language",
    )
    sandbox.add_argument(
        "--list-playbooks", action="store_true", help="list the playbooks --playbook can rehearse"
    )
    playbooks = sub.add_parser("playbooks", help="work with the playbooks (PLAYBOOKS_DIR)")
    action = playbooks.add_subparsers(dest="action", required=True)
    check = action.add_parser(
        "check", help="validate every playbook and tone-check its templates; exit 1 on findings"
    )
    check.add_argument(
        "directory", nargs="?", help="defaults to PLAYBOOKS_DIR, else the shipped examples"
    )
    customers = sub.add_parser("customers", help="the customer directory")
    customers_action = customers.add_subparsers(dest="action", required=True)
    importing = customers_action.add_parser(
        "import",
        help="load or update customers from a CSV file "
        "(header: name,tier,language,slack_channel,email,contact); exit 1 on a bad line",
    )
    importing.add_argument("file", type=Path)
    importing.add_argument(
        "--team", default=None, help="the workspace (T…); defaults to SLACK_BOT_TOKEN's"
    )
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve()
    if args.command == "healthcheck":
        return healthcheck(int(os.environ.get("PORT") or 3000))
    if args.command == "playbooks":
        return _check_playbooks(args.directory)
    if args.command == "customers":
        return _import_customers(args.file, args.team)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    try:
        return _sandbox(args.playbook, args.list_playbooks, args.database_url)
    except ConfigError as exc:
        print(f"amends: configuration error: {exc}", file=sys.stderr)
        return 2


def _sandbox(playbook_name: str | None, list_only: bool, database_url: str | None) -> int:
    """The scripted incident, or a playbook's scenario; an unknown playbook exits 2 with the
    list of those there are."""
    if not list_only and playbook_name is None:
        from bot.sandbox.rehearsal.script import run_rehearsal

        return asyncio.run(run_rehearsal(database_url=database_url))
    from bot.incidents.errors import UserError
    from bot.playbooks.catalogue import Catalogue
    from bot.playbooks.loader import PlaybookError, load_playbooks
    from bot.sandbox.rehearsal.playbook import playbook_lines, run_playbook_rehearsal

    directory, severities, fallback = _playbook_source()
    try:
        loaded = load_playbooks(directory, severities, fallback_severity=fallback)
    except PlaybookError as exc:
        print(f"amends: {exc}", file=sys.stderr)
        return 2
    catalogue = Catalogue(loaded, own=fallback is None)
    if list_only:
        print("\n".join(playbook_lines(catalogue)))
        return 0
    try:
        playbook = catalogue.find(str(playbook_name))
    except UserError:
        print(f"amends: there is no playbook “{playbook_name}”. The playbooks:", file=sys.stderr)
        print("\n".join(f"  {line}" for line in playbook_lines(catalogue)), file=sys.stderr)
        return 2
    return asyncio.run(run_playbook_rehearsal(playbook, database_url=database_url))


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
    """No Slack settings are needed, so this runs in any CI."""
    from bot.playbooks.check import check_directory

    try:
        chosen, severities, fallback = _playbook_source(directory)
    except ConfigError as exc:
        print(f"amends: configuration error: {exc}", file=sys.stderr)
        return 2
    return check_directory(chosen, severities, fallback_severity=fallback)


def _playbook_source(
    directory: str | None = None,
) -> tuple[Traversable, tuple[str, ...], str | None]:
    """Where the playbooks are (``directory``, else PLAYBOOKS_DIR, else the shipped
    examples), the severities they may use (CUSTOMER_UPDATE_CADENCE in the environment,
    else the defaults) and, for the examples only, the severity that stands in for one not
    configured."""
    from bot.playbooks.loader import SHIPPED

    try:
        severities = tuple(
            parse_cadence(os.environ.get("CUSTOMER_UPDATE_CADENCE") or DEFAULT_CADENCE)
        )
    except ValueError as exc:
        raise ConfigError(f"CUSTOMER_UPDATE_CADENCE is malformed: {exc}") from None
    chosen = directory or os.environ.get("PLAYBOOKS_DIR", "").strip()
    if chosen:
        return Path(chosen), severities, None
    default = (
        os.environ.get("DEFAULT_SEVERITY") or Settings.model_fields["default_severity"].default
    )
    return SHIPPED, severities, default


def _import_customers(path: Path, team: str | None) -> int:
    from bot.customers.importing import DirectoryImportError, import_file, report

    try:
        print(asyncio.run(import_file(path, team)))
    except DirectoryImportError as exc:
        return report(exc)
    return 0


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
