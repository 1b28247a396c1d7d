"""The services a Bolt app needs, built once per app.

``Incident`` is re-exported so handlers can name the record they pass between services
without reaching into ``storage``.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.incidents.changes import IncidentService
from bot.incidents.closing import CloseService
from bot.incidents.customers import CustomerService
from bot.incidents.declare import HEADER_POSTED, DeclareFlow
from bot.incidents.home import HomeService
from bot.incidents.reminders import ReminderEngine
from bot.incidents.report import ReportService
from bot.incidents.updates import UpdateService
from bot.runtime.metrics import Metrics
from bot.settings import Settings
from bot.slack.calls import ClientFor
from bot.slack.event_deliveries import EventDeliveries
from bot.slack.outbox import Outbox
from bot.slack.workspaces import Departures
from bot.status_page.service import StatusService
from storage.closures import ClosureStore
from storage.customers import CustomerStore
from storage.home import HomeStore
from storage.models import Incident as Incident
from storage.outbox import OutboxStore, SeenEvents
from storage.reminders import ReminderStore
from storage.repository import IncidentStore
from storage.status import StatusStore
from storage.workspaces import WorkspaceWork


@dataclass(frozen=True)
class Services:
    settings: Settings
    store: IncidentStore
    reminders: ReminderStore
    engine: ReminderEngine
    updates: UpdateService
    declare: DeclareFlow
    incidents: IncidentService
    customers: CustomerService
    closing: CloseService
    reports: ReportService
    events: EventDeliveries
    departures: Departures
    status: StatusService
    home: HomeService

    @classmethod
    def build(
        cls, settings: Settings, store: IncidentStore, client_for: ClientFor, metrics: Metrics
    ) -> Services:
        reminders = ReminderStore(store.engine)
        customer_store = CustomerStore(store.engine)
        closures = ClosureStore(store.engine)
        parked = OutboxStore(store.engine)
        outbox = Outbox(parked, client_for, metrics, settings.outbox_retry_seconds)
        engine = ReminderEngine(
            settings, store, reminders, client_for, customer_store, metrics, outbox.lane_busy
        )
        updates = UpdateService(store, reminders, settings, engine.wake_at, outbox)
        customers = CustomerService(customer_store, settings, updates)
        reports = ReportService(store, customer_store, closures, settings, outbox)
        closing = CloseService(
            store,
            closures,
            customer_store,
            reminders,
            settings,
            updates,
            customers,
            reports,
            engine.wake_at,
        )
        declare = DeclareFlow(store, settings, updates)
        home = HomeService(HomeStore(store.engine), settings, outbox)
        updates.on_change(home.incident_changed)
        outbox.on_delivered(HEADER_POSTED, declare.header_posted)
        return cls(
            settings=settings,
            store=store,
            reminders=reminders,
            engine=engine,
            updates=updates,
            declare=declare,
            incidents=IncidentService(store, settings, updates),
            customers=customers,
            closing=closing,
            reports=reports,
            events=EventDeliveries(SeenEvents(store.engine)),
            departures=Departures(WorkspaceWork(store.engine)),
            status=StatusService(StatusStore(store.engine), settings, updates),
            home=home,
        )
