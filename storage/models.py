"""SQLAlchemy models. Times are stored as timezone-aware UTC."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from enum import StrEnum

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy import true as sa_true
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, query_expression, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """A DateTime that always comes back timezone-aware in UTC (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use UTC-aware ones")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Status(StrEnum):
    """Where an incident stands. The lifecycle rules (transitions, which statuses are
    active) are in ``bot/incidents/policy.py``."""

    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"
    CLOSED = "closed"


class StatusColumn(TypeDecorator[Status]):
    """A ``Status`` stored as its plain string (the column stays ``VARCHAR(20)``)."""

    impl = String(20)
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: object) -> str | None:
        return None if value is None else Status(value).value

    def process_result_value(self, value: str | None, dialect: object) -> Status | None:
        return None if value is None else Status(value)


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_public_id() -> str:
    """An incident's id on the public status page: random, so the pages cannot be walked
    by counting (the sequential number would also tell how many incidents there were)."""
    return secrets.token_urlsafe(9)


class Base(DeclarativeBase):
    pass


class Incident(Base):
    """One incident in one workspace; ``number`` counts per workspace."""

    __tablename__ = "incidents"
    __table_args__ = (
        UniqueConstraint("team_id", "number", name="uq_incidents_team_number"),
        Index("ix_incidents_team_channel", "team_id", "channel_id"),
        Index("ix_incidents_team_status", "team_id", "status"),
        Index("ix_incidents_public_id", "public_id", unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(20))
    status: Mapped[Status] = mapped_column(StatusColumn())
    description: Mapped[str] = mapped_column(Text, default="")
    customer_impact: Mapped[bool] = mapped_column(Boolean, default=False)
    impact_text: Mapped[str] = mapped_column(Text, default="")
    reporter_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    channel_name: Mapped[str | None] = mapped_column(String(80), nullable=True)
    header_ts: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    next_update_due: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_update_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    all_contacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """When the last affected customer was confirmed contacted; cleared when one is added.
    Setting it only while it is empty is how one confirmation, of any number at once,
    counts the “everyone contacted” touchpoint."""
    drill: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    """A rehearsal: marked everywhere, never sent to customers, left out of the figures."""
    playbook: Mapped[str | None] = mapped_column(String(100), nullable=True)
    """The name of the playbook it was declared from, if any."""
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    """The language customer messages are drafted in (a playbook's, or set by hand)."""
    cadence_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The applied playbook's update cadence; empty, the severity's cadence holds."""
    public_title: Mapped[str | None] = mapped_column(String(200), nullable=True)
    """The title customers read (asked for at the first customer update); the internal
    ``title`` never leaves Slack."""
    public: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    """Shown on the public status page (``/incident public off`` keeps it off)."""
    public_id: Mapped[str | None] = mapped_column(String(32), default=new_public_id)
    """Every incident has one (migration 0008 gave the older ones theirs); nullable only
    because SQLite cannot add a required column to a table others point at."""

    roles: Mapped[list[RoleAssignment]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", lazy="selectin"
    )
    customers: Mapped[list[AffectedCustomer]] = relationship(
        back_populates="incident",
        cascade="all, delete-orphan",
        lazy="raise",
        order_by="AffectedCustomer.position",
    )
    """Every affected customer: never loaded with the incident (an incident may have
    thousands); ``storage.customers`` counts and pages them."""
    first_customers: Mapped[list[AffectedCustomer]] = relationship(
        viewonly=True, lazy="raise", order_by="AffectedCustomer.position"
    )
    """The first few customers only, as the header names them: filled in by the
    repository's loads (``IncidentStore.get`` and the like), never loaded whole."""
    customer_count: Mapped[int | None] = query_expression()
    """How many customers it affects, where a load asked for it; None otherwise."""
    closure: Mapped[Closure | None] = relationship(
        back_populates="incident", cascade="all, delete-orphan", lazy="selectin", uselist=False
    )


class RoleAssignment(Base):
    __tablename__ = "incident_roles"
    __table_args__ = (UniqueConstraint("incident_id", "role", name="uq_incident_roles_role"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[str] = mapped_column(String(32))
    assigned_by: Mapped[str] = mapped_column(String(32))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    incident: Mapped[Incident] = relationship(back_populates="roles")


NOT_CONTACTED, CONTACTED, FOLLOWED_UP = "not_contacted", "contacted", "followed_up"
"""A customer's contact state, in the order it moves."""


class AffectedCustomer(Base):
    __tablename__ = "affected_customers"
    __table_args__ = (
        UniqueConstraint("incident_id", "name_key", name="uq_customers_name"),
        Index("ix_customers_incident_position", "incident_id", "position", "contact_state"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200))
    contact_state: Mapped[str] = mapped_column(String(20), default=NOT_CONTACTED)
    added_by: Mapped[str] = mapped_column(String(32))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    contacted_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    contacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    followed_up_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    followed_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    answer: Mapped[str | None] = mapped_column(String(20), nullable=True)
    directory_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), nullable=True
    )
    """The customer in the directory with this name (matched case-insensitively when added)."""
    contacted_via: Mapped[str | None] = mapped_column(String(20), nullable=True)
    """How the first contact was made: ``slack`` or ``email`` (sent by Amends), or ``manual``."""
    contact_ref: Mapped[str | None] = mapped_column(Text, nullable=True)
    """The permalink of the Slack message, or the Message-ID of the e-mail."""
    contact_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """When the customer's tier says they must have been contacted (``CUSTOMER_TIERS``)."""
    clock_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """When the comms owner was reminded that this customer's contact clock ran out."""
    channel_lost_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """When the customer's Slack channel refused the bot (removed, archived, gone): the
    comms owner was told once, and updates stop going there for this incident."""
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    """The customer's own language; empty, the incident's language is used."""

    incident: Mapped[Incident] = relationship(back_populates="customers")


class DirectoryCustomer(Base):
    """A customer kept across incidents: who they are and how to reach them directly."""

    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("team_id", "name_key", name="uq_directory_name"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200))
    tier: Mapped[str] = mapped_column(String(40), default="")
    language: Mapped[str] = mapped_column(String(16), default="")
    slack_channel: Mapped[str] = mapped_column(String(32), default="")
    emails: Mapped[str] = mapped_column(Text, default="")
    """Addresses separated by spaces."""
    contact: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Closure(Base):
    """What the close recorded: the why, the fix, the amends, and who follows up by when."""

    __tablename__ = "incident_closures"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), unique=True
    )
    root_cause: Mapped[str] = mapped_column(Text)
    resolution: Mapped[str] = mapped_column(Text, default="")
    impact_summary: Mapped[str] = mapped_column(Text, default="")
    amends: Mapped[str] = mapped_column(Text, default="")
    prevention: Mapped[str] = mapped_column(Text, default="")
    follow_up_owner: Mapped[str] = mapped_column(String(32))
    follow_up_due: Mapped[date] = mapped_column(Date)
    resolved_by: Mapped[str] = mapped_column(String(32))
    resolved_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    incident: Mapped[Incident] = relationship(back_populates="closure")


