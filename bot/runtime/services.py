"""The services a Bolt app needs, built once per app.

``Incident`` is re-exported so handlers can name the record they pass between services
without reaching into ``storage``.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.customers.clock import ContactClock
from bot.customers.delivery import Reach
from bot.customers.directory import Directory
from bot.customers.email import Mailer
from bot.incidents.changes import IncidentService
from bot.incidents.closing import CloseService
from bot.incidents.customers import CustomerService
from bot.incidents.declare import HEADER_POSTED, DeclareFlow
from bot.incidents.home import HomeService
from bot.incidents.reminder_engine import ReminderEngine
from bot.incidents.report import ReportService
from bot.incidents.updates import UpdateService
from bot.observability.metrics import Metrics
from bot.playbooks.apply import PlaybookService
from bot.playbooks.catalogue import Catalogue
from bot.playbooks.drills import DrillService
from bot.playbooks.reviews import ReviewService
from bot.settings import Settings
from bot.slack.calls import ClientFor
from bot.slack.event_deliveries import EventDeliveries
from bot.slack.outbox import Outbox
from bot.slack.workspaces import Departures
from bot.status_page.service import StatusService
from storage.closures import ClosureStore
from storage.customers import CustomerStore
from storage.directory import DirectoryStore
from storage.figures import FigureStore
from storage.home import HomeStore
from storage.models import Incident as Incident
from storage.outbox import OutboxStore, SeenEvents
from storage.playbook_reviews import PlaybookReviewStore
from storage.playbooks import PlaybookStore
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
    drills: DrillService
    reviews: ReviewService
    directory: Directory
    reach: Reach
    playbooks: PlaybookService
    status: StatusService
    home: HomeService

    @classmethod
    def build(
        cls, settings: Settings, store: IncidentStore, client_for: ClientFor, metrics: Metrics
    ) -> Services:
        reminders = ReminderStore(store.engine)
        customer_store = CustomerStore(store.engine, settings.customer_tiers)
        closures = ClosureStore(store.engine)
        parked = OutboxStore(store.engine)
        outbox = Outbox(parked, client_for, metrics, settings.outbox_retry_seconds)
        engine = ReminderEngine(
            settings, store, reminders, client_for, customer_store, metrics, outbox.lane_busy
        )
        catalogue = Catalogue.configured(settings)
        updates = UpdateService(store, reminders, settings, engine.wake_at, outbox, catalogue)
        clock = ContactClock(customer_store, reminders, settings, engine.wake_at)
        customers = CustomerService(customer_store, settings, updates, clock)
        reports = ReportService(store, FigureStore(store.engine), settings, outbox)
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
        declare = DeclareFlow(store, settings, updates, clock)
        mailer = Mailer(settings.smtp_url, metrics) if settings.smtp_url else None
        status_store = StatusStore(store.engine)
        reach = Reach(customer_store, outbox, client_for, settings, mailer, status_store.link_for)
        updates.reach = reach
        reviews = ReviewService(
            catalogue, PlaybookReviewStore(store.engine), settings, outbox, client_for
        )
        home = HomeService(HomeStore(store.engine), settings, outbox, reviews.due_for)
        updates.on_change(home.incident_changed)
        outbox.on_delivered(HEADER_POSTED, declare.header_posted)
        playbooks = PlaybookService(catalogue, PlaybookStore(store.engine), settings, updates)
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
            drills=DrillService(catalogue, declare, playbooks),
            reviews=reviews,
            directory=Directory(DirectoryStore(store.engine), settings.customer_tiers),
            reach=reach,
            playbooks=playbooks,
            status=StatusService(status_store, settings, updates, customer_store),
            home=home,
        )
