"""The ``amends`` command: ``serve`` runs the bot, ``sandbox`` rehearses without Slack."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import urllib.error
import urllib.request

from bot import logs
from bot.settings import ConfigError, load_settings
from bot.web import HEALTH_PATH

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
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve()
    if args.command == "healthcheck":
        return healthcheck(int(os.environ.get("PORT") or 3000))
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    from bot.sandbox.rehearsal import run_rehearsal

    return asyncio.run(run_rehearsal(database_url=args.database_url))


def _serve() -> int:
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"amends: configuration error: {exc}", file=sys.stderr)
        return 2
    logs.configure(settings.log_format, settings.log_level, settings.secrets)
    from bot.serve import serve

    asyncio.run(serve(settings))
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