class PlaybookStep(Base):
    """One step of the playbook applied to an incident, and who ticked it off when."""

    __tablename__ = "playbook_steps"
    __table_args__ = (
        UniqueConstraint("incident_id", "position", name="uq_playbook_steps_position"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    done_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class TimelineEvent(Base):
    """Who did what, when — the incident's memory."""

    __tablename__ = "timeline_events"
    __table_args__ = (Index("ix_timeline_incident_at", "incident_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")

    @classmethod
    def now(cls, incident_id: int, actor_id: str, kind: str, detail: str = "") -> TimelineEvent:
        """An entry for what ``actor_id`` did just now."""
        return cls(
            incident_id=incident_id, actor_id=actor_id, kind=kind, detail=detail, at=utcnow()
        )


class CustomerUpdate(Base):
    """An update the customers received: what was said, by whom, and what the tone check saw."""

    __tablename__ = "customer_updates"
    __table_args__ = (
        Index("ix_updates_incident_at", "incident_id", "posted_at"),
        UniqueConstraint("incident_id", "number", name="uq_customer_updates_number"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    """“Customer update #n”: counts per incident from 1, never twice the same."""
    author_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(20), default="update")
    text: Mapped[str] = mapped_column(Text)
    findings: Mapped[str] = mapped_column(Text, default="")
    posted_anyway: Mapped[bool] = mapped_column(Boolean, default=False)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Reminder(Base):
    """The database is the source of truth for reminders; the scheduler only wakes us.

    One row per incident and kind, moved forward in place: ``seq`` counts deliveries and
    changes, so a stale button cannot act twice. Each claim writes a ``claim_token`` of its
    own, and every write of a claim is fenced by it, so a claim that was taken over cannot
    act at all. ``posted_ts`` and ``dm_at`` record how far the delivery of the current
    version got (its message, its direct message), so a later claim finishes it instead of
    repeating it; they, and ``first_claimed_at``, are cleared whenever ``seq`` moves.
    """

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("incident_id", "kind", name="uq_reminders_incident_kind"),
        Index("ix_reminders_state_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    team_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(20))
    stage: Mapped[str] = mapped_column(String(20), default="due")
    state: Mapped[str] = mapped_column(String(20), default="pending")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    seq: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    message_channel: Mapped[str | None] = mapped_column(String(32), nullable=True)
    message_ts: Mapped[str | None] = mapped_column(String(32), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    claim_token: Mapped[str | None] = mapped_column(String(64), nullable=True)
    first_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    posted_ts: Mapped[str | None] = mapped_column(String(32), nullable=True)
    dm_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class OutboxCall(Base):
    """A Slack call that failed while Slack was unavailable, kept until it goes through.

    ``key`` names calls where only the newest matters (a header edit): parking a call
    with the same key replaces the older one. ``incident_id`` is the call's lane: the
    calls of one incident go out in the order they were made. ``after`` names a step
    the lifecycle code runs once the call went through (recording a posted header's ts
    and pinning it); ``result`` holds Slack's answer until that step has run.
    """

    __tablename__ = "slack_outbox"
    __table_args__ = (
        Index("ix_slack_outbox_next_try", "next_try_at"),
        Index("ix_slack_outbox_incident", "incident_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(64))
    args: Mapped[str] = mapped_column(Text)
    key: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")
    incident_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), nullable=True
    )
    after: Mapped[str | None] = mapped_column(String(40), nullable=True)
    result: Mapped[str | None] = mapped_column(Text, nullable=True)
    context: Mapped[str | None] = mapped_column(Text, nullable=True)
    """What the ``after`` step needs to know beyond the call itself (JSON), e.g. which
    customer a message was for; never sent to Slack."""


class PlaybookReview(Base):
    """A playbook's review, by playbook name (playbooks live in files, not here).

    ``reviewed_for`` is the ``review_by`` date the review answered: a later date in the
    file makes the playbook due again. ``last_reminded_at`` is when its owner was last
    reminded; a replica claims the weekly reminder by moving it (compare and swap)."""

    __tablename__ = "playbook_reviews"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    reviewed_for: Mapped[date | None] = mapped_column(Date, nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    last_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class CustomerLink(Base):
    """A customer's private page link (``/c/<token>``), one per customer name in a
    workspace, for all of that customer's incidents. The token is kept as issued so the
    same link can be sent again with every update; revoking it sets ``revoked_at`` and the
    next link issued is a new token."""

    __tablename__ = "customer_links"
    __table_args__ = (
        Index(
            "uq_customer_links_live",
            "team_id",
            "name_key",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )
    """At most one live link per customer: two people asking at once get the same one."""

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    name_key: Mapped[str] = mapped_column(String(200))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(32), nullable=True)


class SeenRequest(Base):
    """Events API deliveries already applied (keyed by event), so Slack's redelivery of
    an event (``X-Slack-Retry-Num``, ``retry_attempt``) is not applied twice. Rows older
    than a few minutes are pruned."""

    __tablename__ = "seen_requests"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


SLACK_INSTALLATIONS = SQLAlchemyInstallationStore.build_installations_table(
    Base.metadata, "slack_installations"
)
SLACK_BOTS = SQLAlchemyInstallationStore.build_bots_table(Base.metadata, "slack_bots")
SLACK_OAUTH_STATES = SQLAlchemyOAuthStateStore.build_oauth_states_table(
    Base.metadata, "slack_oauth_states"
)
"""Bolt's OAuth installation and state stores, kept in the same database (their schema
is slack-sdk's; migration 0004 creates it)."""
