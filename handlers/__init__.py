"""Thin Bolt listeners, grouped by Slack surface; ``register`` wires them all."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.runtime.services import Services
from handlers import (
    actions,
    closing,
    customers,
    declare_form,
    directory,
    events,
    home,
    middleware,
    playbooks,
    reminders,
    subcommands,
    views,
)
from handlers.errors import handle_error


def register(app: AsyncApp, services: Services) -> None:
    middleware.register(app, services)
    subcommands.register(app, services)
    actions.register(app, services)
    reminders.register(app, services)
    views.register(app, services)
    declare_form.register(app, services)
    customers.register(app, services)
    directory.register(app, services)
    closing.register(app, services)
    playbooks.register(app, services)
    events.register(app, services)
    home.register(app, services)
    app.error(handle_error)
